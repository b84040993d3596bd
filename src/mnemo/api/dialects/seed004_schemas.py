"""Request and response bodies of seed 004 (OmniMemory), field for field as documented."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from mnemo.api.schemas import Moment
from mnemo.models import Memory

MIN_ID_LENGTH = 10  # the document: every app_id, user_id and session_id has 10+ characters
# app_id, user_id and session_id; shorter ones are 400 Bad Request.
Identifier = Annotated[str, Field(min_length=MIN_ID_LENGTH, max_length=256)]
MAX_CALLBACK_HEADERS = 20
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110 token)
# Headers mnemo sets on a callback itself; a client's must not replace or duplicate them.
_RESERVED_HEADERS = frozenset({
    "host", "content-type", "content-length", "transfer-encoding", "connection", "user-agent",
    "te", "trailer", "upgrade", "keep-alive", "proxy-authorization", "expect",
})  # fmt: skip

# The server behind the document was FastAPI with plain pydantic models, which ignore unknown
# fields; its clients may rely on that, so these bodies do too.
_LENIENT = ConfigDict(extra="ignore")


class MessageIn(BaseModel):
    """A turn. The document lists `timestamp` as required but its examples leave it out, so it
    is optional (ISO-8601 or epoch seconds); a turn without one is dated when it arrives."""

    model_config = _LENIENT

    role: str = Field(min_length=1, max_length=64)
    content: str = Field(min_length=1)
    timestamp: Moment | None = None


class BatcherMessageIn(MessageIn):
    role: Literal["user", "assistant", "system"]


class Conversation(BaseModel):
    """Whose messages: the app (mnemo's namespace), the user, and optionally the session."""

    model_config = _LENIENT

    app_id: Identifier
    user_id: Identifier
    session_id: Identifier | None = None


class AddMemoryIn(Conversation):
    messages: list[MessageIn] = Field(min_length=1)


class BatcherMessagesIn(Conversation):
    messages: list[BatcherMessageIn] = Field(min_length=1)


class AgentMemoryIn(Conversation):
    messages: Annotated[str, Field(min_length=1)] | Annotated[list[MessageIn], Field(min_length=1)]


class SummaryIn(AgentMemoryIn):
    callback_url: str | None = Field(None, min_length=1, max_length=2048)
    callback_headers: dict[str, str] | None = None
    # mnemo's addition: the HMAC key of X-Mnemo-Signature; generated (and returned) when absent.
    callback_secret: str | None = Field(None, min_length=1, max_length=256)

    @field_validator("callback_headers")
    @classmethod
    def _check_headers(cls, headers: dict[str, str] | None) -> dict[str, str] | None:
        if headers is None:
            return None
        if len(headers) > MAX_CALLBACK_HEADERS:
            raise ValueError(f"at most {MAX_CALLBACK_HEADERS} callback headers")
        for name, value in headers.items():
            lowered = name.lower()
            if not _TOKEN.match(name) or lowered in _RESERVED_HEADERS:
                raise ValueError(f"{name!r} cannot be set as a callback header")
            if lowered.startswith("x-mnemo-"):
                raise ValueError(f"{name!r}: X-Mnemo-* headers are set by mnemo")
            if "\r" in value or "\n" in value or len(value) > 4096:
                raise ValueError(f"the value of callback header {name!r} is not allowed")
        return headers


class AcceptedOut(BaseModel):
    """202 of POST /api/v1/memories: the task that will create the memories."""

    task_id: str
    status: Literal["accepted"] = "accepted"
    message: str
    app_id: str
    user_id: str
    session_id: str | None
    error: None = None
    result: None = None


class AgentAcceptedOut(BaseModel):
    task_id: str
    status: Literal["accepted"] = "accepted"
    message: str
    app_id: str
    user_id: str
    session_id: str | None


class SummaryAcceptedOut(AgentAcceptedOut):
    callback_url: str
    callback_secret: str  # the key of X-Mnemo-Signature; shown once, now


class SummaryOut(BaseModel):
    summary: str
    app_id: str
    user_id: str
    session_id: str | None
    message_count: int


class BatcherOut(BaseModel):
    app_id: str
    user_id: str
    session_id: str | None
    pending_messages: int
    batch_size: int
    status: Literal["pending", "flushed"]
    last_delivery: Literal["add_memory"] | None
    # mnemo's troubleshooting details: the tasks this request queued, and the last flush.
    task_ids: list[str]
    last_delivery_task_id: str | None
    last_delivery_at: str | None


class MemoryOut(BaseModel):
    memory_id: str
    document: str
    metadata: dict[str, JsonValue]

    @classmethod
    def of(cls, memory: Memory) -> MemoryOut:
        return cls(memory_id=memory.id, document=memory.text, metadata=memory_metadata(memory))


class ScoredMemoryOut(BaseModel):
    memory_id: str  # mnemo's addition (also in metadata), to get, delete or trace the memory
    document: str
    metadata: dict[str, JsonValue]
    composite_score: float
    similarity_score: float
    recency_score: float
    importance_score: float
    query_status: Literal["completed"] = "completed"


class QueryOut(BaseModel):
    memories: list[ScoredMemoryOut]
    count: int


class DeletedOut(BaseModel):
    success: bool
    message: str
    data: None = None


class EvolutionOut(BaseModel):
    memories: list[MemoryOut]
    count: int


class PoolStatsOut(BaseModel):
    max_connections: int
    created_handlers: int
    active_handlers: int
    available_handlers: int
    initialized: bool


class EndpointsOut(BaseModel):
    docs: str
    health: str
    api: str


class ApiInfoOut(BaseModel):
    name: str
    version: str
    description: str
    endpoints: EndpointsOut


def memory_metadata(memory: Memory) -> dict[str, JsonValue]:
    """The memory's own metadata, then mnemo's fields (which win): ownership, lifecycle with
    `next_id` (the memory that superseded this one), type, importance, topics, entities."""
    return {
        **memory.metadata,
        "memory_id": memory.id,
        "app_id": memory.namespace,
        "user_id": memory.user_id,
        "session_id": memory.session_id,
        "memory_type": memory.memory_type.value,
        "status": memory.status.value,
        "next_id": memory.superseded_by,
        "previous_id": memory.supersedes,
        "created_at": iso(memory.created_at),
        "updated_at": iso(memory.updated_at),
        "last_accessed_at": iso(memory.last_accessed_at),
        "access_count": memory.access_count,
        "importance": memory.importance,
        "topics": list(memory.topics),
        "entities": list(memory.entities),
        "event_date": iso(memory.event_date) if memory.event_date else None,
    }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
