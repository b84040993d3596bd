"""Token counting offline, and the context windows of common models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_CONTEXT_WINDOW = 16_000
SUMMARIZATION_THRESHOLD = 0.7
KEEP_FRACTION = 0.4

# Context windows (tokens) of models clients commonly name in `model_name`.
CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-3.5-turbo": 16_385,
    "gpt-3.5-turbo-16k": 16_385,
    "gpt-4": 8_192,
    "gpt-4-32k": 32_768,
    "gpt-4o": 128_000,
    "gpt-4o-mini": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.1-mini": 1_047_576,
    "o1": 200_000,
    "o1-mini": 128_000,
    "o3-mini": 200_000,
    "gpt-5": 400_000,
    "gpt-5-mini": 400_000,
    "gpt-5-nano": 400_000,
    "claude-3-opus-20240229": 200_000,
    "claude-3-sonnet-20240229": 200_000,
    "claude-3-haiku-20240307": 200_000,
    "claude-3-5-sonnet-20240620": 200_000,
    "claude-3-5-sonnet-20241022": 200_000,
    "claude-3-5-haiku-20241022": 200_000,
    "claude-3-7-sonnet-20250219": 200_000,
    "claude-3-7-sonnet-latest": 200_000,
    "claude-3-5-sonnet-latest": 200_000,
    "claude-3-5-haiku-latest": 200_000,
    "claude-3-opus-latest": 200_000,
    "llama3": 8_192,
    "llama3.1": 128_000,
    "mistral": 32_768,
    "qwen2.5": 32_768,
}


def context_window(model_name: str | None, context_window_max: int | None) -> int:
    """context_window_max wins, then the model's known window, then 16k."""
    if context_window_max:
        return context_window_max
    if model_name:
        return CONTEXT_WINDOWS.get(
            model_name, CONTEXT_WINDOWS.get(model_name.split(":")[0], DEFAULT_CONTEXT_WINDOW)
        )
    return DEFAULT_CONTEXT_WINDOW


def estimate_tokens(text: str) -> int:
    """Calibrated fallback: about four characters a token for English prose."""
    return max(1, (len(text) + 3) // 4) if text else 0


@dataclass(frozen=True)
class TokenCounter:
    """Counts tokens with a real tokenizer when one is at hand, else by estimate."""

    count: Callable[[str], int] = estimate_tokens

    def message_tokens(self, role: str, content: str) -> int:
        return self.count(f"{role}: {content}")


@dataclass(frozen=True)
class ContextUsage:
    total_percent: float
    until_summarization_percent: float


def context_usage(tokens: int, window: int) -> ContextUsage:
    total = min(100.0, 100.0 * tokens / window) if window else 0.0
    threshold = window * SUMMARIZATION_THRESHOLD
    until = min(100.0, 100.0 * tokens / threshold) if threshold else 0.0
    return ContextUsage(round(total, 2), round(until, 2))
