"""The message batcher (seed 004): durable buffers, flushed into add-memory tasks by the window."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from mnemo.auth.access import require
from mnemo.jobs.queue import Task
from mnemo.models import Message, Principal, Scope
from mnemo.services.consolidation import Owner
from mnemo.services.memory_tasks import MemoryTasks
from mnemo.stores.batch_store import BatchKey, BatchStore, SealedBatch

log = logging.getLogger(__name__)

RECOVERY_BATCH = 500  # sealed-but-unqueued batches taken per recovery round
# Recovery queues batches whose submitters' keys were checked when they appended.
_RECOVERY = Principal(key_id="system:batcher", namespace=None, user_id=None,
                      scopes=frozenset({Scope.WRITE}))  # fmt: skip


@dataclass(frozen=True)
class BatchStatus:
    """A buffer after an append: what is still pending, and what has been flushed."""

    key: BatchKey
    pending: int
    batch_size: int
    flushed: list[Task]  # the add-memory tasks this append queued, oldest first
    last: SealedBatch | None  # the key's newest flush (by this append or an earlier one)


class MessageBatcher:
    """Appends go to a buffer per (namespace, user, session) in the database; each full window
    of `batch_size` messages is sealed in the same transaction and becomes one add-memory task.

    Sealing and queueing are two steps (the batch store and the queue are separate ports), so
    a sealed batch keeps its messages until its task is queued with the batch id as
    idempotency key; `recover()` at start queues whatever a stopped process left sealed.
    Messages are therefore never lost, and each is flushed in exactly one task.
    """

    def __init__(self, store: BatchStore, tasks: MemoryTasks, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError("the batch size must be at least 1")
        self._store = store
        self._tasks = tasks
        self.batch_size = batch_size

    async def append(
        self, who: Principal, key: BatchKey, messages: Sequence[Message]
    ) -> BatchStatus:
        """Buffer the messages; the caller has resolved the key inside the key's binding."""
        require(who, Scope.WRITE)
        outcome = await self._store.append(key, messages, self.batch_size)
        flushed = [await self._queue(who, batch) for batch in outcome.sealed]
        last = outcome.last
        if flushed and last is not None and last.task_id is None:
            last = replace(last, task_id=flushed[-1].id)
        return BatchStatus(key, outcome.pending, self.batch_size, flushed, last)

    async def recover(self) -> int:
        """Queue the batches sealed before a stop; returns how many were queued."""
        queued = 0
        while batches := await self._store.unqueued(RECOVERY_BATCH):
            for batch in batches:
                await self._queue(_RECOVERY, batch)
            queued += len(batches)
        if queued:
            log.info("queued %d message batch(es) sealed before the last stop", queued)
        return queued

    async def _queue(self, who: Principal, batch: SealedBatch) -> Task:
        key = batch.key
        owner = Owner(key.namespace, key.user_id, key.session_id)
        task = await self._tasks.submit_add(
            who, owner, batch.messages, idempotency_key=f"batch:{batch.id}"
        )
        await self._store.mark_queued(key.namespace, batch.id, task.id)
        return task
