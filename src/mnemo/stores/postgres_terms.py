"""PostgreSQL's half of keyword search and context windows: candidate details, context
writes, and the backfill of index terms on rows older than migration 0004."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from mnemo.models import MemoryType
from mnemo.retrieval.documents import index_text, terms_text
from mnemo.stores.base import CandidateDetail, ContextUpdate, Key, Vector
from mnemo.stores.postgres_db import Connection, PostgresDatabase

_CHUNK = 500


class PostgresTerms:
    """The index-term and context-window methods of PostgresStore."""

    db: PostgresDatabase

    async def describe_candidates(
        self, keys: Sequence[Key], vector: Vector | None
    ) -> dict[Key, CandidateDetail]:
        if not keys:
            return {}
        query = None if vector is None else np.asarray(vector, dtype=np.float32)
        similarity = "1 - (m.embedding <=> %s)" if query is not None else "NULL::float8"
        context = "1 - (m.context_embedding <=> %s)" if query is not None else "NULL::float8"
        sql = (
            f"SELECT m.namespace, m.id, {similarity} AS similarity, {context} AS context, "
            "m.context_neighbours FROM unnest(%s::text[], %s::text[]) AS k(namespace, id) "
            "JOIN memories m ON m.namespace = k.namespace AND m.id = k.id"
        )
        vectors = [query, query] if query is not None else []
        params = [*vectors, [k[0] for k in keys], [k[1] for k in keys]]
        async with self.db.connection() as conn:
            cursor = await conn.execute(sql, params)
            rows = await cursor.fetchall()
        return {
            (r["namespace"], r["id"]): CandidateDetail(
                similarity=_float(r["similarity"]),
                context_similarity=_float(r["context"]),
                neighbour_ids=tuple(r["context_neighbours"] or ()),
            )
            for r in rows
        }

    async def set_contexts(self, updates: Sequence[ContextUpdate]) -> int:
        if not updates:
            return 0
        written = 0
        async with self.db.connection() as conn:
            for u in updates:
                cursor = await conn.execute(
                    "UPDATE memories SET context_terms = %s, context_embedding = %s, "
                    "context_neighbours = %s::jsonb "
                    "WHERE namespace = %s AND id = %s AND memory_type = %s",
                    (
                        terms_text(u.text),
                        np.asarray(u.vector, dtype=np.float32),
                        json.dumps(list(u.neighbour_ids)),
                        u.namespace,
                        u.id,
                        MemoryType.MESSAGE.value,
                    ),
                )
                written += cursor.rowcount
        return written


async def backfill_terms(conn: Connection) -> int:
    """Index terms for rows written before migration 0004 (a no-op on a new database)."""
    done = 0
    while True:
        cursor = await conn.execute(
            "SELECT namespace, id, text, memory_type, created_at FROM memories "
            "WHERE terms IS NULL LIMIT %s",
            (_CHUNK,),
        )
        rows = await cursor.fetchall()
        if not rows:
            return done
        for r in rows:
            moment = datetime.fromtimestamp(r["created_at"], UTC)
            await conn.execute(
                "UPDATE memories SET terms = %s WHERE namespace = %s AND id = %s",
                (terms_text(index_text(r["text"], r["memory_type"], moment)), r["namespace"],
                 r["id"]),
            )  # fmt: skip
        done += len(rows)


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
