"""What the MCP tools return: the native API's bodies plus the few only the tools need."""

from __future__ import annotations

from pydantic import BaseModel, Field

from mnemo.api.schemas import MessageOut, WorkingMemoryOut
from mnemo.models import Session
from mnemo.services.tokens import context_usage


class CurrentDatetime(BaseModel):
    iso_utc: str = Field(description="Now, ISO 8601 in UTC with a Z suffix")
    unix_ts: int = Field(description="Now, in Unix seconds")


class CreatedMemories(BaseModel):
    status: str
    memory_ids: list[str] = Field(description="Ids of the memories stored")
    duplicates_skipped: int = Field(description="Memories not stored: their text already exists")


class DeletedMemories(BaseModel):
    status: str
    deleted: list[str] = Field(description="Ids actually deleted (unknown or foreign ids are not)")


def working_memory_out(session: Session, window: int) -> WorkingMemoryOut:
    """The same body GET/PUT /v1/working-memory/{session_id} answers with."""
    usage = context_usage(session.tokens, window)
    return WorkingMemoryOut(
        messages=[
            MessageOut(
                role=m.role, content=m.content, id=m.id, created_at=m.created_at,
                persisted_at=m.persisted_at, discrete_memory_extracted="t" if m.extracted else "f",
            )
            for m in session.messages
        ],
        memories=session.memories, data=session.data, context=session.context,
        user_id=session.user_id, tokens=session.tokens, session_id=session.session_id,
        namespace=session.namespace, long_term_memory_strategy=session.strategy,
        ttl_seconds=session.ttl_seconds, last_accessed=session.last_accessed_at,
        created_at=session.created_at, updated_at=session.updated_at,
        context_percentage_total_used=usage.total_percent,
        context_percentage_until_summarization=usage.until_summarization_percent,
        extraction_task_id=session.extraction_task_id,
    )  # fmt: skip
