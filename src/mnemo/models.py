"""Domain models shared by every layer; nothing here knows about HTTP or a database."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from ulid import ULID


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(ULID())


class MemoryType(StrEnum):
    SEMANTIC = "semantic"
    EPISODIC = "episodic"
    PROCEDURAL = "procedural"
    MESSAGE = "message"


class MemoryStatus(StrEnum):
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    FORGOTTEN = "forgotten"


class EventKind(StrEnum):
    ADD = "ADD"
    UPDATE = "UPDATE"
    SUPERSEDE = "SUPERSEDE"
    MERGE = "MERGE"
    DELETE = "DELETE"
    RESTORE = "RESTORE"


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


_SPACES = re.compile(r"\s+")


def content_hash(text: str) -> str:
    """Hash of the normalised text: case and spacing do not make a memory new."""
    normal = _SPACES.sub(" ", text.strip().lower())
    return hashlib.sha256(normal.encode()).hexdigest()


class Memory(BaseModel):
    """A long-term memory record."""

    model_config = ConfigDict(frozen=False)

    id: str = Field(default_factory=new_id)
    namespace: str
    user_id: str | None = None
    agent_id: str | None = None
    session_id: str | None = None
    text: str
    memory_type: MemoryType = MemoryType.SEMANTIC
    topics: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    importance: float = 0.5
    pinned: bool = False
    status: MemoryStatus = MemoryStatus.ACTIVE
    supersedes: str | None = None
    superseded_by: str | None = None
    event_date: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_accessed_at: datetime = Field(default_factory=utcnow)
    access_count: int = 0
    expires_at: datetime | None = None
    extracted_from: list[str] = Field(default_factory=list)
    content_hash: str = ""

    def with_hash(self) -> Memory:
        self.content_hash = content_hash(self.text)
        return self


class MemoryEvent(BaseModel):
    """One change in a memory's history."""

    memory_id: str
    namespace: str
    event: EventKind
    old_text: str | None = None
    new_text: str | None = None
    actor: str = "api"
    at: datetime = Field(default_factory=utcnow)
    details: dict[str, JsonValue] = Field(default_factory=dict)


class Message(BaseModel):
    """One turn of a session."""

    id: str = Field(default_factory=new_id)
    role: str
    content: str
    created_at: datetime = Field(default_factory=utcnow)
    persisted_at: datetime | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    extracted: bool = False


class Session(BaseModel):
    """A conversation and its working memory."""

    session_id: str
    namespace: str
    user_id: str | None = None
    agent_id: str | None = None
    context: str | None = None
    data: dict[str, JsonValue] | None = None
    memories: list[JsonValue] = Field(default_factory=list)
    strategy: dict[str, JsonValue] = Field(default_factory=dict)
    tokens: int = 0
    ttl_seconds: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_accessed_at: datetime = Field(default_factory=utcnow)
    messages: list[Message] = Field(default_factory=list)
    # Not stored: the background extraction a write scheduled, so the API can return its id.
    extraction_task_id: str | None = Field(default=None, exclude=True)


class ApiKey(BaseModel):
    """A stored credential; the secret itself is never kept, only its sha256."""

    id: str = Field(default_factory=new_id)
    prefix: str
    key_hash: str
    name: str | None = None
    namespace: str | None = None  # None: every namespace (operator keys only)
    user_id: str | None = None
    scopes: list[Scope] = Field(default_factory=lambda: [Scope.READ, Scope.WRITE])
    rate_tier: str = "standard"
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class Principal(BaseModel):
    """Who is calling, and what the server lets them touch."""

    key_id: str
    namespace: str | None
    user_id: str | None
    scopes: frozenset[Scope]
    rate_tier: str = "standard"

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes
