"""Patterns (seed 003): standing instructions and repeated preferences among the memories."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import JsonValue

from mnemo.auth.access import resolve_namespace
from mnemo.errors import MemoryNotFoundError, NotFoundError
from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import EventKind, Memory, MemoryStatus, MemoryType, Principal
from mnemo.services.consolidation import ConsolidationReport
from mnemo.services.events import memory_event_data
from mnemo.services.memories import MemoryService
from mnemo.stores.base import Page, Store

# The rule. A pattern is an active memory that is either
#   - procedural (a standing instruction: "always answer in French"): the user stated a rule,
#     so one statement is enough; or
#   - a preference (topic "preference"/"preferences") that the user expressed in at least
#     REPEATS_FOR_A_PATTERN distinct turns: consolidation merges a repeated preference into
#     one memory and adds each turn to its `extracted_from`.
# A memory *becomes* a pattern (the "pattern.detected" event) when an extraction run adds a
# procedural memory (new, or superseding an older instruction) or brings a preference to its
# second source turn. Deleting a pattern deletes its memory; the history is kept.
REPEATS_FOR_A_PATTERN = 2
PREFERENCE_TOPICS = ("preference", "preferences")
_GENERIC_TOPICS = {"instructions", "instruction", *PREFERENCE_TOPICS}
_CONDITION = re.compile(r"\b(?:when|whenever|if)\s+(?P<clause>[^,;.!?]+)", re.IGNORECASE)
_SCAN_PAGE = 500
SCAN_LIMIT = 20_000  # memories read per kind to list patterns; far above a real namespace's


class PatternKind(StrEnum):
    INSTRUCTION = "instruction"
    PREFERENCE = "preference"


@dataclass(frozen=True)
class Trigger:
    """When a pattern applies, in MemoryKit's terms: Keyword, Regex or Semantic."""

    type: str
    pattern: str


@dataclass(frozen=True)
class Pattern:
    memory: Memory
    kind: PatternKind
    name: str
    triggers: list[Trigger]
    occurrences: int  # turns the user expressed it in (1 for a rule stated once)
    usage_count: int  # occurrences + times it was recalled by a search
    last_used_at: datetime

    @property
    def id(self) -> str:
        return self.memory.id


def kind_of(memory: Memory) -> PatternKind | None:
    """The kind of pattern this memory is, or None if it is not one (see the rule above)."""
    if memory.status is not MemoryStatus.ACTIVE:
        return None
    if memory.memory_type is MemoryType.PROCEDURAL:
        return PatternKind.INSTRUCTION
    is_preference = any(t.lower() in PREFERENCE_TOPICS for t in memory.topics)
    if is_preference and _occurrences(memory) >= REPEATS_FOR_A_PATTERN:
        return PatternKind.PREFERENCE
    return None


def pattern_of(memory: Memory) -> Pattern | None:
    kind = kind_of(memory)
    if kind is None:
        return None
    occurrences = max(1, _occurrences(memory))
    return Pattern(
        memory=memory,
        kind=kind,
        name=_name(memory, kind),
        triggers=_triggers(memory),
        occurrences=occurrences,
        usage_count=occurrences + memory.access_count,
        last_used_at=max(memory.last_accessed_at, memory.updated_at),
    )


def pattern_event_data(pattern: Pattern) -> dict[str, JsonValue]:
    """The "pattern.detected" payload: the memory's usual fields and the pattern's own."""
    return {
        **memory_event_data(pattern.memory),
        "pattern_id": pattern.id,
        "kind": pattern.kind.value,
        "name": pattern.name,
        "description": pattern.memory.text,
        "triggers": [{"type": t.type, "pattern": t.pattern} for t in pattern.triggers],
        "occurrences": pattern.occurrences,
        "usage_count": pattern.usage_count,
    }


