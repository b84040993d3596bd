"""The Store port: everything the services need from a database, and nothing more."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from mnemo.filters import MemoryFilter
from mnemo.models import ApiKey, Memory, MemoryEvent, Session
from mnemo.retrieval.bm25 import TermDocument

Vector = NDArray[np.float32]
Key = tuple[str, str]
T = TypeVar("T")


@dataclass(frozen=True)
class VectorRecord:
    """A memory and its embedding, written together."""

    memory: Memory
    vector: Vector


@dataclass(frozen=True)
class ChangeSet:
    """Memories to insert, memories whose fields change (vector kept), and their events:
    written in one transaction, so a supersede never leaves half a chain behind."""

    inserts: Sequence[VectorRecord] = ()
    updates: Sequence[Memory] = ()
    events: Sequence[MemoryEvent] = ()


@dataclass(frozen=True)
class VectorUpdate:
    """A memory's new embedding, written only while the memory still has this text."""

    namespace: str
    id: str
    content_hash: str
    vector: Vector


@dataclass(frozen=True)
class ContextUpdate:
    """A message memory's context window: its text's index terms (the store derives them),
    its embedding, and the ids of the turns right before and after it."""

    namespace: str
    id: str
    text: str
    vector: Vector
    neighbour_ids: tuple[str, ...]


@dataclass(frozen=True)
class CandidateQuery:
    """What retrieval asks the store for: scored candidates inside a filter.

    `text` is matched through its index terms (retrieval.text.query_terms) against the
    stored terms of each memory and of its context window.
    """

    filter: MemoryFilter
    now: datetime
    vector: Vector | None = None
    text: str | None = None
    vector_limit: int = 200
    max_distance: float | None = None
    # Matched rows read for BM25; past this many, document frequencies are estimates.
    keyword_scan_limit: int = 10_000
    # In a scope of more than 10,000 rows, keyword matches read when they are not all read
    # (retrieval/keyword_probe.py).
    keyword_probe_budget: int = 2_000


@dataclass
class CandidateSet:
    """Nearest memories by cosine, keyword matches with their terms, and how many rows match.

    `vector` holds the best `vector_limit` rows by cosine. `keyword` holds every row of the
    scope whose own or context terms hold a query term (up to `keyword_scan_limit`), so
    retrieval can compute BM25 with exact document frequencies; in a scope of more than
    10,000 rows whose matches exceed `keyword_probe_budget`, only a probe of them, with
    `document_frequencies` and `keyword_total` estimated (retrieval/keyword_probe.py).
    `total` counts the rows that match the filter (and, with a vector and `max_distance`,
    lie within that cosine distance). It is exact up to 10,000 matching rows; past that a
    store may estimate it, since counting a million rows costs more than the search
    (PostgreSQL does: see postgres_search.py).
    """

    vector: dict[Key, float] = field(default_factory=dict)
    keyword: dict[Key, TermDocument] = field(default_factory=dict)
    total: int = 0
    # Set when `keyword` is a probe of a wide scope's matches, not all of them: the
    # estimated documents holding each query term, and holding any (for a keyword total).
    document_frequencies: dict[str, int] | None = None
    keyword_total: int | None = None


@dataclass(frozen=True)
class CandidateDetail:
    """What ranking needs of one candidate beyond the search: its cosine to the query, its
    context window's cosine (None without a window or a query vector) and the ids of its
    neighbouring turns."""

    similarity: float | None
    context_similarity: float | None
    neighbour_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int


class Store(Protocol):
    """Durable state of mnemo. Every method is scoped by namespace; keys are (namespace, id)."""

    async def open(self) -> None:
        """Connect and apply pending migrations."""
        ...

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise StoreUnavailableError unless the database answers."""
        ...

    async def ensure_embedding_model(self, model: str, dimension: int) -> None:
        """Record the model on first use; raise EmbeddingModelMismatchError on a change."""
        ...

    # Sessions and working memory
    async def get_session(self, namespace: str, session_id: str) -> Session | None: ...

    async def save_session(self, session: Session, records: Sequence[VectorRecord]) -> None:
        """Replace the session's working memory and index new message memories, atomically."""
        ...

    async def delete_session(self, namespace: str, session_id: str) -> bool: ...

    async def mark_messages_extracted(
        self, namespace: str, session_id: str, message_ids: Sequence[str]
    ) -> None:
        """Flag turns whose facts have been extracted, so they are not extracted again."""
        ...

    async def list_sessions(
        self, namespace: str | None, user_id: str | None, limit: int, offset: int
    ) -> Page[str]: ...

    # Long-term memories
    async def upsert_memories(
        self, records: Sequence[VectorRecord], events: Sequence[MemoryEvent]
    ) -> None:
        """Insert or overwrite memories by (namespace, id), with their history events."""
        ...

    async def write_changes(self, changes: ChangeSet) -> None:
        """Apply a ChangeSet atomically (inserts overwrite by (namespace, id))."""
        ...

    async def get_memories(self, namespace: str | None, ids: Sequence[str]) -> list[Memory]:
        """Memories by id; namespace None searches every namespace."""
        ...

    async def update_memory(
        self, memory: Memory, vector: Vector | None, event: MemoryEvent
    ) -> None:
        """Rewrite one memory's fields (and its vector when the text changed)."""
        ...

    async def delete_memories(
        self, namespace: str, ids: Sequence[str], events: Sequence[MemoryEvent]
    ) -> list[str]:
        """Delete memories for good, keeping their history; returns the ids deleted."""
        ...

    async def find_candidates(self, query: CandidateQuery) -> CandidateSet: ...

    async def describe_candidates(
        self, keys: Sequence[Key], vector: Vector | None
    ) -> dict[Key, CandidateDetail]:
        """Cosines (own and context window's) and neighbours of these memories; unknown
        keys are left out."""
        ...

    async def set_contexts(self, updates: Sequence[ContextUpdate]) -> int:
        """Store context windows of message memories (other memories are left alone);
        returns how many were written."""
        ...

    async def list_memories(
        self, memory_filter: MemoryFilter, now: datetime, limit: int, offset: int
    ) -> Page[Memory]:
        """Memories matching the filter, newest first."""
        ...

    async def history(self, namespace: str, memory_id: str) -> list[MemoryEvent]: ...

    async def touch_memories(self, keys: Sequence[tuple[str, str]], at: datetime) -> None:
        """Record an access (last_accessed, access_count) for (namespace, id) keys."""
        ...

    # Embedding maintenance: `mnemo export --with-embeddings` and `mnemo reembed`
    async def get_vectors(self, namespace: str, ids: Sequence[str]) -> dict[str, Vector]:
        """The stored embeddings of these memories, by id (unknown ids are left out)."""
        ...

    async def replace_vectors(self, updates: Sequence[VectorUpdate]) -> int:
        """Give memories new embeddings, every other field kept; one whose text changed
        meanwhile (another content_hash) is left alone. Returns how many were rewritten."""
        ...

    async def pin_embedding_model(self, model: str, dimension: int) -> None:
        """Record `model` as the source of every stored embedding (after a re-embed); raise
        EmbeddingModelMismatchError if this store cannot hold vectors of `dimension`."""
        ...

    # API keys
    async def add_api_key(self, key: ApiKey) -> None: ...

    async def find_api_key(self, key_hash: str) -> ApiKey | None: ...

    async def list_api_keys(self, namespace: str | None) -> list[ApiKey]: ...

    async def revoke_api_key(self, key_id: str, at: datetime) -> bool: ...
