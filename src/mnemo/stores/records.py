"""Flat column mappings of the domain models, shared by every SQL store."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from mnemo.errors import EmbeddingModelMismatchError
from mnemo.models import (
    ApiKey,
    EventKind,
    Memory,
    MemoryEvent,
    MemoryStatus,
    MemoryType,
    Message,
    Scope,
    Session,
)
from mnemo.retrieval.documents import memory_index_text, terms_text

MEMORY_COLUMNS = (
    "namespace", "id", "user_id", "agent_id", "session_id", "text", "memory_type", "topics",
    "entities", "metadata", "importance", "pinned", "status", "supersedes", "superseded_by",
    "event_date", "created_at", "updated_at", "last_accessed_at", "access_count", "expires_at",
    "extracted_from", "content_hash",
)  # fmt: skip

EVENT_COLUMNS = (
    "namespace", "memory_id", "event", "old_text", "new_text", "actor", "at", "details",
)  # fmt: skip

SESSION_COLUMNS = (
    "namespace", "session_id", "user_id", "agent_id", "context", "data", "memories", "strategy",
    "tokens", "ttl_seconds", "expires_at", "created_at", "updated_at", "last_accessed_at",
)  # fmt: skip

MESSAGE_COLUMNS = (
    "id", "role", "content", "created_at", "persisted_at", "metadata", "extracted",
)  # fmt: skip

KEY_COLUMNS = (
    "id", "prefix", "key_hash", "name", "namespace", "user_id", "scopes", "rate_tier",
    "created_at", "revoked_at",
)  # fmt: skip


def check_embedding_model(stored: Mapping[str, str], model: str, dimension: int) -> None:
    """Raise unless the model pinned in the meta table (if any) is `model` at `dimension`."""
    if "embedding_model" not in stored:
        return
    pinned = (stored["embedding_model"], int(stored["embedding_dimension"]))
    if pinned != (model, dimension):
        raise EmbeddingModelMismatchError(
            f"this database was built with embedding model {pinned[0]} "
            f"({pinned[1]} dimensions) but the server is configured for {model} "
            f"({dimension}); configure the original model or run `mnemo reembed`"
        )


def epoch(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _unjson(value: Any) -> Any:
    """JSON columns arrive as text (SQLite) or already decoded (PostgreSQL jsonb)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def memory_to_row(memory: Memory) -> dict[str, object]:
    return {
        "namespace": memory.namespace,
        "id": memory.id,
        "user_id": memory.user_id,
        "agent_id": memory.agent_id,
        "session_id": memory.session_id,
        "text": memory.text,
        "memory_type": memory.memory_type.value,
        "topics": _json(memory.topics),
        "entities": _json(memory.entities),
        "metadata": _json(memory.metadata),
        "importance": memory.importance,
        "pinned": bool(memory.pinned),
        "status": memory.status.value,
        "supersedes": memory.supersedes,
        "superseded_by": memory.superseded_by,
        "event_date": epoch(memory.event_date),
        "created_at": epoch(memory.created_at),
        "updated_at": epoch(memory.updated_at),
        "last_accessed_at": epoch(memory.last_accessed_at),
        "access_count": memory.access_count,
        "expires_at": epoch(memory.expires_at),
        "extracted_from": _json(memory.extracted_from),
        "content_hash": memory.content_hash,
        # Not a column of MEMORY_COLUMNS (never read back): what keyword search matches.
        "terms": terms_of(memory),
    }


def terms_of(memory: Memory) -> str:
    """The index terms stored with a memory (its keyword-search document)."""
    return terms_text(memory_index_text(memory))


def memory_from_row(row: Mapping[str, Any]) -> Memory:
    return Memory(
        namespace=row["namespace"],
        id=row["id"],
        user_id=row["user_id"],
        agent_id=row["agent_id"],
        session_id=row["session_id"],
        text=row["text"],
        memory_type=MemoryType(row["memory_type"]),
        topics=_unjson(row["topics"]),
        entities=_unjson(row["entities"]),
        metadata=_unjson(row["metadata"]),
        importance=row["importance"],
        pinned=bool(row["pinned"]),
        status=MemoryStatus(row["status"]),
        supersedes=row["supersedes"],
        superseded_by=row["superseded_by"],
        event_date=from_epoch(row["event_date"]),
        created_at=from_epoch(row["created_at"]),
        updated_at=from_epoch(row["updated_at"]),
        last_accessed_at=from_epoch(row["last_accessed_at"]),
        access_count=row["access_count"],
        expires_at=from_epoch(row["expires_at"]),
        extracted_from=_unjson(row["extracted_from"]),
        content_hash=row["content_hash"],
    )


