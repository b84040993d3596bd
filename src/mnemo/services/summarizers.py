"""Summarizers: extractive offline by default, progressive LLM summaries when configured."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from mnemo.extraction.summarize import summarize
from mnemo.llms.base import LLM, ChatMessage
from mnemo.llms.usage import Usage

PROGRESSIVE_PROMPT = (
    "Progressively summarize the conversation lines, building on the previous summary. "
    "Keep names, dates, decisions, preferences and open questions; drop pleasantries. "
    "Answer with the new summary only, at most {sentences} sentences."
)


@dataclass(frozen=True)
class Summary:
    text: str
    usage: Usage


class Summarizer(Protocol):
    async def summarize(
        self, lines: Sequence[str], previous: str | None = None, max_sentences: int = 6
    ) -> Summary: ...


class OfflineSummarizer:
    """Sentence selection by centrality and novelty; deterministic, no network."""

    async def summarize(
        self, lines: Sequence[str], previous: str | None = None, max_sentences: int = 6
    ) -> Summary:
        return Summary(summarize(lines, max_sentences=max_sentences, previous=previous), Usage())


class LLMSummarizer:
    def __init__(self, llm: LLM) -> None:
        self._llm = llm

    async def summarize(
        self, lines: Sequence[str], previous: str | None = None, max_sentences: int = 6
    ) -> Summary:
        body = f"Previous summary:\n{previous or '(none)'}\n\nNew lines:\n" + "\n".join(lines)
        messages: list[ChatMessage] = [
            {"role": "system", "content": PROGRESSIVE_PROMPT.format(sentences=max_sentences)},
            {"role": "user", "content": body},
        ]
        result = await self._llm.complete_text(messages, purpose="summary")
        text = result.value.strip()
        return Summary((previous or "") if text.upper() == "NONE" else text, result.usage)
