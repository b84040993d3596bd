"""Bodies of the extraction, chat and summary endpoints of the native API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mnemo.api.schemas import MemoryRecordOut, MemoryRecordResultOut, MessageIn, NonEmptyText
from mnemo.llms.usage import Usage


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    calls: int

    @classmethod
    def of(cls, usage: Usage) -> UsageOut:
        return cls(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            calls=usage.calls,
        )


class ExtractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: NonEmptyText
    namespace: str | None = None


class SupersededOut(BaseModel):
    old: MemoryRecordOut
    new: MemoryRecordOut


class RejectedOut(BaseModel):
    fact: str
    reason: str


class ExtractOut(BaseModel):
    status: str
    messages: int
    facts: int
    added: list[MemoryRecordOut]
    merged: list[MemoryRecordOut]
    superseded: list[SupersededOut]
    deleted: list[MemoryRecordOut]
    rejected: list[RejectedOut]
    usage: UsageOut


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: NonEmptyText
    session_id: NonEmptyText
    user_id: str | None = None
    namespace: str | None = None


class ChatOut(BaseModel):
    response: str
    session_id: str
    user_id: str | None
    relevant_context_count: int
    memories: list[MemoryRecordResultOut]
    usage: UsageOut


class SummaryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str | None = None
    namespace: str | None = None
    messages: list[MessageIn] | str | None = None
    max_sentences: int = Field(6, ge=1, le=50)


class SummaryOut(BaseModel):
    summary: str
    message_count: int
    session_id: str | None
    usage: UsageOut
