"""The BatchStore port: message buffers per (namespace, user, session) and their sealed batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mnemo.models import Message


@dataclass(frozen=True)
class BatchKey:
    """Whose buffer: one per namespace, user and session (None: messages outside a session)."""

    namespace: str
    user_id: str
    session_id: str | None = None


@dataclass(frozen=True)
class SealedBatch:
    """A full window of messages taken out of a buffer, to become one add-memory task."""

    id: str
    key: BatchKey
    messages: list[Message]  # id, role, content and created_at are kept
    sealed_at: datetime
    task_id: str | None = None  # None until the task is queued


@dataclass(frozen=True)
class AppendOutcome:
    pending: int  # messages left in the buffer after sealing
    sealed: list[SealedBatch] = field(default_factory=list)  # sealed by this append, oldest first
    last: SealedBatch | None = None  # the key's newest batch (messages not loaded), if any


class BatchStore(Protocol):
    """Durable buffers, kept in the task queue's database so a restart loses nothing."""

    async def append(
        self, key: BatchKey, messages: Sequence[Message], batch_size: int
    ) -> AppendOutcome:
        """In one transaction: add the messages to the key's buffer, then, while batch_size or
        more are pending, seal the oldest batch_size into a new batch. Concurrent appends to
        one key are serialised, so every message is sealed into exactly one batch."""
        ...

    async def unqueued(self, limit: int) -> list[SealedBatch]:
        """Sealed batches whose task was never queued (the process stopped in between)."""
        ...

    async def mark_queued(self, namespace: str, batch_id: str, task_id: str) -> None:
        """Record the batch's task and drop its messages, which the task now carries."""
        ...
