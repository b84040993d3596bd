"""Token usage of LLM calls, and a meter that adds it up per purpose for metrics."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# What mnemo calls an LLM for; the meter reports these even before their first call so that
# metrics always expose the same series.
PURPOSES: tuple[str, ...] = ("extraction", "consolidation", "summary", "chat")


def _count(value: object) -> int:
    # Servers differ (null, missing, floats); a bool is an int to Python but never a count.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, int(value))


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens spent by one or more chat-completion calls."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    calls: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            calls=self.calls + other.calls,
        )

    @classmethod
    def of_call(cls, usage: object) -> Usage:
        """The usage of one call, from the `usage` object of an OpenAI-style response.

        A missing or malformed `usage` still counts the call, with zero tokens, because some
        local servers omit it.
        """
        if not isinstance(usage, Mapping):
            return cls(calls=1)
        prompt = _count(usage.get("prompt_tokens"))
        completion = _count(usage.get("completion_tokens"))
        total = _count(usage.get("total_tokens")) or prompt + completion
        return cls(prompt, completion, total, calls=1)

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "calls": self.calls,
        }


class UsageMeter:
    """Running totals per purpose, safe to share between threads and asyncio tasks.

    A plain lock suffices for asyncio as well: the critical sections never await.
    """

    def __init__(self, purposes: Iterable[str] = PURPOSES) -> None:
        self._lock = threading.Lock()
        self._totals: dict[str, Usage] = {purpose: Usage() for purpose in purposes}

    def record(self, purpose: str, usage: Usage) -> None:
        with self._lock:
            self._totals[purpose] = self._totals.get(purpose, Usage()) + usage

    def usage(self, purpose: str) -> Usage:
        with self._lock:
            return self._totals.get(purpose, Usage())

    def total(self) -> Usage:
        with self._lock:
            values = list(self._totals.values())
        return sum(values, Usage())

    def snapshot(self) -> dict[str, dict[str, int]]:
        """{purpose: {prompt_tokens, completion_tokens, total_tokens, calls}}, a copy."""
        with self._lock:
            items = list(self._totals.items())
        return {purpose: usage.as_dict() for purpose, usage in items}
