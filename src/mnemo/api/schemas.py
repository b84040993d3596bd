"""Request and response bodies of the native API, field for field those of seed 001."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue

from mnemo.filters import NumberFilter, TagFilter
from mnemo.models import Memory, MemoryType

NonEmptyText = Annotated[str, Field(min_length=1)]


def _datetime_from_epoch(value: object) -> object:
    """Seed 001 clients send datetimes as ISO strings; epoch seconds are accepted too."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return value


Moment = Annotated[datetime, BeforeValidator(_datetime_from_epoch)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MemoryRecordIn(Strict):
    """A long-term memory as clients send it (seed 001's ClientMemoryRecord)."""

    id: str | None = Field(None, min_length=1, max_length=256)
    text: NonEmptyText
    session_id: str | None = None
    user_id: str | None = None
    namespace: str | None = None
    agent_id: str | None = None
    topics: list[str] | None = None
    entities: list[str] | None = None
    memory_type: MemoryType = MemoryType.SEMANTIC
    event_date: Moment | None = None
    created_at: Moment | None = None
    extracted_from: list[str] | None = None
    metadata: dict[str, JsonValue] | None = None
    importance: float = Field(0.5, ge=0.0, le=1.0)
    pinned: bool = False
    expires_at: Moment | None = None


class CreateMemoryRequest(Strict):
    memories: list[MemoryRecordIn] = Field(min_length=1)
    deduplicate: bool = True


class MemoryRecordOut(BaseModel):
    """A stored memory (seed 001's MemoryRecord plus mnemo's own fields)."""

    id: str
    text: str
    session_id: str | None
    user_id: str | None
    namespace: str
    agent_id: str | None = None
    last_accessed: datetime
    created_at: datetime
    updated_at: datetime
    pinned: bool
    access_count: int
    topics: list[str]
    entities: list[str]
    memory_hash: str
    discrete_memory_extracted: Literal["t", "f"] = "t"
    memory_type: MemoryType
    persisted_at: datetime
    extracted_from: list[str]
    event_date: datetime | None
    metadata: dict[str, JsonValue]
    importance: float
    status: str
    supersedes: str | None
    superseded_by: str | None
    expires_at: datetime | None

    @classmethod
    def of(cls, m: Memory) -> MemoryRecordOut:
        return cls(
            id=m.id, text=m.text, session_id=m.session_id, user_id=m.user_id,
            namespace=m.namespace, agent_id=m.agent_id, last_accessed=m.last_accessed_at,
            created_at=m.created_at, updated_at=m.updated_at, pinned=m.pinned,
            access_count=m.access_count, topics=m.topics, entities=m.entities,
            memory_hash=m.content_hash, memory_type=m.memory_type,
            discrete_memory_extracted="f" if m.memory_type is MemoryType.MESSAGE else "t",
            persisted_at=m.created_at, extracted_from=m.extracted_from, event_date=m.event_date,
            metadata=m.metadata, importance=m.importance, status=m.status.value,
            supersedes=m.supersedes, superseded_by=m.superseded_by, expires_at=m.expires_at,
        )  # fmt: skip


class ScoreBreakdown(BaseModel):
    relevance: float
    similarity: float | None
    keyword: float | None
    recency: float | None


class MemoryRecordResultOut(MemoryRecordOut):
    dist: float
    score: float
    score_type: str
    score_breakdown: ScoreBreakdown | None = None


class MemoryRecordResultsOut(BaseModel):
    memories: list[MemoryRecordResultOut]
    total: int
    next_offset: int | None = None


class AckOut(BaseModel):
    status: str


class HealthOut(BaseModel):
    now: int


class SearchRequestIn(BaseModel):
    """Seed 001's SearchRequest: text, filters, paging and recency knobs."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field("", max_length=32_768)
    search_mode: Literal["semantic", "keyword", "hybrid"] = "hybrid"
    hybrid_alpha: float | None = Field(None, ge=0.0, le=1.0)
    text_scorer: str | None = None
    session_id: TagFilter | None = None
    namespace: TagFilter | None = None
    user_id: TagFilter | None = None
    agent_id: TagFilter | None = None
    topics: TagFilter | None = None
    entities: TagFilter | None = None
    memory_type: TagFilter | None = None
    extraction_strategy: TagFilter | None = None
    created_at: NumberFilter | None = None
    last_accessed: NumberFilter | None = None
    updated_at: NumberFilter | None = None
    event_date: NumberFilter | None = None
    importance: NumberFilter | None = None
    metadata: dict[str, str | int | float | bool] | None = None
    distance_threshold: float | None = Field(None, ge=0.0, le=2.0)
    include_superseded: bool = False
    include_expired: bool = False
    explain: bool = False
    limit: int = Field(10, ge=1, le=100)
    offset: int = Field(0, ge=0, le=100_000)
    recency_boost: bool | None = None
    recency_semantic_weight: float | None = Field(None, ge=0.0)
    recency_recency_weight: float | None = Field(None, ge=0.0)
    recency_freshness_weight: float | None = Field(None, ge=0.0)
    recency_novelty_weight: float | None = Field(None, ge=0.0)
    recency_half_life_last_access_days: float | None = Field(None, gt=0.0)
    recency_half_life_created_days: float | None = Field(None, gt=0.0)
    server_side_recency: bool | None = None


class EditMemoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: NonEmptyText | None = None
    topics: list[str] | None = None
    entities: list[str] | None = None
    memory_type: MemoryType | None = None
    namespace: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    event_date: Moment | None = None
    pinned: bool | None = None
    importance: float | None = Field(None, ge=0.0, le=1.0)
    metadata: dict[str, JsonValue] | None = None


class MemoryEventOut(BaseModel):
    memory_id: str
    event: str
    old_text: str | None
    new_text: str | None
    actor: str
    at: datetime
    details: dict[str, JsonValue]


class MemoryHistoryOut(BaseModel):
    memory: MemoryRecordOut | None
    events: list[MemoryEventOut]


class MessageIn(Strict):
    role: NonEmptyText
    content: NonEmptyText
    id: str | None = Field(None, min_length=1, max_length=256)
    created_at: Moment | None = None
    metadata: dict[str, JsonValue] | None = None


class MessageOut(BaseModel):
    role: str
    content: str
    id: str
    created_at: datetime
    persisted_at: datetime | None
    discrete_memory_extracted: Literal["t", "f"]


class StrategyIn(Strict):
    strategy: Literal["discrete", "summary", "preferences", "custom"] = "discrete"
    config: dict[str, JsonValue] = Field(default_factory=dict)


class WorkingMemoryIn(Strict):
    """Seed 001's UpdateWorkingMemory."""

    messages: list[MessageIn] = Field(default_factory=list)
    memories: list[MemoryRecordIn] = Field(default_factory=list)
    data: dict[str, JsonValue] | None = None
    context: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    namespace: str | None = None
    tokens: int | None = None
    ttl_seconds: int | None = Field(None, gt=0)
    long_term_memory_strategy: StrategyIn = Field(default_factory=StrategyIn)


class WorkingMemoryOut(BaseModel):
    messages: list[MessageOut]
    memories: list[JsonValue]
    data: dict[str, JsonValue] | None
    context: str | None
    user_id: str | None
    tokens: int
    session_id: str
    namespace: str
    long_term_memory_strategy: dict[str, JsonValue]
    ttl_seconds: int | None
    last_accessed: datetime
    created_at: datetime
    updated_at: datetime
    context_percentage_total_used: float | None = None
    context_percentage_until_summarization: float | None = None
    new_session: bool | None = None
    unsaved: bool | None = None
    extraction_task_id: str | None = None


class SessionListOut(BaseModel):
    sessions: list[str]
    total: int


class PromptSessionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    session_id: NonEmptyText
    namespace: str | None = None
    user_id: str | None = None
    model_name: str | None = None
    context_window_max: int | None = Field(None, gt=0)


class MemoryPromptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: NonEmptyText
    session: PromptSessionIn | None = None
    long_term_search: SearchRequestIn | bool | None = None


class MemoryPromptOut(BaseModel):
    messages: list[dict[str, Any]]
    long_term_memories: list[MemoryRecordResultOut] | None = None
