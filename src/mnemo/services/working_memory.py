"""Working memory (seed 001): a session's messages, context and data, and their indexing."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import anyio.to_thread
from pydantic import JsonValue

from mnemo.auth.access import can_see, require, resolve_namespace, resolve_user
from mnemo.embedders.cache import CachedEmbedder
from mnemo.errors import ForbiddenError, SessionNotFoundError
from mnemo.models import Memory, MemoryType, Message, Principal, Scope, Session, utcnow
from mnemo.services.events import EventSink, NoEvents
from mnemo.services.summarizers import Summarizer
from mnemo.services.tokens import (
    DEFAULT_CONTEXT_WINDOW,
    KEEP_FRACTION,
    SUMMARIZATION_THRESHOLD,
    TokenCounter,
)
from mnemo.stores.base import Page, Store, VectorRecord

FoldHook = Callable[[Session, list[Message]], Awaitable[None]]


class ExtractionTrigger(Protocol):
    """What a write does about its new turns: schedule extraction, or run it at once."""

    async def schedule(self, session: Session) -> str: ...

    async def run_now(self, session: Session) -> object: ...


@dataclass
class MessageDraft:
    role: str
    content: str
    id: str | None = None
    created_at: datetime | None = None
    metadata: dict[str, JsonValue] = field(default_factory=dict)


@dataclass
class WorkingMemoryUpdate:
    """A full replacement of a session's working memory (PUT semantics)."""

    messages: list[MessageDraft] = field(default_factory=list)
    memories: list[JsonValue] = field(default_factory=list)
    context: str | None = None
    data: dict[str, JsonValue] | None = None
    user_id: str | None = None
    namespace: str | None = None
    ttl_seconds: int | None = None
    strategy: dict[str, JsonValue] = field(default_factory=dict)


