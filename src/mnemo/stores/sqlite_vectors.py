"""Embedding maintenance on SQLite: read stored vectors, rewrite them, re-pin the model."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from mnemo.stores.base import Vector, VectorUpdate
from mnemo.stores.sqlite_db import SQLiteDatabase

_CHUNK = 500


class SQLiteVectors:
    """The embedding half of SQLiteStore's maintenance methods (mnemo export and reembed).

    Vectors are rewritten in place, under the same row id: a process already running keeps
    the vectors it has loaded into its index, which are the ones its own (old) embedder
    matches, until it restarts with the new model and loads them all afresh.
    """

    db: SQLiteDatabase

    async def get_vectors(self, namespace: str, ids: Sequence[str]) -> dict[str, Vector]:
        def work(conn: sqlite3.Connection) -> dict[str, Vector]:
            found: dict[str, Vector] = {}
            for start in range(0, len(ids), _CHUNK):
                chunk = list(ids[start : start + _CHUNK])
                marks = ", ".join("?" * len(chunk))
                for row in conn.execute(
                    f"SELECT id, embedding FROM memories WHERE namespace = ? AND id IN ({marks})",
                    [namespace, *chunk],
                ):
                    found[row[0]] = np.frombuffer(row[1], dtype=np.float32).copy()
            return found

        return await self.db.read(work)

    async def replace_vectors(self, updates: Sequence[VectorUpdate]) -> int:
        params = [
            (np.ascontiguousarray(u.vector, dtype=np.float32).tobytes(), u.namespace, u.id,
             u.content_hash)
            for u in updates
        ]  # fmt: skip

        def work(conn: sqlite3.Connection) -> int:
            changed = 0
            for row in params:
                changed += conn.execute(
                    # The context window's vector came from the old model: dropped, so it
                    # is not compared across models (the window's terms still serve).
                    "UPDATE memories SET embedding = ?, context_embedding = NULL "
                    "WHERE namespace = ? AND id = ? AND content_hash = ?",
                    row,
                ).rowcount
            return changed

        return await self.db.write(work)

    async def pin_embedding_model(self, model: str, dimension: int) -> None:
        rows = [("embedding_model", model), ("embedding_dimension", str(dimension))]
        await self.db.write(
            lambda conn: conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", rows
            )
        )
