"""Working memory and conversations: messages, sessions, chat replies, summaries, prompts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import Field, JsonValue

from mnemo_client.models.common import Model, Usage, next_offset_of
from mnemo_client.models.memories import MemoryResult


class Message(Model):
    """A conversation turn. Send role and content (and created_at); the server fills the rest."""

    role: str
    content: str
    id: str | None = None
    created_at: datetime | None = None
    metadata: dict[str, JsonValue] | None = None
    persisted_at: datetime | None = None
    discrete_memory_extracted: Literal["t", "f"] | None = None

    @property
    def is_extracted(self) -> bool:
        return self.discrete_memory_extracted == "t"


class WorkingMemory(Model):
    """A session's working memory. `extraction_task_id` names the task extracting new turns."""

    session_id: str
    namespace: str = "default"
    user_id: str | None = None
    messages: list[Message] = Field(default_factory=list)
    memories: list[JsonValue] = Field(default_factory=list)
    data: dict[str, JsonValue] | None = None
    context: str | None = None
    tokens: int = 0
    long_term_memory_strategy: dict[str, JsonValue] = Field(default_factory=dict)
    ttl_seconds: int | None = None
    last_accessed: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    context_percentage_total_used: float | None = None
    context_percentage_until_summarization: float | None = None
    extraction_task_id: str | None = None


class SessionList(Model):
    """One page of session ids; `total` counts them all."""

    sessions: list[str]
    total: int

    def page_items(self) -> Sequence[str]:
        return self.sessions

    def following(self, offset: int) -> int | None:
        return next_offset_of(offset, len(self.sessions), self.total)


class ChatReply(Model):
    response: str
    session_id: str
    user_id: str | None = None
    relevant_context_count: int = 0
    memories: list[MemoryResult] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)


class Summary(Model):
    summary: str
    message_count: int
    session_id: str | None = None
    usage: Usage = Field(default_factory=Usage)


class MemoryPrompt(Model):
    """Messages ready for an LLM: the session's context and turns, the relevant memories."""

    messages: list[dict[str, JsonValue]]
    long_term_memories: list[MemoryResult] | None = None
