"""SQLiteTaskQueue: the TaskQueue port on the store's SQLite file (table `tasks`)."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import JsonValue

from mnemo.jobs.queue import JsonObject, Task, TaskStatus
from mnemo.models import new_id
from mnemo.stores.base import Page
from mnemo.stores.sqlite_db import SQLiteDatabase

log = logging.getLogger(__name__)

_COLUMNS = (
    "id", "namespace", "type", "payload", "status", "attempts", "max_attempts",
    "idempotency_key", "debounce_key", "run_after", "worker_id", "lease_until", "result",
    "error", "created_at", "updated_at", "started_at", "completed_at",
)  # fmt: skip
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM tasks"
_INSERT = f"INSERT INTO tasks ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_OWNED = "id = ? AND worker_id = ? AND status = 'running'"


class SQLiteTaskQueue:
    """Tasks in the same SQLite file as the store; BEGIN IMMEDIATE serialises claims, also
    across processes (`mnemo worker`) sharing the file."""

    def __init__(
        self,
        db: SQLiteDatabase,
        *,
        default_max_attempts: int = 5,
        owns_database: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._default_max_attempts = default_max_attempts
        self._owns_database = owns_database
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []

    async def open(self) -> None:
        if self._owns_database:
            self._db.open()

    async def close(self) -> None:
        if self._owns_database:
            self._db.close()

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
        def work(conn: sqlite3.Connection) -> Task:
            if idempotency_key is not None:
                row = conn.execute(
                    f"{_SELECT} WHERE namespace = ? AND type = ? AND idempotency_key = ?",
                    (namespace, task_type, idempotency_key),
                ).fetchone()
                if row is not None:
                    return _task_from_row(row)
            now = self._clock()
            start = run_after.timestamp() if run_after else now
            task = self._new_task(task_type, payload, namespace, start, max_attempts)
            conn.execute(_INSERT, _task_params(task, idempotency_key=idempotency_key))
            return _task_from_row(conn.execute(f"{_SELECT} WHERE id = ?", (task.id,)).fetchone())

        task = await self._db.write(work)
        self._notify()
        return task

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
        def work(conn: sqlite3.Connection) -> Task:
            now = self._clock()
            row = conn.execute(
                "SELECT id FROM tasks WHERE namespace = ? AND type = ? AND debounce_key = ? "
                "AND status = 'pending' ORDER BY created_at LIMIT 1",
                (namespace, task_type, key),
            ).fetchone()
            if row is None:
                task = self._new_task(task_type, payload, namespace, now + delay_s, max_attempts)
                conn.execute(_INSERT, _task_params(task, debounce_key=key))
                task_id = task.id
            else:
                task_id = row[0]
                conn.execute(
                    "UPDATE tasks SET payload = ?, run_after = max(run_after, ?), updated_at = ? "
                    "WHERE id = ?",
                    (json.dumps(payload), now + delay_s, now, task_id),
                )
            return _task_from_row(conn.execute(f"{_SELECT} WHERE id = ?", (task_id,)).fetchone())

        task = await self._db.write(work)
        self._notify()
        return task

    async def claim(
        self, worker_id: str, lease_s: float, types: frozenset[str] | None = None
    ) -> Task | None:
        if types is not None and not types:
            return None

        def work(conn: sqlite3.Connection) -> Task | None:
            now = self._clock()
            _bury_exhausted(conn, now)
            task_id = _next_claimable(conn, now, types)
            if task_id is None:
                return None
            conn.execute(
                "UPDATE tasks SET status = 'running', worker_id = ?, lease_until = ?, "
                "attempts = attempts + 1, started_at = ?, updated_at = ? WHERE id = ?",
                (worker_id, now + lease_s, now, now, task_id),
            )
            return _task_from_row(conn.execute(f"{_SELECT} WHERE id = ?", (task_id,)).fetchone())

        return await self._db.write(work)

    async def heartbeat(self, task_id: str, worker_id: str, lease_s: float) -> bool:
        now = self._clock()
        return await self._update_owned(
            "lease_until = ?, updated_at = ?", (now + lease_s, now), task_id, worker_id
        )

    async def complete(self, task_id: str, worker_id: str, result: JsonValue) -> bool:
        now = self._clock()
        return await self._update_owned(
            "status = 'succeeded', result = ?, error = NULL, lease_until = NULL, "
            "completed_at = ?, updated_at = ?",
            (json.dumps(result), now, now),
            task_id,
            worker_id,
        )

    async def fail(
        self, task_id: str, worker_id: str, error: str, retry_at: datetime | None
    ) -> bool:
        now = self._clock()
        if retry_at is None:
            sets = (
                "status = 'dead', error = ?, lease_until = NULL, completed_at = ?, updated_at = ?"
            )
            return await self._update_owned(sets, (error, now, now), task_id, worker_id)
        sets = (
            "status = 'pending', error = ?, run_after = ?, worker_id = NULL, lease_until = NULL, "
            "updated_at = ?"
        )
        changed = await self._update_owned(
            sets, (error, retry_at.timestamp(), now), task_id, worker_id
        )
        self._notify()
        return changed

    async def release(self, task_id: str, worker_id: str) -> bool:
        now = self._clock()
        sets = (
            "status = 'pending', attempts = max(attempts - 1, 0), run_after = ?, "
            "worker_id = NULL, lease_until = NULL, updated_at = ?"
        )
        return await self._update_owned(sets, (now, now), task_id, worker_id)

    async def get(self, task_id: str) -> Task | None:
        row = await self._db.read(
            lambda conn: conn.execute(f"{_SELECT} WHERE id = ?", (task_id,)).fetchone()
        )
        return None if row is None else _task_from_row(row)

    async def list(
        self, namespace: str | None, status: TaskStatus | None, limit: int, offset: int
    ) -> Page[Task]:
        clauses, params = [], []
        if namespace is not None:
            clauses.append("namespace = ?")
            params.append(namespace)
        if status is not None:
            clauses.append("status = ?")
            params.append(status.value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""

        def work(conn: sqlite3.Connection) -> Page[Task]:
            total = conn.execute(f"SELECT COUNT(*) FROM tasks{where}", params).fetchone()[0]
            rows = conn.execute(
                f"{_SELECT}{where} ORDER BY seq DESC LIMIT ? OFFSET ?", (*params, limit, offset)
            ).fetchall()
            return Page([_task_from_row(r) for r in rows], int(total))

        return await self._db.read(work)

    async def counts(self) -> dict[tuple[str, TaskStatus], int]:
        rows = await self._db.read(
            lambda conn: conn.execute(
                "SELECT type, status, COUNT(*) FROM tasks GROUP BY type, status"
            ).fetchall()
        )
        return {(r[0], TaskStatus(r[1])): int(r[2]) for r in rows}

    def _new_task(
        self,
        task_type: str,
        payload: JsonObject,
        namespace: str,
        run_after: float,
        max_attempts: int | None,
    ) -> Task:
        now = _dt(self._clock())
        return Task(
            id=new_id(),
            namespace=namespace,
            type=task_type,
            payload=payload,
            status=TaskStatus.PENDING,
            attempts=0,
            max_attempts=max(1, max_attempts or self._default_max_attempts),
            run_after=_dt(run_after),
            created_at=now,
            updated_at=now,
        )

    async def _update_owned(
        self, sets: str, params: tuple[object, ...], task_id: str, worker_id: str
    ) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                f"UPDATE tasks SET {sets} WHERE {_OWNED}", (*params, task_id, worker_id)
            )
            return cursor.rowcount == 1

        return await self._db.write(work)

    def _notify(self) -> None:
        for callback in self._listeners:
            try:
                callback()
            except Exception:  # a listener must never fail the write that already committed
                log.exception("task queue listener failed")


def _next_claimable(
    conn: sqlite3.Connection, now: float, types: frozenset[str] | None
) -> str | None:
    """Expired leases first, then due pending tasks: two lookups, each on its partial index
    in claim order (one OR query would sort every due row)."""
    type_clause = "" if types is None else f" AND type IN ({', '.join('?' * len(types))})"
    type_params = () if types is None else tuple(sorted(types))
    for sql in (
        "SELECT id FROM tasks WHERE status = 'running' AND lease_until < ?{} "
        "ORDER BY lease_until LIMIT 1",
        "SELECT id FROM tasks WHERE status = 'pending' AND run_after <= ?{} "
        "ORDER BY run_after, seq LIMIT 1",
    ):
        row = conn.execute(sql.format(type_clause), (now, *type_params)).fetchone()
        if row is not None:
            return str(row[0])
    return None


def _bury_exhausted(conn: sqlite3.Connection, now: float) -> None:
    """Expired leases of tasks that used every attempt: dead, not retried forever."""
    conn.execute(
        "UPDATE tasks SET status = 'dead', lease_until = NULL, completed_at = ?, updated_at = ?, "
        "error = 'lease expired on the last attempt (the worker stopped or hung)' "
        "|| CASE WHEN error IS NULL THEN '' ELSE '; previous error: ' || error END "
        "WHERE status = 'running' AND lease_until < ? AND attempts >= max_attempts",
        (now, now, now),
    )


def _task_params(
    task: Task, *, idempotency_key: str | None = None, debounce_key: str | None = None
) -> tuple[object, ...]:
    return (
        task.id, task.namespace, task.type, json.dumps(task.payload), task.status.value,
        task.attempts, task.max_attempts, idempotency_key, debounce_key,
        task.run_after.timestamp(), None, None, None, None, task.created_at.timestamp(),
        task.updated_at.timestamp(), None, None,
    )  # fmt: skip


def _task_from_row(row: sqlite3.Row) -> Task:
    return Task(
        id=row["id"],
        namespace=row["namespace"],
        type=row["type"],
        payload=json.loads(row["payload"]),
        status=TaskStatus(row["status"]),
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        idempotency_key=row["idempotency_key"],
        debounce_key=row["debounce_key"],
        run_after=_dt(row["run_after"]),
        worker_id=row["worker_id"],
        lease_until=_optional_dt(row["lease_until"]),
        result=None if row["result"] is None else json.loads(row["result"]),
        error=row["error"],
        created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
        started_at=_optional_dt(row["started_at"]),
        completed_at=_optional_dt(row["completed_at"]),
    )


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _optional_dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else _dt(epoch)
