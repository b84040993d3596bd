"""The `tasks` table on any SQL database: its columns, claim order, statements, rows <-> Task.

Times are epoch seconds and JSON is text (SQLite) or jsonb (PostgreSQL); the statements differ
only in the spellings of `mnemo.stores.spellings`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import JsonValue

from mnemo.jobs.queue import JsonObject, Task, TaskStatus
from mnemo.models import new_id
from mnemo.stores.plans import Row, Statement
from mnemo.stores.spellings import Spelling

TASK_COLUMNS = (
    "id", "namespace", "type", "payload", "status", "attempts", "max_attempts",
    "idempotency_key", "debounce_key", "run_after", "worker_id", "lease_until", "result",
    "error", "created_at", "updated_at", "started_at", "completed_at",
)  # fmt: skip
LEASE_EXPIRED_ERROR = "lease expired on the last attempt (the worker stopped or hung)"

# Claim order: expired leases first (oldest lease), then due pending tasks (oldest run_after),
# insertion order (seq) breaking ties. Two lookups, each on its partial index in this order:
# one OR query would sort every due row.
EXPIRED_LEASES = "t.status = 'running' AND t.lease_until < {p}", "t.lease_until, t.seq"
DUE_PENDING = "t.status = 'pending' AND t.run_after <= {p}", "t.run_after, t.seq"


class TaskStatements:
    """Every statement the SQL task queues run, spelled for one database."""

    def __init__(self, spelling: Spelling) -> None:
        p = spelling.placeholder
        self._spelling = spelling
        self._p = p
        self._columns = ", ".join(TASK_COLUMNS)
        self._returning = f" RETURNING {self._columns}"
        self._owned = f" WHERE id = {p} AND worker_id = {p} AND status = 'running' RETURNING id"
        # A task whose debounce key has a live run waits: one run per key at a time (a
        # session's extraction never runs twice at once, whichever processes claim).
        self._key_is_free = (
            "(t.debounce_key IS NULL OR NOT EXISTS (SELECT 1 FROM tasks r WHERE "
            f"r.status = 'running' AND r.lease_until >= {p} AND r.namespace = t.namespace "
            "AND r.type = t.type AND r.debounce_key = t.debounce_key))"
        )

    def task(self, row: Row) -> Task:
        return task_from_row(row, self._spelling.decode_json)

    def insert(
        self, task: Task, *, idempotency_key: str | None = None, debounce_key: str | None = None
    ) -> Statement:
        """Insert, or nothing (no row returned) when the idempotency key is already used."""
        marks = self._spelling.marks(len(TASK_COLUMNS))
        sql = (
            f"INSERT INTO tasks ({self._columns}) VALUES ({marks}) "
            "ON CONFLICT (namespace, type, idempotency_key) WHERE idempotency_key IS NOT NULL "
            f"DO NOTHING{self._returning}"
        )
        return sql, _task_params(task, idempotency_key, debounce_key)

    def by_idempotency_key(self, namespace: str, task_type: str, key: str) -> Statement:
        p = self._p
        return (
            f"SELECT {self._columns} FROM tasks "
            f"WHERE namespace = {p} AND type = {p} AND idempotency_key = {p}",
            (namespace, task_type, key),
        )

    def push_debounced(
        self,
        namespace: str,
        task_type: str,
        key: str,
        payload: JsonObject,
        run_after: float,
        now: float,
    ) -> Statement:
        """The key's pending task takes the payload and runs no earlier than run_after."""
        p, greatest = self._p, self._spelling.greatest
        sql = (
            f"UPDATE tasks SET payload = {p}, run_after = {greatest}(run_after, {p}), "
            f"updated_at = {p} WHERE status = 'pending' AND id = (SELECT id FROM tasks "
            f"WHERE namespace = {p} AND type = {p} AND debounce_key = {p} AND status = 'pending' "
            f"ORDER BY created_at, seq LIMIT 1){self._returning}"
        )
        return sql, (json.dumps(payload), run_after, now, namespace, task_type, key)

    def bury_exhausted(self, now: float) -> Statement:
        """Expired leases of tasks that used every attempt: dead, not retried forever."""
        p = self._p
        sql = (
            f"UPDATE tasks SET status = 'dead', lease_until = NULL, completed_at = {p}, "
            f"updated_at = {p}, error = '{LEASE_EXPIRED_ERROR}' || CASE WHEN error IS NULL "
            "THEN '' ELSE '; previous error: ' || error END "
            f"WHERE status = 'running' AND lease_until < {p} AND attempts >= max_attempts"
        )
        return sql, (now, now, now)

    def next_claimable(
        self,
        order: tuple[str, str],
        now: float,
        types: Sequence[str] | None,
        skipped: Sequence[str] = (),
        suffix: str = "",
    ) -> Statement:
        """The first claimable task in one branch of the claim order (`EXPIRED_LEASES` or
        `DUE_PENDING`) whose key is free, leaving out the `skipped` ids."""
        state, sort = order
        sql = (
            "SELECT t.id, t.namespace, t.type, t.debounce_key FROM tasks t "
            f"WHERE {state.format(p=self._p)}"
        )
        params: list[object] = [now]
        if types is not None:
            sql += f" AND t.type IN ({self._spelling.marks(len(types))})"
            params.extend(types)
        if skipped:
            sql += f" AND t.id NOT IN ({self._spelling.marks(len(skipped))})"
            params.extend(skipped)
        sql = f"{sql} AND {self._key_is_free} ORDER BY {sort} LIMIT 1{suffix}"
        return sql, (*params, now)

    def start(self, task_id: str, worker_id: str, now: float, lease_s: float) -> Statement:
        """Mark the task running for worker_id, unless its key turned out to be taken."""
        p = self._p
        sql = (
            f"UPDATE tasks AS t SET status = 'running', worker_id = {p}, lease_until = {p}, "
            f"attempts = attempts + 1, started_at = {p}, updated_at = {p} "
            f"WHERE t.id = {p} AND {self._key_is_free}{self._returning}"
        )
        return sql, (worker_id, now + lease_s, now, now, task_id, now)

    def heartbeat(self, task_id: str, worker_id: str, lease_until: float, now: float) -> Statement:
        sql = f"UPDATE tasks SET lease_until = {self._p}, updated_at = {self._p}{self._owned}"
        return sql, (lease_until, now, task_id, worker_id)

    def complete(self, task_id: str, worker_id: str, result: JsonValue, now: float) -> Statement:
        p = self._p
        sql = (
            f"UPDATE tasks SET status = 'succeeded', result = {p}, error = NULL, "
            f"lease_until = NULL, completed_at = {p}, updated_at = {p}{self._owned}"
        )
        return sql, (json.dumps(result), now, now, task_id, worker_id)

    def fail(
        self, task_id: str, worker_id: str, error: str, retry_at: float | None, now: float
    ) -> Statement:
        p = self._p
        if retry_at is None:
            sql = (
                f"UPDATE tasks SET status = 'dead', error = {p}, lease_until = NULL, "
                f"completed_at = {p}, updated_at = {p}{self._owned}"
            )
            return sql, (error, now, now, task_id, worker_id)
        sql = (
            f"UPDATE tasks SET status = 'pending', error = {p}, run_after = {p}, "
            f"worker_id = NULL, lease_until = NULL, updated_at = {p}{self._owned}"
        )
        return sql, (error, retry_at, now, task_id, worker_id)

    def release(self, task_id: str, worker_id: str, now: float) -> Statement:
        p = self._p
        sql = (
            f"UPDATE tasks SET status = 'pending', attempts = {self._spelling.greatest}"
            f"(attempts - 1, 0), run_after = {p}, worker_id = NULL, lease_until = NULL, "
            f"updated_at = {p}{self._owned}"
        )
        return sql, (now, now, task_id, worker_id)

    def get(self, task_id: str) -> Statement:
        return f"SELECT {self._columns} FROM tasks WHERE id = {self._p}", (task_id,)

    def page(
        self, namespace: str | None, status: TaskStatus | None, limit: int, offset: int
    ) -> tuple[Statement, Statement]:
        """Count and rows of one page, newest first."""
        clauses, params = [], []
        if namespace is not None:
            clauses.append(f"namespace = {self._p}")
            params.append(namespace)
        if status is not None:
            clauses.append(f"status = {self._p}")
            params.append(status.value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = (
            f"SELECT {self._columns} FROM tasks{where} ORDER BY seq DESC "
            f"LIMIT {self._p} OFFSET {self._p}"
        )
        return (f"SELECT COUNT(*) AS total FROM tasks{where}", tuple(params)), (
            rows,
            (*params, limit, offset),
        )

    def counts(self) -> Statement:
        return "SELECT type, status, COUNT(*) AS n FROM tasks GROUP BY type, status", ()


def new_task(
    task_type: str,
    payload: JsonObject,
    *,
    namespace: str,
    run_after: float,
    max_attempts: int,
    now: float,
) -> Task:
    return Task(
        id=new_id(),
        namespace=namespace,
        type=task_type,
        payload=payload,
        status=TaskStatus.PENDING,
        attempts=0,
        max_attempts=max(1, max_attempts),
        run_after=_dt(run_after),
        created_at=_dt(now),
        updated_at=_dt(now),
    )


def task_from_row(row: Row, decode_json: Callable[[Any], JsonValue]) -> Task:
    payload = decode_json(row["payload"])
    if not isinstance(payload, dict):
        raise ValueError(f"task {row['id']} has a payload that is not a JSON object")
    return Task(
        id=row["id"],
        namespace=row["namespace"],
        type=row["type"],
        payload=payload,
        status=TaskStatus(row["status"]),
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        idempotency_key=row["idempotency_key"],
        debounce_key=row["debounce_key"],
        run_after=_dt(row["run_after"]),
        worker_id=row["worker_id"],
        lease_until=_optional_dt(row["lease_until"]),
        result=None if row["result"] is None else decode_json(row["result"]),
        error=row["error"],
        created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
        started_at=_optional_dt(row["started_at"]),
        completed_at=_optional_dt(row["completed_at"]),
    )


def _task_params(
    task: Task, idempotency_key: str | None, debounce_key: str | None
) -> tuple[object, ...]:
    return (
        task.id, task.namespace, task.type, json.dumps(task.payload), task.status.value,
        task.attempts, task.max_attempts, idempotency_key, debounce_key,
        task.run_after.timestamp(), None, None, None, None, task.created_at.timestamp(),
        task.updated_at.timestamp(), None, None,
    )  # fmt: skip


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _optional_dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else _dt(epoch)
