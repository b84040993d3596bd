"""Request and response bodies of seed 000's API, field for field as the seed documents them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from mnemo.api.schemas import NonEmptyText

# The seed's server was a FastAPI app with plain pydantic models, which ignore unknown fields;
# its clients may rely on that, so these bodies do too.
_LENIENT = ConfigDict(extra="ignore")


class SessionIn(BaseModel):
    model_config = _LENIENT

    user_id: NonEmptyText
    session_name: str | None = Field(None, max_length=1_024)


class SessionOut(BaseModel):
    session_id: str
    user_id: str | None
    created_at: datetime
    message_count: int


class SessionDeletedOut(BaseModel):
    message: str


class ChatIn(BaseModel):
    model_config = _LENIENT

    message: NonEmptyText
    session_id: NonEmptyText
    user_id: NonEmptyText


class ChatOut(BaseModel):
    response: str
    session_id: str
    relevant_context_count: int


class SearchIn(BaseModel):
    model_config = _LENIENT

    query: NonEmptyText
    session_id: str | None = None
    user_id: NonEmptyText
    limit: int = Field(10, ge=1, le=100)


class MemoryValueOut(BaseModel):
    role: str
    content: str
    session_id: str | None


class MemoryHitOut(BaseModel):
    id: str
    key: str
    value: MemoryValueOut
    timestamp: datetime
    score: float


class SearchOut(BaseModel):
    memories: list[MemoryHitOut]
    count: int
