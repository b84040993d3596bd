"""An in-process matrix of embeddings keyed by an ever-growing row id, for exact search."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float32]


class VectorIndex:
    """Embeddings held in memory so a scoped search is one gather and one GEMV.

    Row ids only grow (a changed embedding gets a new row id), so the index stays in step
    with the database by loading rows above the highest id it has seen; rows deleted from
    the database are simply never asked for again.
    """

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._lock = threading.Lock()
        self._rowids = np.empty(0, dtype=np.int64)
        self._matrix = np.empty((0, dimension), dtype=np.float32)
        self._size = 0

    @property
    def max_rowid(self) -> int:
        return int(self._rowids[self._size - 1]) if self._size else 0

    def add(self, rows: Iterable[tuple[int, bytes]]) -> None:
        """Append (rowid, float32 blob) rows, in increasing rowid order, above max_rowid."""
        with self._lock:
            for rowid, blob in rows:
                if rowid <= self.max_rowid:
                    continue
                self._reserve(self._size + 1)
                self._rowids[self._size] = rowid
                self._matrix[self._size] = np.frombuffer(blob, dtype=np.float32)
                self._size += 1

    def similarities(self, rowids: NDArray[np.int64], query: Vector) -> NDArray[np.float32]:
        """Cosine similarity of each row id's vector to `query` (vectors are unit length).

        A row id the index does not hold scores -1, the lowest possible cosine.
        """
        with self._lock:
            known = self._rowids[: self._size]
            positions = np.searchsorted(known, rowids)
            positions = np.minimum(positions, max(self._size - 1, 0))
            present = (known[positions] == rowids) if self._size else np.zeros(len(rowids), bool)
            scores = np.full(len(rowids), -1.0, dtype=np.float32)
            if present.any() and len(rowids) * 4 > self._size:
                # A wide scope: one GEMV over the whole matrix beats gathering its rows.
                scores[present] = (self._matrix[: self._size] @ query)[positions[present]]
            elif present.any():
                scores[present] = self._matrix[positions[present]] @ query
        return scores

    def _reserve(self, needed: int) -> None:
        capacity = len(self._rowids)
        if needed <= capacity:
            return
        new_capacity = max(needed, capacity * 2, 1024)
        rowids = np.empty(new_capacity, dtype=np.int64)
        matrix = np.empty((new_capacity, self.dimension), dtype=np.float32)
        rowids[: self._size] = self._rowids[: self._size]
        matrix[: self._size] = self._matrix[: self._size]
        self._rowids, self._matrix = rowids, matrix
