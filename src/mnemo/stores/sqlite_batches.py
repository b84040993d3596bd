"""SQLiteBatchStore: the message batcher's buffers and sealed batches in a SQLite file."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from mnemo.models import Message, new_id
from mnemo.stores.batch_store import AppendOutcome, BatchKey, SealedBatch
from mnemo.stores.sqlite_db import SQLiteDatabase

_KEY = "namespace = ? AND user_id = ? AND session_id = ?"
_BATCH_COLUMNS = "namespace, id, user_id, session_id, sealed_at, task_id"


class SQLiteBatchStore:
    """Implements BatchStore on an open SQLiteDatabase (the task queue's, so one file holds
    buffers and tasks). BEGIN IMMEDIATE serialises appends, across processes too."""

    def __init__(self, db: SQLiteDatabase) -> None:
        self._db = db

    async def append(
        self, key: BatchKey, messages: Sequence[Message], batch_size: int
    ) -> AppendOutcome:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        params = _key_params(key)

        def work(conn: sqlite3.Connection) -> AppendOutcome:
            conn.executemany(
                "INSERT INTO message_batch_items (namespace, user_id, session_id, id, role, "
                "content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*params, m.id, m.role, m.content, m.created_at.timestamp()) for m in messages],
            )
            sealed = []
            while _pending(conn, params) >= batch_size:
                sealed.append(_seal(conn, key, batch_size))
            return AppendOutcome(_pending(conn, params), sealed, _last_batch(conn, key))

        return await self._db.write(work)

    async def unqueued(self, limit: int) -> list[SealedBatch]:
        def work(conn: sqlite3.Connection) -> list[SealedBatch]:
            rows = conn.execute(
                f"SELECT {_BATCH_COLUMNS} FROM message_batches WHERE task_id IS NULL "
                "ORDER BY sealed_at, id LIMIT ?",
                (limit,),
            ).fetchall()
            return [
                _batch_from_row(r, _batch_messages(conn, r["namespace"], r["id"])) for r in rows
            ]

        return await self._db.read(work)

    async def mark_queued(self, namespace: str, batch_id: str, task_id: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE message_batches SET task_id = ?, queued_at = ? WHERE namespace = ? "
                "AND id = ?",
                (task_id, time.time(), namespace, batch_id),
            )
            conn.execute(
                "DELETE FROM message_batch_items WHERE namespace = ? AND batch_id = ?",
                (namespace, batch_id),
            )

        await self._db.write(work)


def _key_params(key: BatchKey) -> tuple[str, str, str]:
    return key.namespace, key.user_id, key.session_id or ""


def _pending(conn: sqlite3.Connection, params: tuple[str, str, str]) -> int:
    row = conn.execute(
        f"SELECT COUNT(*) FROM message_batch_items WHERE {_KEY} AND batch_id IS NULL", params
    ).fetchone()
    return int(row[0])


def _seal(conn: sqlite3.Connection, key: BatchKey, size: int) -> SealedBatch:
    """Give the key's oldest `size` pending messages a new batch id; the batch row records it."""
    params = _key_params(key)
    batch_id, now = new_id(), time.time()
    conn.execute(
        "UPDATE message_batch_items SET batch_id = ? WHERE seq IN (SELECT seq FROM "
        f"message_batch_items WHERE {_KEY} AND batch_id IS NULL ORDER BY seq LIMIT ?)",
        (batch_id, *params, size),
    )
    conn.execute(
        "INSERT INTO message_batches (namespace, id, user_id, session_id, size, sealed_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (key.namespace, batch_id, key.user_id, key.session_id or "", size, now),
    )
    messages = _batch_messages(conn, key.namespace, batch_id)
    return SealedBatch(batch_id, key, messages, _dt(now))


def _batch_messages(conn: sqlite3.Connection, namespace: str, batch_id: str) -> list[Message]:
    rows = conn.execute(
        "SELECT id, role, content, created_at FROM message_batch_items "
        "WHERE namespace = ? AND batch_id = ? ORDER BY seq",
        (namespace, batch_id),
    ).fetchall()
    return [
        Message(id=r["id"], role=r["role"], content=r["content"], created_at=_dt(r["created_at"]))
        for r in rows
    ]


def _last_batch(conn: sqlite3.Connection, key: BatchKey) -> SealedBatch | None:
    row = conn.execute(
        f"SELECT {_BATCH_COLUMNS} FROM message_batches WHERE {_KEY} "
        "ORDER BY sealed_at DESC, id DESC LIMIT 1",
        _key_params(key),
    ).fetchone()
    return None if row is None else _batch_from_row(row, [])


def _batch_from_row(row: sqlite3.Row, messages: list[Message]) -> SealedBatch:
    key = BatchKey(row["namespace"], row["user_id"], row["session_id"] or None)
    return SealedBatch(row["id"], key, messages, _dt(row["sealed_at"]), row["task_id"])


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
