"""Seed 003 (MemoryKit) bodies: camelCase JSON, field for field as the document shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue
from pydantic.alias_generators import to_camel

from mnemo.api.schemas import NonEmptyText

# Bodies are read and written in camelCase; snake_case names are accepted too, and unknown
# fields are ignored (MemoryKit's .NET client sends nulls and extras).
_CAMEL = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

# MemoryKit's MessageRole enum; System.Text.Json sends it as a number unless told otherwise.
ROLE_BY_NUMBER = {0: "user", 1: "assistant", 2: "system"}
ROLES = frozenset({"user", "assistant", "system", "tool"})


def _role(value: object) -> object:
    """ "user", "User", 0 -> "user": every way a MemoryKit client writes a MessageRole."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value not in ROLE_BY_NUMBER:
            raise ValueError(f"role number must be one of {sorted(ROLE_BY_NUMBER)}")
        return ROLE_BY_NUMBER[value]
    if isinstance(value, str) and value.strip().lower() in ROLES:
        return value.strip().lower()
    raise ValueError(f"role must be one of {sorted(ROLES)} (or 0, 1, 2)")


Role = Annotated[str, BeforeValidator(_role)]
Tag = Annotated[str, Field(min_length=1, max_length=128)]
Tags = Annotated[list[Tag], Field(max_length=64)]


class Camel(BaseModel):
    model_config = _CAMEL


class ErrorOut(Camel):
    """Every failure: {"error": "NOT_FOUND", "message": "...", "details": {"field": "..."}}."""

    error: str
    message: str
    details: dict[str, JsonValue]


class CreateConversationIn(Camel):
    title: str | None = Field(None, max_length=1_024)
    description: str | None = Field(None, max_length=10_000)
    tags: Tags = Field(default_factory=list)
    user_id: str | None = Field(
        None, min_length=1, max_length=256, description="Only for keys not bound to a user"
    )


class ConversationOut(Camel):
    id: str
    user_id: str | None
    title: str | None
    description: str | None
    tags: list[str]
    message_count: int
    created_at: datetime
    last_activity_at: datetime


class AddMessageIn(Camel):
    role: Role
    content: NonEmptyText
    tags: Tags = Field(default_factory=list)
    importance_score: float | None = Field(
        None, ge=0.0, le=1.0, description="0..1; weighs the turn in retrieval (default 0.5)"
    )


class MessageOut(Camel):
    id: str
    conversation_id: str
    role: str
    content: str
    timestamp: datetime
    importance_score: float
    tags: list[str]
    extraction_task_id: str | None = Field(
        description="The background extraction this turn scheduled (GET /v1/tasks/{id})"
    )


class QueryIn(Camel):
    question: NonEmptyText
    max_tokens: int = Field(
        2_000, ge=1, le=200_000, description="Budget of the memory context given to the answer"
    )
    include_debug_info: bool = False


class SourceOut(Camel):
    """A memory the answer or the context drew on; `type` is its MemoryKit layer."""

    id: str
    type: Literal["WorkingMemory", "EpisodicMemory", "SemanticMemory", "ProceduralMemory"]
    content: str
    relevance_score: float
    memory_type: str
    conversation_id: str | None
    created_at: datetime


class LlmUsageOut(Camel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    calls: int


class DebugInfoOut(Camel):
    query_type: Literal["Continuation", "FactRetrieval", "DeepRecall", "ProceduralTrigger"] = Field(
        description="What the retrieval found: ProceduralTrigger (a pattern applies), "
        "FactRetrieval (facts), DeepRecall (only past turns), Continuation (nothing)"
    )
    layers_used: list[str]
    tokens_used: int = Field(description="Tokens of the question and the sources used")
    retrieval_time_ms: float
    answer_time_ms: float
    total_time_ms: float
    retrieved_count: int = Field(description="Memories that matched before the token budget")
    mode: Literal["offline", "llm"]
    llm_usage: LlmUsageOut


class QueryOut(Camel):
    answer: str
    sources: list[SourceOut]
    debug_info: DebugInfoOut | None = Field(description="Only with includeDebugInfo: true")


class ContextOut(Camel):
    context: str
    total_tokens: int
    retrieval_latency_ms: float
    conversation_id: str
    memories: list[SourceOut]


class HealthOut(Camel):
    status: Literal["healthy", "unhealthy"]
    timestamp: datetime
    database: Literal["connected", "disconnected"]


class StatisticsOut(Camel):
    user_id: str | None
    namespace: str
    conversation_count: int
    message_count: int
    fact_count: int = Field(description="Active semantic and episodic memories")
    pattern_count: int
    memories_by_type: dict[str, int] = Field(description="Active memories of each type")


class TriggerOut(Camel):
    type: str
    pattern: str


class PatternOut(Camel):
    id: str
    name: str
    description: str
    triggers: list[TriggerOut]
    usage_count: int = Field(description="Turns that expressed it plus searches that recalled it")
    last_used: datetime
    kind: Literal["instruction", "preference"]
    occurrences: int = Field(description="Distinct turns the user expressed it in")
    user_id: str | None
    conversation_id: str | None
    created_at: datetime


class PatternPageOut(Camel):
    items: list[PatternOut]
    page: int
    page_size: int
    total_count: int
