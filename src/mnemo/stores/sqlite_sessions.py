"""Sessions and working memory in SQLite: the session row, its messages, their indexing."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mnemo.models import EventKind, MemoryEvent, Message, Session
from mnemo.stores.base import Page, VectorRecord
from mnemo.stores.records import epoch, event_to_row, from_epoch
from mnemo.stores.sqlite_db import SQLiteDatabase
from mnemo.stores.sqlite_statements import INSERT_EVENT, INSERT_MEMORY, memory_params

_SESSION_COLUMNS = (
    "namespace", "session_id", "user_id", "agent_id", "context", "data", "memories", "strategy",
    "tokens", "ttl_seconds", "expires_at", "created_at", "updated_at", "last_accessed_at",
)  # fmt: skip


class SQLiteSessions:
    """The session half of the SQLite store."""

    def __init__(self, path: Path) -> None:
        self.db = SQLiteDatabase(path)

    async def get_session(self, namespace: str, session_id: str) -> Session | None:
        def work(conn: sqlite3.Connection) -> Session | None:
            row = conn.execute(
                f"SELECT {', '.join(_SESSION_COLUMNS)} FROM sessions "
                "WHERE namespace = ? AND session_id = ? "
                "AND (expires_at IS NULL OR expires_at > unixepoch())",
                (namespace, session_id),
            ).fetchone()
            if row is None:
                return None
            messages = conn.execute(
                "SELECT id, role, content, created_at, persisted_at, metadata, extracted "
                "FROM messages WHERE namespace = ? AND session_id = ? ORDER BY position",
                (namespace, session_id),
            ).fetchall()
            return _session_from_rows(row, messages)

        return await self.db.read(work)

    async def save_session(self, session: Session, records: Sequence[VectorRecord]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            key = (session.namespace, session.session_id)
            conn.execute(
                f"INSERT OR REPLACE INTO sessions ({', '.join(_SESSION_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_SESSION_COLUMNS))})",
                _session_params(session),
            )
            conn.execute("DELETE FROM messages WHERE namespace = ? AND session_id = ?", key)
            conn.executemany(
                "INSERT INTO messages (namespace, session_id, position, id, role, content, "
                "created_at, persisted_at, metadata, extracted) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(*key, i, *_message_params(m)) for i, m in enumerate(session.messages)],
            )
            for record in records:
                m = record.memory
                exists = conn.execute(
                    "SELECT 1 FROM memories WHERE namespace = ? AND id = ?", (m.namespace, m.id)
                ).fetchone()
                if not exists:
                    conn.execute(INSERT_MEMORY, memory_params(m, record.vector))
                    event = MemoryEvent(
                        memory_id=m.id,
                        namespace=m.namespace,
                        event=EventKind.ADD,
                        new_text=m.text,
                        actor="working-memory",
                    )
                    conn.execute(INSERT_EVENT, event_to_row(event))

        await self.db.write(work)

    async def delete_session(self, namespace: str, session_id: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            key = (namespace, session_id)
            conn.execute("DELETE FROM messages WHERE namespace = ? AND session_id = ?", key)
            cursor = conn.execute(
                "DELETE FROM sessions WHERE namespace = ? AND session_id = ?", key
            )
            return bool(cursor.rowcount)

        return await self.db.write(work)

    async def mark_messages_extracted(
        self, namespace: str, session_id: str, message_ids: Sequence[str]
    ) -> None:
        params = [(namespace, session_id, mid) for mid in message_ids]
        await self.db.write(
            lambda conn: conn.executemany(
                "UPDATE messages SET extracted = 1 "
                "WHERE namespace = ? AND session_id = ? AND id = ?",
                params,
            )
        )

    async def list_sessions(
        self, namespace: str | None, user_id: str | None, limit: int, offset: int
    ) -> Page[str]:
        where, params = ["(expires_at IS NULL OR expires_at > unixepoch())"], []
        if namespace is not None:
            where.append("namespace = ?")
            params.append(namespace)
        if user_id is not None:
            where.append("user_id = ?")
            params.append(user_id)
        clause = " AND ".join(where)

        def work(conn: sqlite3.Connection) -> Page[str]:
            total = conn.execute(
                f"SELECT COUNT(*) FROM sessions WHERE {clause}", params
            ).fetchone()[0]
            rows = conn.execute(
                f"SELECT session_id FROM sessions WHERE {clause} "
                "ORDER BY updated_at DESC, session_id LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
            return Page([r[0] for r in rows], total)

        return await self.db.read(work)


def _session_params(s: Session) -> tuple[object, ...]:
    expires = epoch(s.updated_at) + s.ttl_seconds if s.ttl_seconds else None  # type: ignore[operator]
    return (
        s.namespace, s.session_id, s.user_id, s.agent_id, s.context,
        None if s.data is None else json.dumps(s.data), json.dumps(s.memories),
        json.dumps(s.strategy), s.tokens, s.ttl_seconds, expires, epoch(s.created_at),
        epoch(s.updated_at), epoch(s.last_accessed_at),
    )  # fmt: skip


def _message_params(m: Message) -> tuple[object, ...]:
    return (
        m.id, m.role, m.content, epoch(m.created_at), epoch(m.persisted_at),
        json.dumps(m.metadata), int(m.extracted),
    )  # fmt: skip


def _session_from_rows(row: Any, messages: list[Any]) -> Session:
    return Session(
        namespace=row["namespace"],
        session_id=row["session_id"],
        user_id=row["user_id"],
        agent_id=row["agent_id"],
        context=row["context"],
        data=None if row["data"] is None else json.loads(row["data"]),
        memories=json.loads(row["memories"]),
        strategy=json.loads(row["strategy"]),
        tokens=row["tokens"],
        ttl_seconds=row["ttl_seconds"],
        created_at=from_epoch(row["created_at"]),
        updated_at=from_epoch(row["updated_at"]),
        last_accessed_at=from_epoch(row["last_accessed_at"]),
        messages=[
            Message(
                id=m["id"], role=m["role"], content=m["content"],
                created_at=from_epoch(m["created_at"]), persisted_at=from_epoch(m["persisted_at"]),
                metadata=json.loads(m["metadata"]), extracted=bool(m["extracted"]),
            )
            for m in messages
        ],
    )  # fmt: skip
