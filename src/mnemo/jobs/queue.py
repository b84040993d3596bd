"""The TaskQueue port: durable tasks, their states, and the claim/lease contract workers rely on.

Lifecycle of a task::

    enqueue ──> pending ──claim──> running ──complete──> succeeded
                  ^   ^               │
                  │   └──fail(retry_at)┤      (attempt failed; error kept, run_after = retry_at)
                  │                    ├──fail(None)──> dead  (no attempts left / permanent error)
                  └────release─────────┘      (graceful shutdown: the attempt is not counted)

A `running` task whose lease has expired (its worker crashed or hung) is claimable again, as if
it were pending; one that has already used all its attempts goes to `dead` instead.

Delivery guarantee: **at-least-once execution**. A task is committed before `enqueue` returns
and only leaves `running` when its worker reports back, so no task is lost; but a worker that
dies after a handler's side effect and before `complete` makes the task run again once its
lease expires. Exactly-once *effect* therefore needs idempotent handlers: key the effect by the
task id (or a natural key), e.g. `INSERT ... ON CONFLICT DO NOTHING`, or re-derive the work from
durable state (extraction marks the messages it has extracted).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, JsonValue

from mnemo.errors import TaskNotFoundError
from mnemo.stores.base import Page

JsonObject = dict[str, JsonValue]


class TaskStatus(StrEnum):
    PENDING = "pending"  # waiting for run_after (new, or waiting for a retry: attempts > 0)
    RUNNING = "running"  # claimed by a worker, under a lease
    SUCCEEDED = "succeeded"
    DEAD = "dead"  # failed for good: out of attempts or a permanent error; `error` says why


TERMINAL_STATUSES = frozenset({TaskStatus.SUCCEEDED, TaskStatus.DEAD})


class Task(BaseModel):
    """One unit of durable background work."""

    id: str
    namespace: str
    type: str
    payload: JsonObject
    status: TaskStatus
    attempts: int  # attempts started so far (a claim counts one; a release gives it back)
    max_attempts: int
    idempotency_key: str | None = None
    debounce_key: str | None = None
    run_after: datetime
    worker_id: str | None = None
    lease_until: datetime | None = None
    result: JsonValue = None
    error: str | None = None  # the last attempt's error; kept when the task is dead
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None  # start of the latest attempt
    completed_at: datetime | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class TaskQueue(Protocol):
    """Durable task queue in the store's own database.

    Claim semantics (what every implementation must guarantee):

    - `claim` atomically picks ONE claimable task and marks it `running` for `worker_id` with
      `lease_until = now + lease_s`, incrementing `attempts`. Claimable means `pending` with
      `run_after <= now`, or `running` with `lease_until < now` (its worker is presumed dead).
      Expired leases first, then the oldest `run_after`, then insertion order (`seq`). Two
      concurrent claims never return the same task while its lease holds. On PostgreSQL:
      `UPDATE tasks SET ... WHERE id = (SELECT id FROM tasks WHERE <claimable> ORDER BY ...
      LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *`, so concurrent workers skip each other's
      rows instead of waiting; on SQLite: SELECT then UPDATE inside one `BEGIN IMMEDIATE`
      transaction (one writer at a time, across processes too). Before picking, expired
      `running` tasks with `attempts >= max_attempts` become `dead` (a task that kills its
      worker every time must not loop forever).
    - One run per debounce key at a time: a task whose (namespace, type, debounce key) has a
      `running` task with a live lease is not claimable until that run ends or its lease
      expires (so one session's extraction never runs in two workers at once). On PostgreSQL
      a claim takes the key's advisory lock (`pg_try_advisory_xact_lock`, the lock debounced
      enqueues take) and checks the key again once it holds it; a key it cannot lock at once
      is passed over until the next claim.
    - `heartbeat`, `complete`, `fail` and `release` act only while `worker_id` still owns the
      task (status `running`, same worker id) and return False otherwise: a worker that lost
      its lease to another cannot overwrite the new owner's outcome.
    - Every write is committed before the method returns.
    """

    async def open(self) -> None:
        """Prepare the queue (a no-op when it shares the store's already open database)."""
        ...

    async def close(self) -> None: ...

    async def enqueue(
        self,
        task_type: str,
        payload: JsonObject,
        *,
        namespace: str,
        idempotency_key: str | None = None,
        run_after: datetime | None = None,
        max_attempts: int | None = None,
    ) -> Task:
        """Add a task; with an idempotency key already used for (namespace, type), return the
        existing task (whatever its status) instead of adding one."""
        ...

    async def enqueue_debounced(
        self,
        task_type: str,
        payload: JsonObject,
        *,
        namespace: str,
        key: str,
        delay_s: float,
        max_attempts: int | None = None,
    ) -> Task:
        """Trailing-edge debounce: if a `pending` task of this type and key exists, give it this
        payload and push its run_after to at least now + delay_s; otherwise add one. A running
        task does not absorb the call (work that arrived during a run needs another run; it
        waits for that run, see the claim rules). On PostgreSQL, serialise on the key
        (`pg_advisory_xact_lock`) to avoid two pendings."""
        ...

    async def claim(
        self, worker_id: str, lease_s: float, types: frozenset[str] | None = None
    ) -> Task | None:
        """Take the next claimable task (see the class docstring), or None."""
        ...

    async def heartbeat(self, task_id: str, worker_id: str, lease_s: float) -> bool:
        """Extend the lease to now + lease_s; False when the worker no longer owns the task."""
        ...

    async def complete(self, task_id: str, worker_id: str, result: JsonValue) -> bool:
        """Mark the task succeeded with its result."""
        ...

    async def fail(
        self, task_id: str, worker_id: str, error: str, retry_at: datetime | None
    ) -> bool:
        """Record a failed attempt: back to `pending` at retry_at, or `dead` when None."""
        ...

    async def release(self, task_id: str, worker_id: str) -> bool:
        """Give an unfinished task back (graceful shutdown): pending now, attempt not counted."""
        ...

    async def get(self, task_id: str) -> Task | None: ...

    async def list(
        self, namespace: str | None, status: TaskStatus | None, limit: int, offset: int
    ) -> Page[Task]:
        """Tasks newest first; namespace None lists every namespace."""
        ...

    async def counts(self) -> dict[tuple[str, TaskStatus], int]:
        """Number of tasks by (type, status), for metrics (queue depth, dead tasks)."""
        ...

    def on_enqueue(self, callback: Callable[[], None]) -> None:
        """Call `callback` (from any thread) after this process adds or reschedules a task, so
        in-process workers wake at once instead of at their next poll."""
        ...


async def wait_for_task(
    queue: TaskQueue, task_id: str, timeout_s: float, poll_s: float = 0.05
) -> Task:
    """Poll until the task is terminal (read-your-writes for `wait=true`); the last state seen
    is returned when the timeout passes first."""
    deadline = time.monotonic() + timeout_s
    while True:
        task = await queue.get(task_id)
        if task is None:
            raise TaskNotFoundError(f"task {task_id} not found")
        if task.is_terminal or time.monotonic() >= deadline:
            return task
        await asyncio.sleep(poll_s)
