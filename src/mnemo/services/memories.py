"""Long-term memory use cases: create (with exact-duplicate merge), read, edit, delete, history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import anyio.to_thread
from pydantic import JsonValue

from mnemo.auth.access import can_see, confine_filter, require, resolve_namespace, resolve_user
from mnemo.embedders.cache import CachedEmbedder
from mnemo.errors import ForbiddenError, MemoryNotFoundError
from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import (
    EventKind,
    Memory,
    MemoryEvent,
    MemoryType,
    Principal,
    Scope,
    content_hash,
    utcnow,
)
from mnemo.services.events import EventSink, NoEvents, memory_event_data
from mnemo.stores.base import Page, Store, VectorRecord


@dataclass
class MemoryDraft:
    """A memory as a client proposes it; the service fills in ownership and hashes."""

    text: str
    id: str | None = None
    namespace: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    session_id: str | None = None
    memory_type: MemoryType = MemoryType.SEMANTIC
    topics: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    metadata: dict[str, JsonValue] = field(default_factory=dict)
    importance: float = 0.5
    pinned: bool = False
    event_date: datetime | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    extracted_from: list[str] = field(default_factory=list)


@dataclass
class MemoryEdit:
    """Fields a PATCH may change; None leaves a field as it is."""

    text: str | None = None
    topics: list[str] | None = None
    entities: list[str] | None = None
    memory_type: MemoryType | None = None
    namespace: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    event_date: datetime | None = None
    pinned: bool | None = None
    importance: float | None = None
    metadata: dict[str, JsonValue] | None = None


@dataclass(frozen=True)
class CreateOutcome:
    created: list[Memory]
    merged: list[Memory]


class MemoryService:
    def __init__(
        self,
        store: Store,
        embedder: CachedEmbedder,
        default_namespace: str,
        events: EventSink | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._default_namespace = default_namespace
        self._events: EventSink = events or NoEvents()

    async def create(
        self, who: Principal, drafts: Sequence[MemoryDraft], *, deduplicate: bool = True
    ) -> CreateOutcome:
        require(who, Scope.WRITE)
        now = utcnow()
        memories = [self._own(who, d, now) for d in drafts]
        await self._check_overwrites(who, memories)
        merged: list[Memory] = []
        if deduplicate:
            memories, merged = await self._drop_exact_duplicates(memories, now)
        vectors = await anyio.to_thread.run_sync(self._embedder.embed, [m.text for m in memories])
        records = [VectorRecord(m, v) for m, v in zip(memories, vectors, strict=True)]
        events = [
            MemoryEvent(
                memory_id=m.id, namespace=m.namespace, event=EventKind.ADD, new_text=m.text, at=now
            )
            for m in memories
        ]
        await self._store.upsert_memories(records, events)
        for memory in memories:
            await self._events.emit(memory.namespace, "memory.created", memory_event_data(memory))
        return CreateOutcome(created=memories, merged=merged)

    async def get(self, who: Principal, memory_id: str, namespace: str | None = None) -> Memory:
        require(who, Scope.READ)
        scope_ns = _scope_namespace(who, namespace)
        found = [
            m
            for m in await self._store.get_memories(scope_ns, [memory_id])
            if can_see(who, m.namespace, m.user_id)
        ]
        if not found:
            raise MemoryNotFoundError(f"Memory with ID '{memory_id}' not found")
        if len(found) > 1:
            found.sort(key=lambda m: m.namespace != self._default_namespace)
        return found[0]

    async def edit(
        self, who: Principal, memory_id: str, change: MemoryEdit, namespace: str | None = None
    ) -> Memory:
        require(who, Scope.WRITE)
        memory = await self.get(who, memory_id, namespace)
        old_text = memory.text
        updates = {k: v for k, v in vars(change).items() if v is not None}
        if "namespace" in updates and updates["namespace"] != memory.namespace:
            raise ForbiddenError("a memory cannot be moved to another namespace")
        if "user_id" in updates:
            resolve_user(who, updates["user_id"])
        memory = memory.model_copy(update=updates)
        memory.updated_at = utcnow()
        memory.content_hash = content_hash(memory.text)
        vector = None
        if memory.text != old_text:
            vector = (await anyio.to_thread.run_sync(self._embedder.embed, [memory.text]))[0]
        event = MemoryEvent(
            memory_id=memory.id, namespace=memory.namespace, event=EventKind.UPDATE,
            old_text=old_text, new_text=memory.text, at=memory.updated_at,
            details={"fields": sorted(updates)},
        )  # fmt: skip
        await self._store.update_memory(memory, vector, event)
        await self._events.emit(memory.namespace, "memory.updated", memory_event_data(memory))
        return memory

    async def delete(
        self,
        who: Principal,
        memory_ids: Sequence[str],
        namespace: str | None = None,
        actor: str = "api",
    ) -> list[str]:
        require(who, Scope.WRITE)
        scope_ns = _scope_namespace(who, namespace)
        found = [
            m
            for m in await self._store.get_memories(scope_ns, list(memory_ids))
            if can_see(who, m.namespace, m.user_id)
        ]
        deleted: list[str] = []
        now = utcnow()
        by_namespace: dict[str, list[Memory]] = {}
        for memory in found:
            by_namespace.setdefault(memory.namespace, []).append(memory)
        for ns, memories in by_namespace.items():
            events = [
                MemoryEvent(
                    memory_id=m.id,
                    namespace=ns,
                    event=EventKind.DELETE,
                    old_text=m.text,
                    at=now,
                    actor=actor,
                )  # fmt: skip
                for m in memories
            ]
            gone = await self._store.delete_memories(ns, [m.id for m in memories], events)
            for memory in memories:
                if memory.id in gone:
                    await self._events.emit(ns, "memory.deleted", memory_event_data(memory))
            deleted += gone
        return deleted

    async def count_session_memories(
        self,
        who: Principal,
        session_id: str,
        namespace: str | None = None,
        memory_type: MemoryType | None = None,
    ) -> int:
        """How many memories (of one type, or of any) carry this session id, superseded too."""
        require(who, Scope.READ)
        ns = resolve_namespace(who, namespace, self._default_namespace)
        session_filter = _session_filter(who, ns, session_id, memory_type)
        page = await self._store.list_memories(session_filter, utcnow(), limit=1, offset=0)
        return page.total

    async def delete_session_memories(
        self, who: Principal, session_id: str, namespace: str | None = None
    ) -> list[str]:
        """Delete every memory of a session: its indexed turns and the facts drawn from them."""
        require(who, Scope.WRITE)
        ns = resolve_namespace(who, namespace, self._default_namespace)
        session_filter = _session_filter(who, ns, session_id, None)
        deleted: list[str] = []
        while True:
            page = await self._store.list_memories(session_filter, utcnow(), limit=500, offset=0)
            gone = await self.delete(who, [m.id for m in page.items], ns) if page.items else []
            if not gone:  # nothing left, or nothing this caller may delete: stop either way
                return deleted
            deleted += gone

    async def list_memories(
        self, who: Principal, memory_filter: MemoryFilter, limit: int, offset: int
    ) -> Page[Memory]:
        """Memories matching the filter inside the caller's binding, newest first, with the
        total; a listing is not an access, so nothing is touched."""
        require(who, Scope.READ)
        confined = confine_filter(who, memory_filter)
        return await self._store.list_memories(confined, utcnow(), limit=limit, offset=offset)

    async def history(
        self, who: Principal, memory_id: str, namespace: str | None = None
    ) -> tuple[Memory | None, list[MemoryEvent]]:
        """A memory's events; a deleted memory still has its history."""
        require(who, Scope.READ)
        try:
            memory: Memory | None = await self.get(who, memory_id, namespace)
        except MemoryNotFoundError:
            memory = None
        ns = (
            memory.namespace
            if memory
            else resolve_namespace(who, namespace, self._default_namespace)
        )
        events = await self._store.history(ns, memory_id)
        if memory is None and not events:
            raise MemoryNotFoundError(f"Memory with ID '{memory_id}' not found")
        if memory is None and who.user_id is not None:
            raise MemoryNotFoundError(f"Memory with ID '{memory_id}' not found")
        return memory, events

    def _own(self, who: Principal, draft: MemoryDraft, now: datetime) -> Memory:
        namespace = resolve_namespace(who, draft.namespace, self._default_namespace)
        user_id = resolve_user(who, draft.user_id)
        memory = Memory(
            namespace=namespace, user_id=user_id, agent_id=draft.agent_id,
            session_id=draft.session_id, text=draft.text, memory_type=draft.memory_type,
            topics=draft.topics, entities=draft.entities, metadata=draft.metadata,
            importance=draft.importance, pinned=draft.pinned, event_date=draft.event_date,
            created_at=draft.created_at or now, updated_at=now, last_accessed_at=now,
            expires_at=draft.expires_at, extracted_from=draft.extracted_from,
        )  # fmt: skip
        if draft.id:
            memory.id = draft.id
        return memory.with_hash()

    async def _check_overwrites(self, who: Principal, memories: list[Memory]) -> None:
        """A client id may overwrite a memory only if the caller could see that memory."""
        by_namespace: dict[str, list[str]] = {}
        for m in memories:
            by_namespace.setdefault(m.namespace, []).append(m.id)
        for ns, ids in by_namespace.items():
            for existing in await self._store.get_memories(ns, ids):
                if not can_see(who, existing.namespace, existing.user_id):
                    raise ForbiddenError(f"memory id '{existing.id}' belongs to another user")

    async def _drop_exact_duplicates(
        self, memories: list[Memory], now: datetime
    ) -> tuple[list[Memory], list[Memory]]:
        """Skip a memory whose normalised text the same owner already has under another id."""
        kept: list[Memory] = []
        merged: list[Memory] = []
        seen: set[tuple[str, str | None, str]] = set()
        for memory in memories:
            key = (memory.namespace, memory.user_id, memory.content_hash)
            duplicate = key in seen or await self._has_twin(memory, now)
            (merged if duplicate else kept).append(memory)
            seen.add(key)
        return kept, merged

    async def _has_twin(self, memory: Memory, now: datetime) -> bool:
        twin_filter = MemoryFilter(
            namespace=TagFilter(eq=memory.namespace),
            user_id=TagFilter(eq=memory.user_id) if memory.user_id else None,
            memory_type=TagFilter(eq=memory.memory_type.value),
            content_hashes=[memory.content_hash],
        )
        page = await self._store.list_memories(twin_filter, now, limit=5, offset=0)
        return any(m.id != memory.id and m.user_id == memory.user_id for m in page.items)


def _scope_namespace(who: Principal, namespace: str | None) -> str | None:
    """Where to look a memory up: a bound key's own namespace (naming another is a 403), or
    the one an operator key names (None: every namespace)."""
    if who.namespace is not None and namespace not in (None, who.namespace):
        raise ForbiddenError(f"this API key is bound to namespace '{who.namespace}'")
    return who.namespace or namespace


def _session_filter(
    who: Principal, namespace: str, session_id: str, memory_type: MemoryType | None
) -> MemoryFilter:
    """Every memory of one session the caller may see, whatever its status or expiry."""
    return MemoryFilter(
        namespace=TagFilter(eq=namespace),
        user_id=TagFilter(eq=who.user_id) if who.user_id is not None else None,
        session_id=TagFilter(eq=session_id),
        memory_type=TagFilter(eq=memory_type.value) if memory_type is not None else None,
        include_superseded=True,
        include_expired=True,
    )