class PatternService:
    def __init__(self, memories: MemoryService, store: Store, default_namespace: str) -> None:
        self._memories = memories
        self._store = store
        self._default_namespace = default_namespace

    async def list_patterns(
        self,
        who: Principal,
        namespace: str | None,
        user_id: str | None,
        limit: int,
        offset: int,
    ) -> Page[Pattern]:
        """The caller's patterns, most recently used first."""
        ns = resolve_namespace(who, namespace, self._default_namespace)
        scope = MemoryFilter(
            namespace=TagFilter(eq=ns), user_id=TagFilter(eq=user_id) if user_id else None
        )
        rules = scope.model_copy(update={"memory_type": TagFilter(eq=MemoryType.PROCEDURAL.value)})
        liked = scope.model_copy(
            update={
                "memory_type": TagFilter(
                    any=[MemoryType.SEMANTIC.value, MemoryType.EPISODIC.value]
                ),
                "topics": TagFilter(any=list(PREFERENCE_TOPICS)),
            }
        )
        memories = [*await self._scan(who, rules), *await self._scan(who, liked)]
        found = [p for p in map(pattern_of, memories) if p is not None]
        found.sort(key=lambda p: (p.last_used_at, p.id), reverse=True)
        return Page(found[offset : offset + limit], len(found))

    async def delete_pattern(self, who: Principal, pattern_id: str, namespace: str | None) -> None:
        """Delete the pattern's memory through the memory service (its history is kept)."""
        ns = resolve_namespace(who, namespace, self._default_namespace)
        try:
            memory = await self._memories.get(who, pattern_id, ns)
        except MemoryNotFoundError:
            memory = None
        if memory is None or kind_of(memory) is None:
            raise NotFoundError(f"Pattern '{pattern_id}' not found")
        await self._memories.delete(who, [pattern_id], memory.namespace)

    async def detect(self, namespace: str, report: ConsolidationReport) -> list[Pattern]:
        """The memories an extraction run turned into patterns (each once)."""
        fresh = {m.id for m in report.added} | {new.id for _old, new in report.superseded}
        gone = {old.id for old, _new in report.superseded} | {m.id for m in report.deleted}
        latest = {m.id: m for m in report.added} | {new.id: new for _, new in report.superseded}
        merges: Counter[str] = Counter()
        for memory in report.merged:  # in order: the last copy is the memory's final state
            latest[memory.id] = memory
            merges[memory.id] += 1
        detected = []
        for memory_id, memory in latest.items():
            pattern = None if memory_id in gone else pattern_of(memory)
            if pattern is None:
                continue
            if memory_id in fresh or not await self._was_pattern(namespace, memory, merges):
                detected.append(pattern)
        return detected

    async def _was_pattern(self, namespace: str, memory: Memory, merges: Counter[str]) -> bool:
        """Was this merged memory a pattern before this run's merges into it?"""
        if memory.memory_type is MemoryType.PROCEDURAL:
            return True  # an instruction is a pattern from its first statement
        history = await self._store.history(namespace, memory.id)
        this_run = [e for e in history if e.event is EventKind.MERGE][-merges[memory.id] :]
        added: set[str] = set()
        for event in this_run:
            sources = event.details.get("sources")
            if isinstance(sources, list):
                added.update(str(s) for s in sources)
        before = set(memory.extracted_from) - added
        return len(before) >= REPEATS_FOR_A_PATTERN

    async def _scan(self, who: Principal, memory_filter: MemoryFilter) -> list[Memory]:
        found: list[Memory] = []
        while len(found) < SCAN_LIMIT:
            page = await self._memories.list_memories(who, memory_filter, _SCAN_PAGE, len(found))
            found += page.items
            if not page.items or len(found) >= page.total:
                break
        return found


def _occurrences(memory: Memory) -> int:
    return len(set(memory.extracted_from))


def _name(memory: Memory, kind: PatternKind) -> str:
    """ "Language Instruction", "Hot Drink Preference": the matter, then the kind."""
    given = memory.metadata.get("name")
    if isinstance(given, str) and given.strip():
        return given.strip()
    slot = memory.metadata.get("slot")
    topics = [t for t in memory.topics if t.lower() not in _GENERIC_TOPICS]
    if isinstance(slot, str) and slot.count(":") >= 2:
        matter = slot.rsplit(":", 1)[1]
    elif topics:
        matter = topics[0]
    elif memory.entities:
        matter = memory.entities[0]
    else:
        matter = "general"
    words = matter.replace("_", " ").replace("-", " ").split()
    return " ".join(w[:1].upper() + w[1:] for w in words) + f" {kind.value.title()}"


def _triggers(memory: Memory) -> list[Trigger]:
    """Triggers stored with the memory (metadata "triggers"), or those read from it: the
    condition of the rule ("... when you write code") and the entities it names, as
    keywords, and always the text itself as a semantic trigger, which is how mnemo's
    search recalls it."""
    stored = memory.metadata.get("triggers")
    if isinstance(stored, list):
        given = [
            Trigger(str(t.get("type") or "Keyword"), str(t["pattern"]))
            for t in stored
            if isinstance(t, dict) and t.get("pattern")
        ]
        if given:
            return given
    found: list[Trigger] = []
    condition = _CONDITION.search(memory.text)
    if condition:
        found.append(Trigger("Keyword", condition.group("clause").strip()))
    found += [Trigger("Keyword", e) for e in memory.entities]
    found.append(Trigger("Semantic", memory.text))
    return list(dict.fromkeys(found))
