"""The session half of the PostgreSQL store: working memory, its messages, their indexing."""

from __future__ import annotations

from collections.abc import Sequence

from mnemo.models import Session
from mnemo.stores.base import Page, VectorRecord
from mnemo.stores.postgres_db import PostgresDatabase
from mnemo.stores.postgres_statements import (
    INSERT_EVENT,
    INSERT_MEMORY_IF_ABSENT,
    added_event,
    assignments,
    memory_params,
    value_list,
)
from mnemo.stores.records import (
    MESSAGE_COLUMNS,
    SESSION_COLUMNS,
    message_to_row,
    session_from_row,
    session_to_row,
)

_LIVE = "(s.expires_at IS NULL OR s.expires_at > extract(epoch FROM now()))"
_UPSERT_SESSION = (
    f"INSERT INTO sessions ({', '.join(SESSION_COLUMNS)}) VALUES ({value_list(SESSION_COLUMNS)}) "
    f"ON CONFLICT (namespace, session_id) DO UPDATE SET "
    f"{assignments(SESSION_COLUMNS[2:], 'EXCLUDED')}"
)
_MESSAGE_FIELDS = ("namespace", "session_id", "position", *MESSAGE_COLUMNS)
_INSERT_MESSAGE = (
    f"INSERT INTO messages ({', '.join(_MESSAGE_FIELDS)}) VALUES ({value_list(_MESSAGE_FIELDS)})"
)
# The messages come back inside the session's row, so both are read from one snapshot.
_SELECT_SESSION = (
    f"SELECT {', '.join('s.' + c for c in SESSION_COLUMNS)}, COALESCE(("
    "SELECT jsonb_agg(to_jsonb(g) ORDER BY g.position) FROM messages g "
    "WHERE g.namespace = s.namespace AND g.session_id = s.session_id), '[]') AS messages "
    f"FROM sessions s WHERE s.namespace = %s AND s.session_id = %s AND {_LIVE}"
)


class PostgresSessions:
    """Sessions and their messages; PostgresStore adds the long-term memories."""

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    async def get_session(self, namespace: str, session_id: str) -> Session | None:
        async with self.db.connection() as conn:
            cursor = await conn.execute(_SELECT_SESSION, (namespace, session_id))
            row = await cursor.fetchone()
        return None if row is None else session_from_row(row, row["messages"])

    async def save_session(self, session: Session, records: Sequence[VectorRecord]) -> None:
        key = {"namespace": session.namespace, "session_id": session.session_id}
        messages = [
            {**key, "position": i, **message_to_row(m)} for i, m in enumerate(session.messages)
        ]
        async with self.db.connection() as conn:
            await conn.execute(_UPSERT_SESSION, session_to_row(session))
            await conn.execute(
                "DELETE FROM messages WHERE namespace = %(namespace)s "
                "AND session_id = %(session_id)s",
                key,
            )
            await conn.cursor().executemany(_INSERT_MESSAGE, messages)
            for record in records:
                cursor = await conn.execute(
                    INSERT_MEMORY_IF_ABSENT, memory_params(record.memory, record.vector)
                )
                if await cursor.fetchone() is not None:
                    await conn.execute(INSERT_EVENT, added_event(record.memory, "working-memory"))

    async def delete_session(self, namespace: str, session_id: str) -> bool:
        key = (namespace, session_id)
        async with self.db.connection() as conn:
            await conn.execute("DELETE FROM messages WHERE namespace = %s AND session_id = %s", key)
            cursor = await conn.execute(
                "DELETE FROM sessions WHERE namespace = %s AND session_id = %s", key
            )
            return cursor.rowcount > 0

    async def mark_messages_extracted(
        self, namespace: str, session_id: str, message_ids: Sequence[str]
    ) -> None:
        async with self.db.connection() as conn:
            await conn.execute(
                "UPDATE messages SET extracted = true "
                "WHERE namespace = %s AND session_id = %s AND id = ANY(%s)",
                (namespace, session_id, list(message_ids)),
            )

    async def list_sessions(
        self, namespace: str | None, user_id: str | None, limit: int, offset: int
    ) -> Page[str]:
        where, params = [_LIVE], []
        for column, value in (("namespace", namespace), ("user_id", user_id)):
            if value is not None:
                where.append(f"s.{column} = %s")
                params.append(value)
        clause = " AND ".join(where)
        async with self.db.connection() as conn:
            cursor = await conn.execute(
                f"SELECT count(*) AS n FROM sessions s WHERE {clause}", params
            )
            total = await cursor.fetchone()
            cursor = await conn.execute(
                f"SELECT s.session_id FROM sessions s WHERE {clause} "
                "ORDER BY s.updated_at DESC, s.session_id LIMIT %s OFFSET %s",
                [*params, limit, offset],
            )
            rows = await cursor.fetchall()
        return Page([r["session_id"] for r in rows], int(total["n"]) if total else 0)
