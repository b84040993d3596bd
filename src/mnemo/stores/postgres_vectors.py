"""Embedding maintenance on PostgreSQL: read stored vectors, rewrite them, re-pin the model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mnemo.errors import EmbeddingModelMismatchError
from mnemo.stores.base import Vector, VectorUpdate
from mnemo.stores.postgres_db import Connection, PostgresDatabase


class PostgresVectors:
    """The embedding half of PostgresStore's maintenance methods (mnemo export and reembed).

    The vector column's type fixes the dimension, so a re-embed keeps it: a model of another
    dimension needs a new database (export, then import with the new model configured).
    """

    db: PostgresDatabase

    async def get_vectors(self, namespace: str, ids: Sequence[str]) -> dict[str, Vector]:
        if not ids:
            return {}
        async with self.db.connection() as conn:
            cursor = await conn.execute(
                "SELECT id, embedding FROM memories WHERE namespace = %s AND id = ANY(%s)",
                (namespace, list(ids)),
            )
            rows = await cursor.fetchall()
        return {row["id"]: _array(row["embedding"]) for row in rows}

    async def replace_vectors(self, updates: Sequence[VectorUpdate]) -> int:
        changed = 0
        async with self.db.connection() as conn:
            for u in updates:
                cursor = await conn.execute(
                    # The context window's vector came from the old model: dropped.
                    "UPDATE memories SET embedding = %s, context_embedding = NULL "
                    "WHERE namespace = %s AND id = %s AND content_hash = %s",
                    (np.asarray(u.vector, dtype=np.float32), u.namespace, u.id, u.content_hash),
                )
                changed += cursor.rowcount
        return changed

    async def pin_embedding_model(self, model: str, dimension: int) -> None:
        async with self.db.connection() as conn:
            stored = await stored_dimension(conn)
            if stored is not None and stored != dimension:
                raise EmbeddingModelMismatchError(
                    f"this PostgreSQL database stores {stored}-dimension embeddings;"
                    f" {model} has {dimension}. Re-embedding keeps the dimension: for another "
                    "one, export, then import into a new database with the new model configured"
                )
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES ('embedding_model', %s), "
                "('embedding_dimension', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (model, str(dimension)),
            )


async def stored_dimension(conn: Connection) -> int | None:
    """The dimension the schema's vector column was created with (its type modifier)."""
    cursor = await conn.execute(
        "SELECT atttypmod AS dimension FROM pg_attribute "
        "WHERE attrelid = 'memories'::regclass AND attname = 'embedding'"
    )
    column = await cursor.fetchone()
    return None if column is None else int(column["dimension"])


def _array(value: object) -> Vector:
    """pgvector hands back its own Vector type (or a list, without numpy support)."""
    to_numpy = getattr(value, "to_numpy", None)
    raw = to_numpy() if callable(to_numpy) else value
    return np.asarray(raw, dtype=np.float32)
