"""Fact extractors: offline heuristics by default, any OpenAI-compatible LLM when configured."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from mnemo.extraction.facts import ExtractedFact, SourceMessage
from mnemo.extraction.offline import extract_facts
from mnemo.llms.base import LLM
from mnemo.llms.prompts import ExtractionOutput, FactOut, extraction_messages
from mnemo.llms.usage import Usage


@dataclass(frozen=True)
class Extraction:
    facts: list[ExtractedFact]
    usage: Usage


class FactExtractor(Protocol):
    """Turns new conversation turns into standalone facts."""

    name: str

    async def extract(self, messages: Sequence[SourceMessage]) -> Extraction: ...


class OfflineExtractor:
    """Deterministic heuristics; thousands of turns a second, no network."""

    name = "offline"

    async def extract(self, messages: Sequence[SourceMessage]) -> Extraction:
        return Extraction(extract_facts(messages), Usage())


class LLMExtractor:
    """One LLM call per batch of turns; output schema-checked, invented source ids dropped."""

    name = "llm"

    def __init__(self, llm: LLM) -> None:
        self._llm = llm

    async def extract(self, messages: Sequence[SourceMessage]) -> Extraction:
        if not messages:
            return Extraction([], Usage())
        today = max(m.created_at for m in messages).date()
        prompt = extraction_messages(list(messages), today=today)
        result = await self._llm.complete_json(prompt, ExtractionOutput, purpose="extraction")
        known = {m.id for m in messages}
        fallback = (messages[-1].id,)
        facts = [_fact(f, known, fallback) for f in result.value.facts]
        return Extraction(facts, result.usage)


def _fact(out: FactOut, known: set[str], fallback: tuple[str, ...]) -> ExtractedFact:
    sources = tuple(i for i in out.source_message_ids if i in known) or fallback
    return ExtractedFact(
        text=out.text.strip(),
        memory_type=out.memory_type,
        topics=tuple(out.topics),
        entities=tuple(out.entities),
        importance=out.importance,
        event_date=_parse_day(out.event_date),
        slot=None,
        source_message_ids=sources,
    )


def _parse_day(value: str | None) -> datetime | None:
    if not value:
        return None
    day = date.fromisoformat(value[:10])
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