class WorkingMemoryService:
    def __init__(
        self,
        store: Store,
        embedder: CachedEmbedder,
        counter: TokenCounter,
        default_namespace: str,
        summarizer: Summarizer,
        before_fold: FoldHook | None = None,
        events: EventSink | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._counter = counter
        self._default_namespace = default_namespace
        self._summarizer = summarizer
        self._before_fold = before_fold
        self._events: EventSink = events or NoEvents()
        self.trigger: ExtractionTrigger | None = None  # set by wiring once the queue exists

    async def get(
        self, who: Principal, session_id: str, namespace: str | None, user_id: str | None
    ) -> Session:
        require(who, Scope.READ)
        ns = resolve_namespace(who, namespace, self._default_namespace)
        session = await self._store.get_session(ns, session_id)
        if session is None or not can_see(who, ns, session.user_id):
            raise SessionNotFoundError(f"Session {session_id} not found")
        if user_id is not None and session.user_id not in (None, user_id):
            raise SessionNotFoundError(f"Session {session_id} not found")
        return session

    async def put(
        self,
        who: Principal,
        session_id: str,
        update: WorkingMemoryUpdate,
        window_tokens: int = DEFAULT_CONTEXT_WINDOW,
        wait: bool = False,
    ) -> Session:
        require(who, Scope.WRITE)
        ns = resolve_namespace(who, update.namespace, self._default_namespace)
        user_id = resolve_user(who, update.user_id)
        previous = await self._store.get_session(ns, session_id)
        if previous is not None and not can_see(who, ns, previous.user_id):
            raise ForbiddenError(f"session '{session_id}' belongs to another user")
        now = utcnow()
        messages = [_message(session_id, i, d, now) for i, d in enumerate(update.messages)]
        _carry_over(messages, previous.messages if previous else [])
        session = Session(
            session_id=session_id, namespace=ns, user_id=user_id, context=update.context,
            data=update.data, memories=update.memories, strategy=update.strategy,
            ttl_seconds=update.ttl_seconds, messages=messages,
            tokens=sum(self._counter.message_tokens(m.role, m.content) for m in messages),
            created_at=previous.created_at if previous else now, updated_at=now,
            last_accessed_at=now,
        )  # fmt: skip
        known = {m.id for m in previous.messages} if previous else set()
        fresh = [m for m in messages if m.id not in known]
        records = await self._index(session, fresh)
        await self._fold_if_needed(session, window_tokens)
        await self._store.save_session(session, records)
        await self._after_save(session, fresh, wait)
        return session

    async def _after_save(self, session: Session, fresh: list[Message], wait: bool) -> None:
        for message in fresh:
            await self._events.emit(session.namespace, "message.created", {
                "session_id": session.session_id, "message_id": message.id,
                "role": message.role, "user_id": session.user_id,
            })  # fmt: skip
        if self.trigger is None or not any(not m.extracted for m in session.messages):
            return
        if wait:
            await self.trigger.run_now(session)
        else:
            session.extraction_task_id = await self.trigger.schedule(session)

    async def append(
        self,
        who: Principal,
        session_id: str,
        namespace: str | None,
        user_id: str | None,
        drafts: Sequence[MessageDraft],
        wait: bool = False,
    ) -> Session:
        """Add turns to a session (creating it), keeping everything already there."""
        ns = resolve_namespace(who, namespace, self._default_namespace)
        current = await self._store.get_session(ns, session_id)
        kept = [
            MessageDraft(m.role, m.content, m.id, m.created_at, m.metadata)
            for m in (current.messages if current else [])
        ]
        update = WorkingMemoryUpdate(
            messages=kept + list(drafts),
            memories=current.memories if current else [],
            context=current.context if current else None,
            data=current.data if current else None,
            user_id=user_id or (current.user_id if current else None),
            namespace=ns,
            ttl_seconds=current.ttl_seconds if current else None,
            strategy=current.strategy if current else {},
        )
        return await self.put(who, session_id, update, wait=wait)

    async def _fold_if_needed(self, session: Session, window: int) -> None:
        """Seed 001's rule: past 70 % of the window, fold the oldest turns into `context`,
        keeping the newest that fit in 40 % of it (always at least the last one)."""
        if session.tokens <= SUMMARIZATION_THRESHOLD * window or len(session.messages) < 2:
            return
        budget = KEEP_FRACTION * window
        kept: list[Message] = []
        used = 0
        for message in reversed(session.messages):
            cost = self._counter.message_tokens(message.role, message.content)
            if kept and used + cost > budget:
                break
            kept.append(message)
            used += cost
        kept.reverse()
        folded = session.messages[: len(session.messages) - len(kept)]
        if self._before_fold is not None:
            await self._before_fold(session, [m for m in folded if not m.extracted])
        lines = [f"{m.role}: {m.content}" for m in folded]
        summary = await self._summarizer.summarize(lines, previous=session.context)
        session.context = summary.text
        session.messages = kept
        session.tokens = used + self._counter.count(summary.text)

    async def delete(self, who: Principal, session_id: str, namespace: str | None) -> bool:
        require(who, Scope.WRITE)
        ns = resolve_namespace(who, namespace, self._default_namespace)
        session = await self._store.get_session(ns, session_id)
        if session is None or not can_see(who, ns, session.user_id):
            return False
        return await self._store.delete_session(ns, session_id)

    async def list_sessions(
        self, who: Principal, namespace: str | None, user_id: str | None, limit: int, offset: int
    ) -> Page[str]:
        require(who, Scope.READ)
        ns = namespace if who.namespace is None else resolve_namespace(who, namespace, "")
        return await self._store.list_sessions(ns, resolve_user(who, user_id), limit, offset)

    async def _index(self, session: Session, messages: Sequence[Message]) -> list[VectorRecord]:
        """Every turn is searchable as a `message` memory that points back at itself."""
        if not messages:
            return []
        memories = [self._message_memory(session, m) for m in messages]
        vectors = await anyio.to_thread.run_sync(self._embedder.embed, [m.text for m in memories])
        return [VectorRecord(m, v) for m, v in zip(memories, vectors, strict=True)]

    @staticmethod
    def _message_memory(session: Session, message: Message) -> Memory:
        return Memory(
            id=message.id, namespace=session.namespace, user_id=session.user_id,
            session_id=session.session_id, text=message.content,
            memory_type=MemoryType.MESSAGE, created_at=message.created_at,
            updated_at=session.updated_at, last_accessed_at=message.created_at,
            extracted_from=[message.id], metadata={"role": message.role},
            importance=_importance(message),
        ).with_hash()  # fmt: skip


def _message(session_id: str, position: int, draft: MessageDraft, now: datetime) -> Message:
    created = draft.created_at or now
    return Message(
        id=draft.id or _stable_message_id(session_id, position, draft),
        role=draft.role,
        content=draft.content,
        created_at=created,
        persisted_at=now,
        metadata=draft.metadata,
    )


def _importance(message: Message) -> float:
    """A turn's importance as its client scored it (metadata "importance", 0..1), else 0.5."""
    given = message.metadata.get("importance")
    if isinstance(given, int | float) and not isinstance(given, bool) and 0 <= given <= 1:
        return float(given)
    return 0.5


def _carry_over(messages: list[Message], previous: list[Message]) -> None:
    """A turn sent again keeps when it was first persisted and whether it was extracted."""
    known = {m.id: m for m in previous}
    for message in messages:
        before = known.get(message.id)
        if before is not None:
            message.persisted_at = before.persisted_at
            message.extracted = before.extracted


def _stable_message_id(session_id: str, position: int, draft: MessageDraft) -> str:
    """A message sent again without an id keeps the id it got the first time."""
    digest = hashlib.sha256(f"{session_id}\0{position}\0{draft.role}\0{draft.content}".encode())
    return "msg_" + digest.hexdigest()[:26]
