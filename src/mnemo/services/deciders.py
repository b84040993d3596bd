"""Consolidation deciders: is a new fact new, a repeat, a change, or a retraction?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from mnemo.extraction.facts import ExtractedFact
from mnemo.llms.base import LLM, LLMOutputError
from mnemo.llms.prompts import (
    MAX_CANDIDATES,
    consolidation_messages,
    decision_schema,
    validate_decision,
)
from mnemo.llms.usage import Usage
from mnemo.models import Memory, content_hash


class Verdict(StrEnum):
    ADD = "ADD"
    UPDATE = "UPDATE"  # the fact supersedes the target
    NOOP = "NOOP"  # already known: merge into the target
    DELETE = "DELETE"  # the fact retracts the target
    REJECT = "REJECT"  # the decision could not be trusted; nothing is written


@dataclass(frozen=True)
class Candidate:
    memory: Memory
    similarity: float | None  # None when found by slot rather than by vector


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    target: Memory | None = None
    text: str | None = None
    reason: str = ""
    usage: Usage = Usage()


class Decider(Protocol):
    async def decide(
        self, fact: ExtractedFact, candidates: list[Candidate], today: date
    ) -> Decision: ...


def _exact_twin(fact: ExtractedFact, candidates: list[Candidate]) -> Memory | None:
    wanted = content_hash(fact.text)
    return next((c.memory for c in candidates if c.memory.content_hash == wanted), None)


class OfflineDecider:
    """Exact repeats and near-duplicates merge; a new value in the same slot supersedes."""

    def __init__(self, duplicate_similarity: float = 0.92) -> None:
        self.duplicate_similarity = duplicate_similarity

    async def decide(
        self, fact: ExtractedFact, candidates: list[Candidate], today: date
    ) -> Decision:
        del today  # slots and similarity need no calendar
        twin = _exact_twin(fact, candidates)
        if twin is not None:
            return Decision(Verdict.NOOP, twin, reason="same text")
        if fact.slot:
            same_slot = [c.memory for c in candidates if c.memory.metadata.get("slot") == fact.slot]
            if same_slot:
                newest = max(same_slot, key=lambda m: m.created_at)
                return Decision(
                    Verdict.UPDATE, newest, fact.text, reason=f"new value of {fact.slot}"
                )
        for c in candidates:
            similar = c.similarity is not None and c.similarity >= self.duplicate_similarity
            if similar and c.memory.memory_type.value == fact.memory_type:
                return Decision(
                    Verdict.NOOP, c.memory, reason=f"near duplicate ({c.similarity:.3f})"
                )
        return Decision(Verdict.ADD, reason="new fact")


class LLMDecider:
    """One LLM call per fact that has neighbours; ids are shown as small integers only."""

    def __init__(self, llm: LLM) -> None:
        self._llm = llm

    async def decide(
        self, fact: ExtractedFact, candidates: list[Candidate], today: date
    ) -> Decision:
        twin = _exact_twin(fact, candidates)
        if twin is not None:
            return Decision(Verdict.NOOP, twin, reason="same text")
        if not candidates:
            return Decision(Verdict.ADD, reason="no neighbours")
        shown = [c.memory for c in candidates[:MAX_CANDIDATES]]
        prompt = consolidation_messages(fact.text, shown, today=today)
        try:
            result = await self._llm.complete_json(
                prompt, decision_schema(len(shown)), purpose="consolidation"
            )
            validate_decision(result.value, len(shown))
        except ValueError as exc:
            return Decision(Verdict.REJECT, reason=f"unusable decision: {exc}")
        except LLMOutputError as exc:  # an unreachable LLM propagates instead: retried later
            return Decision(Verdict.REJECT, reason=f"unusable decision: {exc}", usage=exc.usage)
        out = result.value
        target = shown[out.target] if out.target is not None else None
        return Decision(Verdict(out.event), target, out.text, out.reason, result.usage)