def event_to_row(event: MemoryEvent) -> dict[str, object]:
    return {
        "namespace": event.namespace,
        "memory_id": event.memory_id,
        "event": event.event.value,
        "old_text": event.old_text,
        "new_text": event.new_text,
        "actor": event.actor,
        "at": epoch(event.at),
        "details": _json(event.details),
    }


def event_from_row(row: Mapping[str, Any]) -> MemoryEvent:
    return MemoryEvent(
        namespace=row["namespace"],
        memory_id=row["memory_id"],
        event=EventKind(row["event"]),
        old_text=row["old_text"],
        new_text=row["new_text"],
        actor=row["actor"],
        at=from_epoch(row["at"]),
        details=_unjson(row["details"]),
    )


def key_to_row(key: ApiKey) -> dict[str, object]:
    return {
        "id": key.id,
        "prefix": key.prefix,
        "key_hash": key.key_hash,
        "name": key.name,
        "namespace": key.namespace,
        "user_id": key.user_id,
        "scopes": ",".join(sorted(s.value for s in key.scopes)),
        "rate_tier": key.rate_tier,
        "created_at": epoch(key.created_at),
        "revoked_at": epoch(key.revoked_at),
    }


def key_from_row(row: Mapping[str, Any]) -> ApiKey:
    return ApiKey(
        id=row["id"],
        prefix=row["prefix"],
        key_hash=row["key_hash"],
        name=row["name"],
        namespace=row["namespace"],
        user_id=row["user_id"],
        scopes=[Scope(s) for s in row["scopes"].split(",") if s],
        rate_tier=row["rate_tier"],
        created_at=from_epoch(row["created_at"]),
        revoked_at=from_epoch(row["revoked_at"]),
    )


def session_to_row(session: Session) -> dict[str, object]:
    """The session's own columns; its messages are rows of their own (message_to_row)."""
    updated_at = epoch(session.updated_at)
    ttl = session.ttl_seconds
    return {
        "namespace": session.namespace,
        "session_id": session.session_id,
        "user_id": session.user_id,
        "agent_id": session.agent_id,
        "context": session.context,
        "data": None if session.data is None else _json(session.data),
        "memories": _json(session.memories),
        "strategy": _json(session.strategy),
        "tokens": session.tokens,
        "ttl_seconds": ttl,
        "expires_at": updated_at + ttl if ttl and updated_at is not None else None,
        "created_at": epoch(session.created_at),
        "updated_at": updated_at,
        "last_accessed_at": epoch(session.last_accessed_at),
    }


def session_from_row(row: Mapping[str, Any], messages: Iterable[Mapping[str, Any]]) -> Session:
    return Session(
        namespace=row["namespace"],
        session_id=row["session_id"],
        user_id=row["user_id"],
        agent_id=row["agent_id"],
        context=row["context"],
        data=None if row["data"] is None else _unjson(row["data"]),
        memories=_unjson(row["memories"]),
        strategy=_unjson(row["strategy"]),
        tokens=row["tokens"],
        ttl_seconds=row["ttl_seconds"],
        created_at=from_epoch(row["created_at"]),
        updated_at=from_epoch(row["updated_at"]),
        last_accessed_at=from_epoch(row["last_accessed_at"]),
        messages=[message_from_row(m) for m in messages],
    )


def message_to_row(message: Message) -> dict[str, object]:
    return {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        "created_at": epoch(message.created_at),
        "persisted_at": epoch(message.persisted_at),
        "metadata": _json(message.metadata),
        "extracted": bool(message.extracted),
    }


def message_from_row(row: Mapping[str, Any]) -> Message:
    return Message(
        id=row["id"],
        role=row["role"],
        content=row["content"],
        created_at=from_epoch(row["created_at"]),
        persisted_at=from_epoch(row["persisted_at"]),
        metadata=_unjson(row["metadata"]),
        extracted=bool(row["extracted"]),
    )
