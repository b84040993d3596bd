"""PostgresStore: the production store, PostgreSQL + pgvector (HNSW) + full-text search."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mnemo.errors import EmbeddingModelMismatchError
from mnemo.filters import MemoryFilter
from mnemo.models import ApiKey, Memory, MemoryEvent
from mnemo.stores.base import (
    CandidateQuery,
    CandidateSet,
    ChangeSet,
    Page,
    Vector,
    VectorRecord,
)
from mnemo.stores.migrations import Migration
from mnemo.stores.postgres_db import PostgresDatabase
from mnemo.stores.postgres_search import EXACT_SCAN_LIMIT, HNSW_EF_SEARCH, CandidateSearch
from mnemo.stores.postgres_sessions import PostgresSessions
from mnemo.stores.postgres_statements import (
    INSERT_EVENT,
    SELECT_MEMORY,
    UPDATE_FIELDS,
    UPDATE_MEMORY_AND_VECTOR,
    UPSERT_MEMORY,
    memory_params,
    value_list,
)
from mnemo.stores.postgres_terms import PostgresTerms, backfill_terms
from mnemo.stores.postgres_vectors import PostgresVectors, stored_dimension
from mnemo.stores.records import (
    EVENT_COLUMNS,
    KEY_COLUMNS,
    check_embedding_model,
    event_from_row,
    event_to_row,
    key_from_row,
    key_to_row,
    memory_from_row,
    memory_to_row,
)
from mnemo.stores.sql_filters import SqlParam, compile_filter

_INSERT_KEY = f"INSERT INTO api_keys ({', '.join(KEY_COLUMNS)}) VALUES ({value_list(KEY_COLUMNS)})"


class PostgresDialect:
    """PostgreSQL spellings for the shared filter compiler (lists are jsonb arrays)."""

    placeholder = "%s"

    def list_has(self, column: str) -> str:
        return f"{column} ? %s"

    def list_has_any(self, column: str, count: int) -> str:  # noqa: ARG002 - one array param
        return f"{column} ?| %s"

    def list_has_all(self, column: str, count: int) -> str:  # noqa: ARG002 - one array param
        return f"{column} ?& %s"

    def list_params(self, values: Sequence[str]) -> list[SqlParam]:
        return [list(values)]

    def metadata_equals(self, key: str) -> str:
        # The key is part of the SQL text: quote it as a literal, and double % for psycopg.
        literal = "'" + key.replace("'", "''").replace("%", "%%") + "'"
        return f"m.metadata ->> {literal} = %s"

    def like_escape(self) -> str:
        return "ESCAPE '\\'"


class PostgresStore(PostgresSessions, PostgresVectors, PostgresTerms):
    """Implements the Store port on PostgreSQL (sessions live in PostgresSessions)."""

    dialect = PostgresDialect()

    def __init__(
        self,
        url: str,
        dimension: int,
        *,
        pool_min_size: int = 1,
        pool_max_size: int = 10,
        timeout_s: float = 5.0,
        exact_scan_limit: int = EXACT_SCAN_LIMIT,
        ef_search: int = HNSW_EF_SEARCH,
    ) -> None:
        super().__init__(
            PostgresDatabase(
                url, dimension, min_size=pool_min_size, max_size=pool_max_size, timeout=timeout_s
            )
        )
        self._search = CandidateSearch(self.dialect, exact_scan_limit, ef_search)

    @property
    def applied_migrations(self) -> list[Migration]:
        """The migrations the last open() applied (empty when the schema was current)."""
        return list(self.db.applied)

    async def open(self) -> None:
        await self.db.open()
        async with self.db.connection() as conn:
            await backfill_terms(conn)

    async def close(self) -> None:
        await self.db.close()

    async def ping(self) -> None:
        async with self.db.connection() as conn:
            await conn.execute("SELECT 1")

    async def ensure_embedding_model(self, model: str, dimension: int) -> None:
        async with self.db.connection() as conn:
            stored = await stored_dimension(conn)
            if stored is not None and stored != dimension:
                raise EmbeddingModelMismatchError(
                    f"this database stores {stored}-dimension embeddings but the "
                    f"server is configured for {model} ({dimension} dimensions); configure a "
                    f"{stored}-dimension model or run `mnemo reembed`"
                )
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES ('embedding_model', %s), "
                "('embedding_dimension', %s) ON CONFLICT (key) DO NOTHING",
                (model, str(dimension)),
            )
            cursor = await conn.execute("SELECT key, value FROM meta")
            pinned = {row["key"]: row["value"] for row in await cursor.fetchall()}
            check_embedding_model(pinned, model, dimension)

    # Long-term memories
    async def upsert_memories(
        self, records: Sequence[VectorRecord], events: Sequence[MemoryEvent]
    ) -> None:
        await self.write_changes(ChangeSet(inserts=records, events=events))

    async def write_changes(self, changes: ChangeSet) -> None:
        inserts = [memory_params(r.memory, r.vector) for r in changes.inserts]
        async with self.db.connection() as conn:
            await conn.cursor().executemany(UPSERT_MEMORY, inserts)
            await conn.cursor().executemany(
                UPDATE_FIELDS, [memory_to_row(m) for m in changes.updates]
            )
            await conn.cursor().executemany(INSERT_EVENT, [event_to_row(e) for e in changes.events])

    async def get_memories(self, namespace: str | None, ids: Sequence[str]) -> list[Memory]:
        if not ids:
            return []
        sql = f"{SELECT_MEMORY} WHERE m.id = ANY(%s)"
        params: list[object] = [list(ids)]
        if namespace is not None:
            sql += " AND m.namespace = %s"
            params.append(namespace)
        async with self.db.connection() as conn:
            cursor = await conn.execute(sql, params)
            return [memory_from_row(row) for row in await cursor.fetchall()]

    async def update_memory(
        self, memory: Memory, vector: Vector | None, event: MemoryEvent
    ) -> None:
        async with self.db.connection() as conn:
            if vector is None:
                await conn.execute(UPDATE_FIELDS, memory_to_row(memory))
            else:
                await conn.execute(UPDATE_MEMORY_AND_VECTOR, memory_params(memory, vector))
            await conn.execute(INSERT_EVENT, event_to_row(event))

    async def delete_memories(
        self, namespace: str, ids: Sequence[str], events: Sequence[MemoryEvent]
    ) -> list[str]:
        async with self.db.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM memories WHERE namespace = %s AND id = ANY(%s) RETURNING id",
                (namespace, list(ids)),
            )
            gone = {row["id"] for row in await cursor.fetchall()}
            await conn.cursor().executemany(
                INSERT_EVENT, [event_to_row(e) for e in events if e.memory_id in gone]
            )
        return [memory_id for memory_id in dict.fromkeys(ids) if memory_id in gone]

    async def find_candidates(self, query: CandidateQuery) -> CandidateSet:
        async with self.db.connection() as conn:
            return await self._search.find(conn, query)

    async def list_memories(
        self, memory_filter: MemoryFilter, now: datetime, limit: int, offset: int
    ) -> Page[Memory]:
        where = compile_filter(memory_filter, self.dialect, now)
        async with self.db.connection() as conn:
            cursor = await conn.execute(
                f"SELECT count(*) AS n FROM memories m WHERE {where.render()}", where.params
            )
            counted = await cursor.fetchone()
            cursor = await conn.execute(
                f"{SELECT_MEMORY} WHERE {where.render()} "
                "ORDER BY m.created_at DESC, m.seq DESC LIMIT %s OFFSET %s",
                [*where.params, limit, offset],
            )
            rows = await cursor.fetchall()
        return Page([memory_from_row(r) for r in rows], int(counted["n"]) if counted else 0)

    async def history(self, namespace: str, memory_id: str) -> list[MemoryEvent]:
        async with self.db.connection() as conn:
            cursor = await conn.execute(
                f"SELECT {', '.join(EVENT_COLUMNS)} FROM memory_events "
                "WHERE namespace = %s AND memory_id = %s ORDER BY seq",
                (namespace, memory_id),
            )
            return [event_from_row(r) for r in await cursor.fetchall()]

    async def touch_memories(self, keys: Sequence[tuple[str, str]], at: datetime) -> None:
        if not keys:
            return
        async with self.db.connection() as conn:
            await conn.cursor().executemany(
                "UPDATE memories SET last_accessed_at = GREATEST(last_accessed_at, %s), "
                "access_count = access_count + 1 WHERE namespace = %s AND id = %s",
                [(at.timestamp(), namespace, memory_id) for namespace, memory_id in keys],
            )

    # API keys
    async def add_api_key(self, key: ApiKey) -> None:
        async with self.db.connection() as conn:
            await conn.execute(_INSERT_KEY, key_to_row(key))

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        async with self.db.connection() as conn:
            cursor = await conn.execute(
                f"SELECT {', '.join(KEY_COLUMNS)} FROM api_keys WHERE key_hash = %s", (key_hash,)
            )
            row = await cursor.fetchone()
        return key_from_row(row) if row else None

    async def list_api_keys(self, namespace: str | None) -> list[ApiKey]:
        sql, params = f"SELECT {', '.join(KEY_COLUMNS)} FROM api_keys", []
        if namespace is not None:
            sql, params = sql + " WHERE namespace = %s", [namespace]
        async with self.db.connection() as conn:
            cursor = await conn.execute(sql + " ORDER BY created_at", params)
            return [key_from_row(r) for r in await cursor.fetchall()]

    async def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        async with self.db.connection() as conn:
            cursor = await conn.execute(
                "UPDATE api_keys SET revoked_at = %s WHERE id = %s AND revoked_at IS NULL",
                (at.timestamp(), key_id),
            )
            return cursor.rowcount > 0
