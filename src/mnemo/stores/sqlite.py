"""SQLiteStore: the embedded default store, one file, FTS5 keywords, exact vector search."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from mnemo.errors import EmbeddingModelMismatchError, StoreUnavailableError
from mnemo.filters import MemoryFilter
from mnemo.models import ApiKey, Memory, MemoryEvent
from mnemo.retrieval.keyword_probe import PROBE_SCOPE_ROWS
from mnemo.retrieval.text import query_terms
from mnemo.stores.base import (
    CandidateDetail,
    CandidateQuery,
    CandidateSet,
    ChangeSet,
    ContextUpdate,
    Key,
    Page,
    VectorRecord,
)
from mnemo.stores.records import (
    EVENT_COLUMNS,
    KEY_COLUMNS,
    event_from_row,
    event_to_row,
    key_from_row,
    key_to_row,
    memory_from_row,
    memory_to_row,
)
from mnemo.stores.sql_filters import SqlParam, WhereClause, compile_filter
from mnemo.stores.sqlite_index import IndexSync, prune_changes
from mnemo.stores.sqlite_sessions import SQLiteSessions
from mnemo.stores.sqlite_statements import (
    INSERT_EVENT as _INSERT_EVENT,
)
from mnemo.stores.sqlite_statements import (
    INSERT_MEMORY as _INSERT_MEMORY,
)
from mnemo.stores.sqlite_statements import (
    SELECT_MEMORY as _SELECT_MEMORY,
)
from mnemo.stores.sqlite_statements import (
    UPDATE_FIELDS as _UPDATE_FIELDS,
)
from mnemo.stores.sqlite_statements import (
    memory_params as _memory_params,
)
from mnemo.stores.sqlite_terms import (
    backfill_terms,
    describe,
    keyword_documents,
    probed_keyword_documents,
    scoped_keyword_documents,
    set_contexts,
)
from mnemo.stores.sqlite_vectors import SQLiteVectors
from mnemo.stores.vector_index import Scored, Vector, VectorIndex, index_scope


class SQLiteDialect:
    """SQLite spellings for the shared filter compiler (lists are JSON arrays)."""

    placeholder = "?"

    def list_has(self, column: str) -> str:
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = ?)"

    def list_has_any(self, column: str, count: int) -> str:
        marks = ", ".join("?" * count)
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value IN ({marks}))"

    def list_has_all(self, column: str, count: int) -> str:
        marks = ", ".join("?" * count)
        return (
            f"(SELECT COUNT(DISTINCT value) FROM json_each({column}) "
            f"WHERE value IN ({marks})) = {count}"
        )

    def list_params(self, values: Sequence[str]) -> list[SqlParam]:
        return list(values)

    def metadata_equals(self, key: str) -> str:
        path = "$." + json.dumps(key)
        return f"CAST(json_extract(m.metadata, '{path.replace(chr(39), chr(39) * 2)}') AS TEXT) = ?"

    def like_escape(self) -> str:
        return "ESCAPE '\\'"


# A scope the in-memory index says has at most this many rows has its keyword matches read
# row by row; a larger one goes through the FTS5 index.
SMALL_SCOPE = 5_000


class SQLiteStore(SQLiteSessions, SQLiteVectors):
    """Implements the Store port on one SQLite file (sessions live in SQLiteSessions)."""

    dialect = SQLiteDialect()

    def __init__(
        self, path: Path, dimension: int, *, exact_scan_limit: int = PROBE_SCOPE_ROWS
    ) -> None:
        """`exact_scan_limit`: in a scope of more rows, keyword matches are probed
        (retrieval/keyword_probe.py) rather than all read."""
        super().__init__(path)
        self._exact_scan_limit = exact_scan_limit
        self._index = VectorIndex(dimension)
        self._sync = IndexSync(self._index)

    async def open(self) -> None:
        try:
            self.db.open()
        except sqlite3.Error as exc:
            raise StoreUnavailableError(
                f"cannot open SQLite database {self.db.path}: {exc}"
            ) from exc
        await self.db.write(backfill_terms)

    async def close(self) -> None:
        self.db.close()

    async def ping(self) -> None:
        await self.db.read(lambda conn: conn.execute("SELECT 1").fetchone())

    async def ensure_embedding_model(self, model: str, dimension: int) -> None:
        def work(conn: sqlite3.Connection) -> None:
            rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if "embedding_model" not in rows:
                conn.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("embedding_model", model), ("embedding_dimension", str(dimension))],
                )
                return
            stored = (rows["embedding_model"], int(rows["embedding_dimension"]))
            if stored != (model, dimension):
                raise EmbeddingModelMismatchError(
                    f"this database was built with embedding model {stored[0]} "
                    f"({stored[1]} dimensions) but the server is configured for {model} "
                    f"({dimension}); configure the original model or run `mnemo reembed`"
                )

        await self.db.write(work)

    # Long-term memories
    async def upsert_memories(
        self, records: Sequence[VectorRecord], events: Sequence[MemoryEvent]
    ) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for record in records:
                m = record.memory
                conn.execute(
                    "DELETE FROM memories WHERE namespace = ? AND id = ?", (m.namespace, m.id)
                )
                conn.execute(_INSERT_MEMORY, _memory_params(m, record.vector))
            conn.executemany(_INSERT_EVENT, [event_to_row(e) for e in events])
            prune_changes(conn)

        await self.db.write(work)

    async def write_changes(self, changes: ChangeSet) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for record in changes.inserts:
                m = record.memory
                conn.execute(
                    "DELETE FROM memories WHERE namespace = ? AND id = ?", (m.namespace, m.id)
                )
                conn.execute(_INSERT_MEMORY, _memory_params(m, record.vector))
            for memory in changes.updates:
                conn.execute(_UPDATE_FIELDS, memory_to_row(memory))
            conn.executemany(_INSERT_EVENT, [event_to_row(e) for e in changes.events])
            prune_changes(conn)

        await self.db.write(work)

    async def get_memories(self, namespace: str | None, ids: Sequence[str]) -> list[Memory]:
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        sql = f"{_SELECT_MEMORY} WHERE m.id IN ({marks})"
        params: list[SqlParam] = list(ids)
        if namespace is not None:
            sql += " AND m.namespace = ?"
            params.append(namespace)
        rows = await self.db.read(lambda conn: conn.execute(sql, params).fetchall())
        return [memory_from_row(row) for row in rows]

    async def update_memory(
        self, memory: Memory, vector: Vector | None, event: MemoryEvent
    ) -> None:
        def work(conn: sqlite3.Connection) -> None:
            key = (memory.namespace, memory.id)
            if vector is None:
                conn.execute(_UPDATE_FIELDS, memory_to_row(memory))
            else:
                conn.execute("DELETE FROM memories WHERE namespace = ? AND id = ?", key)
                conn.execute(_INSERT_MEMORY, _memory_params(memory, vector))
            conn.execute(_INSERT_EVENT, event_to_row(event))
            prune_changes(conn)

        await self.db.write(work)

    async def delete_memories(
        self, namespace: str, ids: Sequence[str], events: Sequence[MemoryEvent]
    ) -> list[str]:
        def work(conn: sqlite3.Connection) -> list[str]:
            deleted = []
            for memory_id in ids:
                cursor = conn.execute(
                    "DELETE FROM memories WHERE namespace = ? AND id = ?", (namespace, memory_id)
                )
                if cursor.rowcount:
                    deleted.append(memory_id)
            conn.executemany(
                _INSERT_EVENT, [event_to_row(e) for e in events if e.memory_id in deleted]
            )
            prune_changes(conn)
            return deleted

        return await self.db.write(work)

    async def find_candidates(self, query: CandidateQuery) -> CandidateSet:
        return await self.db.read(lambda conn: self._find_candidates(conn, query))

    def _find_candidates(self, conn: sqlite3.Connection, query: CandidateQuery) -> CandidateSet:
        where = compile_filter(query.filter, self.dialect, query.now)
        result = CandidateSet()
        scored = None
        if index_scope(query.filter) is not None:
            self._sync.sync(conn)
            scored = self._index.search_scope(query.filter, query.now, query.vector)
        elif query.vector is not None:
            self._sync.sync(conn)
            sql = f"SELECT m.rowid FROM memories m WHERE {where.render()}"
            scored = self._index.search_rowids(_rowids(conn, sql, where.params), query.vector)
        scope_rows = len(scored.rowids) if scored is not None else None
        if query.text:
            scope_rows = self._find_keywords(conn, query, where, scored, scope_rows, result)
        if scored is None or query.vector is None:
            result.total = (
                scope_rows if scope_rows is not None else _count(conn, where.render(), where.params)
            )
            return result
        rowids, scores = scored.rowids, scored.scores
        result.total = len(rowids)
        if query.max_distance is not None:
            result.total = int(np.count_nonzero(1.0 - scores <= query.max_distance))
        chosen = {int(rowids[i]): float(scores[i]) for i in _top_k(scores, query.vector_limit)}
        keys = _keys_of(conn, list(chosen))
        result.vector = {keys[r]: score for r, score in chosen.items() if r in keys}
        return result

    def _find_keywords(
        self,
        conn: sqlite3.Connection,
        query: CandidateQuery,
        where: WhereClause,
        scored: Scored | None,
        scope_rows: int | None,
        result: CandidateSet,
    ) -> int | None:
        """The keyword half; returns the scope's row count when it had to count it."""
        terms = query_terms(query.text or "")
        if not terms:
            return scope_rows
        small = min(SMALL_SCOPE, self._exact_scan_limit)
        if scored is not None and len(scored.rowids) <= small:
            result.keyword = scoped_keyword_documents(
                conn, terms, scored.rowids.tolist(), query.keyword_scan_limit
            )
            return scope_rows
        if scope_rows is None:
            scope_rows = _count(conn, where.render(), where.params)
        if scope_rows <= self._exact_scan_limit:
            result.keyword = keyword_documents(
                conn, terms, where.render(), where.params, query.keyword_scan_limit
            )
            return scope_rows
        result.keyword, estimates = probed_keyword_documents(
            conn, terms, where, (scope_rows, self._index.rows), query
        )
        result.document_frequencies = estimates.document_frequencies
        result.keyword_total = estimates.keyword_total
        return scope_rows

    async def describe_candidates(
        self, keys: Sequence[Key], vector: Vector | None
    ) -> dict[Key, CandidateDetail]:
        if not keys:
            return {}
        return await self.db.read(lambda conn: describe(conn, keys, vector))

    async def set_contexts(self, updates: Sequence[ContextUpdate]) -> int:
        if not updates:
            return 0
        return await self.db.write(lambda conn: set_contexts(conn, updates))

    async def list_memories(
        self, memory_filter: MemoryFilter, now: datetime, limit: int, offset: int
    ) -> Page[Memory]:
        where = compile_filter(memory_filter, self.dialect, now)

        def work(conn: sqlite3.Connection) -> Page[Memory]:
            total = conn.execute(
                f"SELECT COUNT(*) FROM memories m WHERE {where.render()}", where.params
            ).fetchone()[0]
            rows = conn.execute(
                f"{_SELECT_MEMORY} WHERE {where.render()} "
                "ORDER BY m.created_at DESC, m.rowid DESC LIMIT ? OFFSET ?",
                [*where.params, limit, offset],
            ).fetchall()
            return Page([memory_from_row(r) for r in rows], total)

        return await self.db.read(work)

    async def history(self, namespace: str, memory_id: str) -> list[MemoryEvent]:
        rows = await self.db.read(
            lambda conn: conn.execute(
                f"SELECT {', '.join(EVENT_COLUMNS)} FROM memory_events "
                "WHERE namespace = ? AND memory_id = ? ORDER BY seq",
                (namespace, memory_id),
            ).fetchall()
        )
        return [event_from_row(r) for r in rows]

    async def touch_memories(self, keys: Sequence[tuple[str, str]], at: datetime) -> None:
        if not keys:
            return
        params = [(at.timestamp(), ns, mid) for ns, mid in keys]
        await self.db.write(
            lambda conn: conn.executemany(
                "UPDATE memories SET last_accessed_at = MAX(last_accessed_at, ?), "
                "access_count = access_count + 1 WHERE namespace = ? AND id = ?",
                params,
            )
        )

    # API keys
    async def add_api_key(self, key: ApiKey) -> None:
        row = key_to_row(key)
        sql = (
            f"INSERT INTO api_keys ({', '.join(KEY_COLUMNS)}) "
            f"VALUES ({', '.join(':' + c for c in KEY_COLUMNS)})"
        )
        await self.db.write(lambda conn: conn.execute(sql, row))

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        row = await self.db.read(
            lambda conn: conn.execute(
                f"SELECT {', '.join(KEY_COLUMNS)} FROM api_keys WHERE key_hash = ?", (key_hash,)
            ).fetchone()
        )
        return key_from_row(row) if row else None

    async def list_api_keys(self, namespace: str | None) -> list[ApiKey]:
        sql = f"SELECT {', '.join(KEY_COLUMNS)} FROM api_keys"
        params: tuple[str, ...] = ()
        if namespace is not None:
            sql, params = sql + " WHERE namespace = ?", (namespace,)
        rows = await self.db.read(
            lambda conn: conn.execute(sql + " ORDER BY created_at", params).fetchall()
        )
        return [key_from_row(r) for r in rows]

    async def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        cursor = await self.db.write(
            lambda conn: conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (at.timestamp(), key_id),
            )
        )
        return bool(cursor.rowcount)


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    if len(scores) <= k:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def _count(conn: sqlite3.Connection, where: str, params: list[SqlParam]) -> int:
    sql = f"SELECT COUNT(*) FROM memories m WHERE {where}"
    return int(conn.execute(sql, params).fetchone()[0])


def _rowids(conn: sqlite3.Connection, sql: str, params: list[SqlParam]) -> np.ndarray:
    """Plain tuples, not sqlite3.Row: building a Row per id costs more than the query."""
    cursor = conn.cursor()
    cursor.row_factory = None
    rows = cursor.execute(sql, params).fetchall()
    return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))


def _keys_of(conn: sqlite3.Connection, rowids: list[int]) -> dict[int, tuple[str, str]]:
    keys: dict[int, tuple[str, str]] = {}
    for start in range(0, len(rowids), 500):
        chunk = rowids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for r in conn.execute(
            f"SELECT rowid, namespace, id FROM memories WHERE rowid IN ({marks})", chunk
        ):
            keys[r[0]] = (r[1], r[2])
    return keys
