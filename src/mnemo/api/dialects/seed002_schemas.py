"""Seed 002 (mem0-style) bodies: the {success, data} envelope, the memory object, requests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Generic, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, JsonValue

from mnemo.models import Memory, MemoryStatus, MemoryType, utcnow

T = TypeVar("T")

Event = Literal["ADD", "UPDATE", "NONE", "DELETE"]


def iso(moment: datetime) -> str:
    """ISO-8601 in UTC with a Z, as the document writes its timestamps."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Envelope(BaseModel, Generic[T]):
    """Every successful answer: {success, data, message, timestamp}."""

    success: Literal[True] = True
    data: T
    message: str
    timestamp: str


def envelope(data: T, message: str) -> Envelope[T]:
    return Envelope(data=data, message=message, timestamp=iso(utcnow()))


class ErrorOut(BaseModel):
    code: str
    message: str
    details: dict[str, JsonValue]


class ErrorEnvelope(BaseModel):
    """Every failure: {success: false, error: {code, message, details}, timestamp}."""

    success: Literal[False] = False
    error: ErrorOut
    timestamp: str


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str = Field(min_length=1, max_length=64)
    content: str = Field(min_length=1)


class AddMemoryIn(BaseModel):
    """POST /v1/memories; mem0 clients send more fields (agent_id, run_id...), ignored here."""

    model_config = ConfigDict(extra="ignore")

    messages: list[MessageIn] = Field(min_length=1)
    user_id: str | None = Field(None, min_length=1, max_length=256)
    metadata: dict[str, JsonValue] | None = None


class UpdateMemoryIn(BaseModel):
    """PUT /v1/memories/{id}: new content (alias text or memory) and/or metadata to merge."""

    model_config = ConfigDict(extra="ignore")

    content: str | None = Field(
        None, min_length=1, validation_alias=AliasChoices("content", "text", "memory")
    )
    metadata: dict[str, JsonValue] | None = None


class Relationship(BaseModel):
    type: Literal["mentions"] = "mentions"
    entity: str
    confidence: float = Field(
        description="1.0 when the entity is written in the content, 0.5 when it was recorded "
        "for the memory (by the extractor or a client) but is not written in it"
    )


class MemoryOut(BaseModel):
    """The document's memory object, plus memory_type, status, created_at and updated_at."""

    id: str
    content: str
    user_id: str | None
    metadata: dict[str, JsonValue] = Field(
        description="The stored metadata plus the documented source, timestamp (created) "
        "and entities"
    )
    embedding: list[float] | None = Field(
        None,
        exclude_if=lambda value: value is None,
        description="Only with ?include_embedding=true: 384 floats are too many to send always",
    )
    relationships: list[Relationship]
    memory_type: MemoryType
    status: MemoryStatus = Field(description="superseded and forgotten memories stay readable")
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, memory: Memory, embedding: list[float] | None = None) -> MemoryOut:
        return cls.model_validate(memory_fields(memory, embedding))


class ScoredMemoryOut(MemoryOut):
    score: float


class AddedMemoryOut(MemoryOut):
    event: Event = Field(
        description="mem0's events: ADD new, UPDATE supersedes an older memory (kept in "
        "history), NONE already known, DELETE a memory this message retracted"
    )
    supersedes: str | None = Field(description="On UPDATE: the id of the memory replaced")


def memory_fields(memory: Memory, embedding: list[float] | None) -> dict[str, object]:
    default_source = "session" if memory.memory_type is MemoryType.MESSAGE else "api"
    metadata: dict[str, JsonValue] = {
        **memory.metadata,
        "source": memory.metadata.get("source") or default_source,
        "timestamp": iso(memory.created_at),
        "entities": list(memory.entities),
    }
    lowered = memory.text.lower()
    return {
        "id": memory.id,
        "content": memory.text,
        "user_id": memory.user_id,
        "metadata": metadata,
        "embedding": embedding,
        "relationships": [
            Relationship(entity=e, confidence=1.0 if e.lower() in lowered else 0.5)
            for e in memory.entities
        ],
        "memory_type": memory.memory_type,
        "status": memory.status,
        "supersedes": memory.supersedes,
        "created_at": iso(memory.created_at),
        "updated_at": iso(memory.updated_at),
    }


class AddedOut(BaseModel):
    memories: list[AddedMemoryOut]


class MemoryPageOut(BaseModel):
    """A page of memories: `total` counts them all, `next_offset` is None on the last page."""

    memories: list[MemoryOut]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class SearchOut(BaseModel):
    memories: list[ScoredMemoryOut]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class DeletedOut(BaseModel):
    id: str
    deleted: bool


class MemoryCountsOut(BaseModel):
    """Active memories by type, in `namespace` (None: every namespace, for an operator key)."""

    namespace: str | None
    total: int
    by_type: dict[str, int]


class DatabaseOut(BaseModel):
    status: Literal["connected", "disconnected"]
    backend: Literal["sqlite", "postgresql"]


class EmbeddingOut(BaseModel):
    model: str
    dimension: int


class LLMOut(BaseModel):
    mode: Literal["llm", "offline"]
    model: str | None


class StatusOut(BaseModel):
    status: Literal["healthy", "unhealthy"]
    version: str
    uptime_seconds: float
    database: DatabaseOut
    embedding: EmbeddingOut
    llm: LLMOut
    memories: MemoryCountsOut | None = Field(description="None while the database is down")


class QueryCacheOut(BaseModel):
    """The embedder's query cache, process-wide (shared by every namespace)."""

    hits: int
    misses: int
    hit_rate: float | None
    size: int
    capacity: int


class MetricsOut(BaseModel):
    """What mnemo measures today; request counts and latencies come with issue 7's /metrics."""

    uptime_seconds: float
    memories: MemoryCountsOut
    sessions: int
    query_cache: QueryCacheOut
