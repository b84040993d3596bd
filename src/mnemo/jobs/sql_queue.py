"""SqlTaskQueue: the TaskQueue port written once, as plans, for every SQL database.

Each method is a plan (see `mnemo.stores.plans`) run in one transaction by the database's
runner; the runner alone knows how claims exclude each other (SQLite: one writer at a time;
PostgreSQL: `FOR UPDATE SKIP LOCKED` and advisory locks on debounce keys).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime

from pydantic import JsonValue

from mnemo.jobs.queue import JsonObject, Task, TaskStatus
from mnemo.jobs.task_table import DUE_PENDING, EXPIRED_LEASES, TaskStatements, new_task
from mnemo.stores.base import Page
from mnemo.stores.plans import LockScope, Plan, PlanRunner, Row, Statement, single

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 5
# Candidates one claim may pass over (their key was just taken by a concurrent claim or
# debounce) before it gives up until the next poll.
MAX_SKIPPED_CANDIDATES = 16


class SqlTaskQueue:
    """Implements TaskQueue on a PlanRunner; subclasses pick the database."""

    def __init__(
        self,
        runner: PlanRunner,
        *,
        default_max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._runner = runner
        self._sql = TaskStatements(runner.spelling)
        self._default_max_attempts = default_max_attempts
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []

    async def open(self) -> None:
        """Nothing to do: the queue shares the store's open database."""

    async def close(self) -> None:
        """Nothing to do: the store closes its database."""

    def on_enqueue(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

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
        now = self._clock()
        start = run_after.timestamp() if run_after else now
        task = self._new(task_type, payload, namespace, start, max_attempts, now)
        added = await self._runner.run(self._add(task, idempotency_key))
        self._notify()
        return added

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
        now = self._clock()
        task = self._new(task_type, payload, namespace, now + delay_s, max_attempts, now)
        debounced = await self._runner.run(self._debounce(task, key, now))
        self._notify()
        return debounced

    async def claim(
        self, worker_id: str, lease_s: float, types: frozenset[str] | None = None
    ) -> Task | None:
        if types is not None and not types:
            return None
        return await self._runner.run(self._claim(worker_id, lease_s, types, self._clock()))

    async def heartbeat(self, task_id: str, worker_id: str, lease_s: float) -> bool:
        now = self._clock()
        return await self._changes(self._sql.heartbeat(task_id, worker_id, now + lease_s, now))

    async def complete(self, task_id: str, worker_id: str, result: JsonValue) -> bool:
        return await self._changes(self._sql.complete(task_id, worker_id, result, self._clock()))

    async def fail(
        self, task_id: str, worker_id: str, error: str, retry_at: datetime | None
    ) -> bool:
        retry = None if retry_at is None else retry_at.timestamp()
        changed = await self._changes(
            self._sql.fail(task_id, worker_id, error, retry, self._clock())
        )
        if retry is not None:
            self._notify()
        return changed

    async def release(self, task_id: str, worker_id: str) -> bool:
        return await self._changes(self._sql.release(task_id, worker_id, self._clock()))

    async def get(self, task_id: str) -> Task | None:
        rows = await self._runner.run(single(self._sql.get(task_id)), write=False)
        return self._sql.task(rows[0]) if rows else None

    async def list(
        self, namespace: str | None, status: TaskStatus | None, limit: int, offset: int
    ) -> Page[Task]:
        return await self._runner.run(self._page(namespace, status, limit, offset), write=False)

    async def counts(self) -> dict[tuple[str, TaskStatus], int]:
        rows = await self._runner.run(single(self._sql.counts()), write=False)
        return {(r["type"], TaskStatus(r["status"])): int(r["n"]) for r in rows}

    def _new(
        self,
        task_type: str,
        payload: JsonObject,
        namespace: str,
        run_after: float,
        max_attempts: int | None,
        now: float,
    ) -> Task:
        attempts = max_attempts or self._default_max_attempts
        return new_task(
            task_type,
            payload,
            namespace=namespace,
            run_after=run_after,
            max_attempts=attempts,
            now=now,
        )

    def _add(self, task: Task, idempotency_key: str | None) -> Plan[Task]:
        rows = yield self._sql.insert(task, idempotency_key=idempotency_key)
        if not rows and idempotency_key is not None:  # the key is taken: that task it is
            rows = yield self._sql.by_idempotency_key(task.namespace, task.type, idempotency_key)
        return self._sql.task(rows[0])

    def _debounce(self, task: Task, key: str, now: float) -> Plan[Task]:
        lock = self._runner.lock(
            LockScope.TASK_KEY, _key_name(task.namespace, task.type, key), wait=True
        )
        if lock is not None:  # so that two callers never both add a pending task
            yield lock
        rows = yield self._sql.push_debounced(
            task.namespace, task.type, key, task.payload, task.run_after.timestamp(), now
        )
        if not rows:
            rows = yield self._sql.insert(task, debounce_key=key)
        return self._sql.task(rows[0])

    def _claim(
        self, worker_id: str, lease_s: float, types: frozenset[str] | None, now: float
    ) -> Plan[Task | None]:
        yield self._sql.bury_exhausted(now)
        type_list = None if types is None else sorted(types)
        for order in (EXPIRED_LEASES, DUE_PENDING):
            skipped: list[str] = []
            while len(skipped) <= MAX_SKIPPED_CANDIDATES:
                rows = yield self._sql.next_claimable(
                    order, now, type_list, skipped, self._runner.skip_locked
                )
                if not rows:
                    break
                task = yield from self._start(rows[0], worker_id, lease_s, now)
                if task is not None:
                    return task
                skipped.append(rows[0]["id"])
        return None

    def _start(
        self, candidate: Row, worker_id: str, lease_s: float, now: float
    ) -> Plan[Task | None]:
        """Start the candidate unless its debounce key is busy. A key that a concurrent claim
        or debounce has locked is passed over; once the lock is ours, `start` checks the key
        again, so a claim of the same key that committed meanwhile wins."""
        if candidate["debounce_key"] is not None:
            name = _key_name(candidate["namespace"], candidate["type"], candidate["debounce_key"])
            lock = self._runner.lock(LockScope.TASK_KEY, name, wait=False)
            if lock is not None and not (yield lock)[0]["locked"]:
                return None
        started = yield self._sql.start(candidate["id"], worker_id, now, lease_s)
        return self._sql.task(started[0]) if started else None

    def _page(
        self, namespace: str | None, status: TaskStatus | None, limit: int, offset: int
    ) -> Plan[Page[Task]]:
        count, select = self._sql.page(namespace, status, limit, offset)
        total = (yield count)[0]["total"]
        rows = yield select
        return Page([self._sql.task(r) for r in rows], int(total))

    async def _changes(self, statement: Statement) -> bool:
        return bool(await self._runner.run(single(statement)))

    def _notify(self) -> None:
        for callback in self._listeners:
            try:
                callback()
            except Exception:  # a listener must never fail the write that already committed
                log.exception("task queue listener failed")


def _key_name(namespace: str, task_type: str, key: str) -> str:
    return json.dumps([namespace, task_type, key])
