"""SqlBatchStore: the BatchStore port written once, as plans, for every SQL database."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from mnemo.models import Message, new_id
from mnemo.stores.batch_store import AppendOutcome, BatchKey, SealedBatch
from mnemo.stores.plans import LockScope, Plan, PlanRunner, Row

_BATCH_COLUMNS = "namespace, id, user_id, session_id, sealed_at, task_id"


class SqlBatchStore:
    """Implements BatchStore on a PlanRunner (the task queue's database, so one database holds
    buffers and tasks). Appends to one key take turns (SQLite: one writer at a time;
    PostgreSQL: an advisory lock on the key), so every message is sealed exactly once."""

    def __init__(self, runner: PlanRunner) -> None:
        self._runner = runner
        p = self._p = runner.spelling.placeholder
        self._key = f"namespace = {p} AND user_id = {p} AND session_id = {p}"

    async def append(
        self, key: BatchKey, messages: Sequence[Message], batch_size: int
    ) -> AppendOutcome:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        return await self._runner.run(self._append(key, messages, batch_size))

    async def unqueued(self, limit: int) -> list[SealedBatch]:
        return await self._runner.run(self._unqueued(limit), write=False)

    async def mark_queued(self, namespace: str, batch_id: str, task_id: str) -> None:
        await self._runner.run(self._mark_queued(namespace, batch_id, task_id))

    def _append(
        self, key: BatchKey, messages: Sequence[Message], batch_size: int
    ) -> Plan[AppendOutcome]:
        params = _key_params(key)
        lock = self._runner.lock(LockScope.BATCH_KEY, json.dumps(params), wait=True)
        if lock is not None:
            yield lock
        for m in messages:
            yield (
                "INSERT INTO message_batch_items (namespace, user_id, session_id, id, role, "
                f"content, created_at) VALUES ({self._runner.spelling.marks(7)})",
                (*params, m.id, m.role, m.content, m.created_at.timestamp()),
            )
        count = (
            f"SELECT COUNT(*) AS n FROM message_batch_items WHERE {self._key} AND batch_id IS NULL"
        )
        pending = int((yield count, params)[0]["n"])
        sealed = []
        while pending >= batch_size:
            sealed.append((yield from self._seal(key, batch_size)))
            pending -= batch_size
        last = yield (
            f"SELECT {_BATCH_COLUMNS} FROM message_batches WHERE {self._key} "
            "ORDER BY sealed_at DESC, id DESC LIMIT 1",
            params,
        )
        return AppendOutcome(pending, sealed, _batch_from_row(last[0], []) if last else None)

    def _seal(self, key: BatchKey, size: int) -> Plan[SealedBatch]:
        """Give the key's oldest `size` pending messages a new batch id, recorded in a batch row."""
        p, params = self._p, _key_params(key)
        batch_id, now = new_id(), time.time()
        yield (
            f"UPDATE message_batch_items SET batch_id = {p} WHERE namespace = {p} AND seq IN "
            f"(SELECT seq FROM message_batch_items WHERE {self._key} AND batch_id IS NULL "
            f"ORDER BY seq LIMIT {p})",
            (batch_id, key.namespace, *params, size),
        )
        yield (
            "INSERT INTO message_batches (namespace, id, user_id, session_id, size, sealed_at) "
            f"VALUES ({self._runner.spelling.marks(6)})",
            (key.namespace, batch_id, key.user_id, key.session_id or "", size, now),
        )
        messages = yield from self._batch_messages(key.namespace, batch_id)
        return SealedBatch(batch_id, key, messages, _dt(now))

    def _batch_messages(self, namespace: str, batch_id: str) -> Plan[list[Message]]:
        rows = yield (
            "SELECT id, role, content, created_at FROM message_batch_items "
            f"WHERE namespace = {self._p} AND batch_id = {self._p} ORDER BY seq",
            (namespace, batch_id),
        )
        return [
            Message(
                id=r["id"], role=r["role"], content=r["content"], created_at=_dt(r["created_at"])
            )
            for r in rows
        ]

    def _unqueued(self, limit: int) -> Plan[list[SealedBatch]]:
        rows = yield (
            f"SELECT {_BATCH_COLUMNS} FROM message_batches WHERE task_id IS NULL "
            f"ORDER BY sealed_at, id LIMIT {self._p}",
            (limit,),
        )
        batches = []
        for row in rows:
            messages = yield from self._batch_messages(row["namespace"], row["id"])
            batches.append(_batch_from_row(row, messages))
        return batches

    def _mark_queued(self, namespace: str, batch_id: str, task_id: str) -> Plan[None]:
        p = self._p
        yield (
            f"UPDATE message_batches SET task_id = {p}, queued_at = {p} "
            f"WHERE namespace = {p} AND id = {p}",
            (task_id, time.time(), namespace, batch_id),
        )
        yield (
            f"DELETE FROM message_batch_items WHERE namespace = {p} AND batch_id = {p}",
            (namespace, batch_id),
        )


def _key_params(key: BatchKey) -> tuple[str, str, str]:
    return key.namespace, key.user_id, key.session_id or ""


def _batch_from_row(row: Row, messages: list[Message]) -> SealedBatch:
    key = BatchKey(row["namespace"], row["user_id"], row["session_id"] or None)
    return SealedBatch(row["id"], key, messages, _dt(row["sealed_at"]), row["task_id"])


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
