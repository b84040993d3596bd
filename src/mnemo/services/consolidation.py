"""Consolidation: apply a decider's verdict per fact, keeping every change in history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import anyio.to_thread
import numpy as np
from pydantic import JsonValue

from mnemo.embedders.cache import CachedEmbedder
from mnemo.extraction.facts import ExtractedFact
from mnemo.filters import MemoryFilter, TagFilter
from mnemo.llms.usage import Usage
from mnemo.models import EventKind, Memory, MemoryEvent, MemoryStatus, MemoryType, new_id
from mnemo.services.deciders import Candidate, Decider, Decision, Verdict
from mnemo.stores.base import CandidateQuery, ChangeSet, Store, Vector, VectorRecord

DURABLE_TYPES = [MemoryType.SEMANTIC.value, MemoryType.EPISODIC.value, MemoryType.PROCEDURAL.value]


@dataclass(frozen=True)
class Owner:
    """Whose facts these are: every memory written carries this ownership."""

    namespace: str
    user_id: str | None
    session_id: str | None = None
    agent_id: str | None = None
    # The client's own metadata for what it adds (seed 002's `metadata`), kept on each new memory.
    metadata: dict[str, JsonValue] = field(default_factory=dict, hash=False)


@dataclass
class ConsolidationReport:
    added: list[Memory] = field(default_factory=list)
    merged: list[Memory] = field(default_factory=list)
    superseded: list[tuple[Memory, Memory]] = field(default_factory=list)  # (old, new)
    deleted: list[Memory] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (fact text, reason)
    usage: Usage = field(default_factory=Usage)


class Consolidator:
    def __init__(
        self, store: Store, embedder: CachedEmbedder, decider: Decider, actor: str
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._decider = decider
        self._actor = actor

    async def consolidate(
        self, owner: Owner, facts: Sequence[ExtractedFact], now: datetime, today: date
    ) -> ConsolidationReport:
        """Facts are applied in order, so a later fact sees what an earlier one wrote."""
        report = ConsolidationReport()
        if not facts:
            return report
        vectors = await anyio.to_thread.run_sync(self._embedder.embed, [f.text for f in facts])
        for fact, vector in zip(facts, vectors, strict=True):
            candidates = await self._candidates(owner, fact, vector, now)
            decision = await self._decider.decide(fact, candidates, today)
            report.usage = report.usage + decision.usage
            await self._apply(owner, fact, vector, decision, now, report)
        return report

    async def _candidates(
        self, owner: Owner, fact: ExtractedFact, vector: Vector, now: datetime
    ) -> list[Candidate]:
        scope = MemoryFilter(
            namespace=TagFilter(eq=owner.namespace),
            user_id=TagFilter(eq=owner.user_id) if owner.user_id else None,
            memory_type=TagFilter(any=DURABLE_TYPES),
        )
        found = await self._store.find_candidates(
            CandidateQuery(scope, now, vector=np.asarray(vector), vector_limit=5)
        )
        memories = await self._store.get_memories(owner.namespace, [k[1] for k in found.vector])
        candidates = [Candidate(m, found.vector.get((m.namespace, m.id))) for m in memories]
        candidates.sort(key=lambda c: c.similarity or 0.0, reverse=True)
        if fact.slot:
            slotted = scope.model_copy(update={"metadata": {"slot": fact.slot}})
            seen = {c.memory.id for c in candidates}
            page = await self._store.list_memories(slotted, now, limit=5, offset=0)
            candidates += [Candidate(m, None) for m in page.items if m.id not in seen]
        return candidates

    async def _apply(
        self,
        owner: Owner,
        fact: ExtractedFact,
        vector: Vector,
        decision: Decision,
        now: datetime,
        report: ConsolidationReport,
    ) -> None:
        target = decision.target
        if decision.verdict is Verdict.REJECT:
            report.rejected.append((fact.text, decision.reason))
        elif decision.verdict is Verdict.ADD or target is None:
            memory = self._new_memory(owner, fact, fact.text, now)
            await self._write(
                [VectorRecord(memory, vector)], [], [self._event(memory, EventKind.ADD, now)]
            )
            report.added.append(memory)
        elif decision.verdict is Verdict.NOOP:
            merged = _merge(target, fact, now)
            details: dict[str, object] = {
                "sources": list(fact.source_message_ids),
                "reason": decision.reason,
            }
            await self._write([], [merged], [self._event(merged, EventKind.MERGE, now, details)])
            report.merged.append(merged)
        elif decision.verdict is Verdict.UPDATE:
            await self._supersede(owner, fact, vector, decision, target, now, report)
        else:
            gone = target.model_copy(update={"status": MemoryStatus.FORGOTTEN, "updated_at": now})
            event = self._event(gone, EventKind.DELETE, now, {"reason": decision.reason})
            event.old_text = target.text
            await self._write([], [gone], [event])
            report.deleted.append(gone)

    async def _supersede(
        self,
        owner: Owner,
        fact: ExtractedFact,
        vector: Vector,
        decision: Decision,
        old: Memory,
        now: datetime,
        report: ConsolidationReport,
    ) -> None:
        text = decision.text or fact.text
        if text != fact.text:
            vector = (await anyio.to_thread.run_sync(self._embedder.embed, [text]))[0]
        new = self._new_memory(owner, fact, text, now)
        new.supersedes = old.id
        retired = old.model_copy(
            update={"status": MemoryStatus.SUPERSEDED, "superseded_by": new.id, "updated_at": now}
        )
        events = [
            self._event(
                retired,
                EventKind.SUPERSEDE,
                now,
                {"superseded_by": new.id, "reason": decision.reason},
            ),
            self._event(new, EventKind.ADD, now, {"supersedes": old.id}),
        ]
        events[0].old_text, events[0].new_text = old.text, text
        await self._write([VectorRecord(new, vector)], [retired], events)
        report.superseded.append((retired, new))

    async def _write(
        self, inserts: list[VectorRecord], updates: list[Memory], events: list[MemoryEvent]
    ) -> None:
        await self._store.write_changes(ChangeSet(inserts, updates, events))

    def _new_memory(self, owner: Owner, fact: ExtractedFact, text: str, now: datetime) -> Memory:
        metadata: dict[str, object] = {
            "source": "extraction",
            **owner.metadata,
            "extractor": self._actor,
        }
        if fact.slot:
            metadata["slot"] = fact.slot
        return Memory(
            id=new_id(), namespace=owner.namespace, user_id=owner.user_id,
            session_id=owner.session_id, agent_id=owner.agent_id, text=text,
            memory_type=MemoryType(fact.memory_type), topics=list(fact.topics),
            entities=list(fact.entities), importance=fact.importance, event_date=fact.event_date,
            created_at=now, updated_at=now, last_accessed_at=now,
            extracted_from=list(fact.source_message_ids), metadata=metadata,
        ).with_hash()  # fmt: skip

    def _event(
        self,
        memory: Memory,
        kind: EventKind,
        now: datetime,
        details: dict[str, object] | None = None,
    ) -> MemoryEvent:
        return MemoryEvent(
            memory_id=memory.id, namespace=memory.namespace, event=kind,
            new_text=memory.text if kind is EventKind.ADD else None, actor=self._actor, at=now,
            details=details or {},
        )  # fmt: skip


def _merge(target: Memory, fact: ExtractedFact, now: datetime) -> Memory:
    """A repeat strengthens what is known: more sources, more mentions, never a copy."""
    sources = list(dict.fromkeys([*target.extracted_from, *fact.source_message_ids]))
    return target.model_copy(
        update={
            "extracted_from": sources,
            "importance": max(target.importance, fact.importance),
            "updated_at": now,
        }
    )
