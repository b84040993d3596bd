"""Long-term memories: what you send, what the server stores, searches and remembers of it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import Field, JsonValue

from mnemo_client.models.common import Model, Usage

MemoryType = Literal["semantic", "episodic", "procedural", "message"]


class NewMemory(Model):
    """A memory to create; unset fields take the server's defaults."""

    text: str
    id: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    namespace: str | None = None
    agent_id: str | None = None
    topics: list[str] | None = None
    entities: list[str] | None = None
    memory_type: MemoryType | str | None = None
    event_date: datetime | None = None
    created_at: datetime | None = None
    extracted_from: list[str] | None = None
    metadata: dict[str, JsonValue] | None = None
    importance: float | None = None
    pinned: bool | None = None
    expires_at: datetime | None = None


class Memory(Model):
    """A stored memory. `status` is "active", "superseded" or "deleted"."""

    id: str
    text: str
    namespace: str = "default"
    session_id: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    memory_type: MemoryType | str = "semantic"
    topics: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_accessed: datetime | None = None
    persisted_at: datetime | None = None
    event_date: datetime | None = None
    expires_at: datetime | None = None
    pinned: bool = False
    access_count: int = 0
    importance: float = 0.5
    memory_hash: str | None = None
    extracted_from: list[str] = Field(default_factory=list)
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    status: str = "active"
    discrete_memory_extracted: Literal["t", "f"] | None = None
    supersedes: str | None = None
    superseded_by: str | None = None


class ScoreBreakdown(Model):
    relevance: float
    similarity: float | None = None
    keyword: float | None = None
    recency: float | None = None


class MemoryResult(Memory):
    """A search hit: `score` ranks (higher is better), `dist` is the vector distance."""

    score: float = 0.0
    dist: float = 1.0
    score_type: str = ""
    score_breakdown: ScoreBreakdown | None = None


class SearchResults(Model):
    """One page of a search; `next_offset` is None on the last page."""

    memories: list[MemoryResult]
    total: int
    next_offset: int | None = None

    def page_items(self) -> Sequence[MemoryResult]:
        return self.memories

    def following(self, offset: int) -> int | None:
        del offset  # the server says where the next page starts
        return self.next_offset


class MemoryEvent(Model):
    memory_id: str
    event: str
    old_text: str | None = None
    new_text: str | None = None
    actor: str = ""
    at: datetime
    details: dict[str, JsonValue] = Field(default_factory=dict)


class MemoryHistory(Model):
    """Every change of a memory, oldest first; `memory` is None once it is deleted for good."""

    memory: Memory | None
    events: list[MemoryEvent]


class Superseded(Model):
    old: Memory
    new: Memory


class Rejected(Model):
    fact: str
    reason: str


class ExtractionReport(Model):
    """What extracting a session's turns did to long-term memory."""

    status: str
    messages: int
    facts: int
    added: list[Memory] = Field(default_factory=list)
    merged: list[Memory] = Field(default_factory=list)
    superseded: list[Superseded] = Field(default_factory=list)
    deleted: list[Memory] = Field(default_factory=list)
    rejected: list[Rejected] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
