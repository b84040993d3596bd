"""An in-process matrix of embeddings and scope columns, for exact search without SQL.

The index holds, per memory row: its embedding and the columns a search is almost always
scoped by (namespace, user, session, agent, memory type, status, expiry). A search whose
filter names only those columns is answered by numpy masks over the index — no SQL scan of
the scope at all, which at 10k memories in a scope was most of a search's time. Any other
filter (dates, topics, metadata...) is answered by SQL, and the index then only scores the
row ids SQL returns.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from mnemo.filters import MemoryFilter, TagFilter

Vector = NDArray[np.float32]
RowIds = NDArray[np.int64]

# The tag columns the index keeps, in the order of IndexRow's fields after rowid.
TAG_FIELDS = ("namespace", "user_id", "session_id", "agent_id", "memory_type")
# Columns by how few rows one value usually holds: session, user, agent, type, namespace.
_MOST_SELECTIVE_FIRST = (2, 1, 3, 4, 0)
# Fewer rows than 1/_FEW of the index: narrow the rest by position, not by whole columns.
_FEW = 16
_NO_VALUE = -1  # the code of NULL, never equal to any value's code
_ACTIVE = "active"
_Array = TypeVar("_Array", bound=np.ndarray[Any, Any])


@dataclass(frozen=True)
class IndexRow:
    """The scope columns of one memory row, as the index needs them."""

    rowid: int
    namespace: str
    user_id: str | None
    session_id: str | None
    agent_id: str | None
    memory_type: str
    status: str
    expires_at: float | None

    @classmethod
    def from_row(cls, row: Sequence[object]) -> IndexRow:
        """Build from a row selected in INDEX_COLUMNS order."""
        rowid, namespace, user, session, agent, kind, status, expires = row[:8]
        return cls(
            int(rowid),  # type: ignore[call-overload]
            str(namespace),
            None if user is None else str(user),
            None if session is None else str(session),
            None if agent is None else str(agent),
            str(kind),
            str(status),
            None if expires is None else float(expires),  # type: ignore[arg-type]
        )


# Column list a store selects to build IndexRow.from_row (embedding, when wanted, comes last).
INDEX_COLUMNS = "rowid, namespace, user_id, session_id, agent_id, memory_type, status, expires_at"


def index_scope(memory_filter: MemoryFilter) -> MemoryFilter | None:
    """The filter itself when the index can answer it alone, else None (SQL must).

    The index answers tag conditions on its own columns (any operator but startswith) and
    the lifecycle flags; ids, hashes, list fields, numbers, dates and metadata need SQL.
    """
    data = memory_filter.model_dump(exclude_none=True, exclude_defaults=True)
    for name in data:
        if name in {"include_superseded", "include_expired"}:
            continue
        if name not in TAG_FIELDS:
            return None
        tag: TagFilter = getattr(memory_filter, name)
        if tag.startswith is not None:
            return None
    return memory_filter


@dataclass(frozen=True)
class Scored:
    """Row ids of a scope with the cosine similarity of each to the query."""

    rowids: RowIds
    scores: NDArray[np.float32]


class VectorIndex:
    """Embeddings and scope columns held in memory so a scoped search is masks and one GEMV.

    Row ids only grow (a changed embedding gets a new row id), so new rows are loaded by
    asking for ids above the highest one held. Rows whose scope columns change, or that are
    deleted, are reported through `update`/`remove` (the store reads a change log for them).

    Thread-safe: writers hold the lock; a search takes a consistent snapshot of the arrays
    under the lock and computes outside it (arrays are replaced, never shrunk, on growth).
    """

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._lock = threading.Lock()
        self._codes: dict[str, int] = {}
        self._size = 0
        self._rowids = np.empty(0, dtype=np.int64)
        self._matrix = np.empty((0, dimension), dtype=np.float32)
        # One contiguous code array per scope column: a column is compared whole, fast.
        self._tags = [np.empty(0, dtype=np.int32) for _ in TAG_FIELDS]
        self._active = np.empty(0, dtype=bool)
        self._expires = np.empty(0, dtype=np.float64)
        self._present = np.empty(0, dtype=bool)

    @property
    def rows(self) -> int:
        """How many rows the index holds (the table's, whatever their scope or status)."""
        with self._lock:
            return int(np.count_nonzero(self._present[: self._size]))

    @property
    def max_rowid(self) -> int:
        return int(self._rowids[self._size - 1]) if self._size else 0

    def add(self, rows: Iterable[tuple[IndexRow, bytes]]) -> None:
        """Append rows with their float32 embedding blobs, in increasing rowid order."""
        with self._lock:
            for row, blob in rows:
                if row.rowid <= self.max_rowid:
                    continue
                self._reserve(self._size + 1)
                position = self._size
                self._rowids[position] = row.rowid
                self._matrix[position] = np.frombuffer(blob, dtype=np.float32)
                self._size += 1
                self._set_scope(position, row)

    def update(self, rows: Iterable[IndexRow]) -> None:
        """Take the current scope columns of rows already held (others are ignored)."""
        with self._lock:
            for row in rows:
                position = self._position(row.rowid)
                if position is not None:
                    self._set_scope(position, row)

    def remove(self, rowids: Iterable[int]) -> None:
        """Forget deleted rows (their slots stay, never matched again)."""
        with self._lock:
            for rowid in rowids:
                position = self._position(rowid)
                if position is not None:
                    self._present[position] = False

    def replace_all_scopes(self, rows: Iterable[IndexRow]) -> None:
        """Resynchronise every held row's scope from a full listing; unlisted rows are gone."""
        with self._lock:
            present = np.zeros(len(self._present), dtype=bool)
            for row in rows:
                position = self._position(row.rowid)
                if position is not None:
                    self._set_scope(position, row)
                    present[position] = True
            self._present = present

    def search_scope(
        self, memory_filter: MemoryFilter, now: datetime, query: Vector | None
    ) -> Scored:
        """Every row matching `memory_filter` (which index_scope accepted), with its cosine to
        `query` (0 for every row without one)."""
        with self._lock:
            size, rowids, matrix = self._size, self._rowids, self._matrix
            positions = self._positions(memory_filter, now)
        if query is None:
            return Scored(rowids[positions], np.zeros(len(positions), dtype=np.float32))
        return Scored(rowids[positions], _cosines(matrix, size, positions, query))

    def search_rowids(self, rowids: RowIds, query: Vector) -> Scored:
        """Cosine of each given row id (rows the index lacks score -1, the lowest cosine)."""
        with self._lock:
            size, known, matrix = self._size, self._rowids[: self._size], self._matrix
            present = self._present[:size].copy()
        positions = np.minimum(np.searchsorted(known, rowids), max(size - 1, 0))
        held = (known[positions] == rowids) & present[positions] if size else positions < 0
        scores = np.full(len(rowids), -1.0, dtype=np.float32)
        if held.any():
            scores[held] = _cosines(matrix, size, positions[held], query)
        return Scored(rowids, scores)

    # internals (callers hold the lock)
    def _positions(self, memory_filter: MemoryFilter, now: datetime) -> NDArray[np.intp]:
        """Positions of the rows matching the filter. The most selective column is compared
        whole; when it keeps few rows (a session's or a user's, a few in a million) every
        other condition is checked on those positions only, else on whole columns."""
        size = self._size
        tags = [
            (column, tag)
            for column in _MOST_SELECTIVE_FIRST
            if (tag := getattr(memory_filter, TAG_FIELDS[column])) is not None
        ]
        if tags:
            column, tag = tags[0]
            first = self._tag_mask(self._tags[column][:size], tag)
            if np.count_nonzero(first) * _FEW < size:
                return self._narrowed(np.flatnonzero(first), tags[1:], memory_filter, now)
        mask = self._present[:size].copy()
        for column, tag in tags:
            mask &= self._tag_mask(self._tags[column][:size], tag)
        if not memory_filter.include_superseded:
            mask &= self._active[:size]
        if not memory_filter.include_expired:
            mask &= self._expires[:size] > now.timestamp()
        return np.flatnonzero(mask)

    def _narrowed(
        self,
        positions: NDArray[np.intp],
        tags: list[tuple[int, TagFilter]],
        memory_filter: MemoryFilter,
        now: datetime,
    ) -> NDArray[np.intp]:
        for column, tag in tags:
            positions = positions[self._tag_mask(self._tags[column][positions], tag)]
        keep = self._present[positions]
        if not memory_filter.include_superseded:
            keep &= self._active[positions]
        if not memory_filter.include_expired:
            keep &= self._expires[positions] > now.timestamp()
        return positions[keep]

    def _tag_mask(self, codes: NDArray[np.int32], tag: TagFilter) -> NDArray[np.bool_]:
        """Mirror of sql_filters._add_tag for single-valued columns."""
        if tag.eq is not None:
            return np.equal(codes, self._codes.get(tag.eq, -2))
        if tag.ne is not None:
            return np.not_equal(codes, self._codes.get(tag.ne, -2))
        if tag.any is not None:
            return np.isin(codes, self._known(tag.any))
        if tag.none is not None:
            return ~np.isin(codes, self._known(tag.none))
        values = set(tag.all or [])
        if len(values) == 1:
            return np.equal(codes, self._codes.get(values.pop(), -2))
        return np.full(len(codes), not values, dtype=bool)

    def _known(self, values: list[str]) -> NDArray[np.int32]:
        return np.array([self._codes[v] for v in values if v in self._codes], dtype=np.int32)

    def _code(self, value: str | None) -> int:
        if value is None:
            return _NO_VALUE
        return self._codes.setdefault(value, len(self._codes))

    def _set_scope(self, position: int, row: IndexRow) -> None:
        values = (row.namespace, row.user_id, row.session_id, row.agent_id, row.memory_type)
        for column, value in enumerate(values):
            self._tags[column][position] = self._code(value)
        self._active[position] = row.status == _ACTIVE
        self._expires[position] = np.inf if row.expires_at is None else row.expires_at
        self._present[position] = True

    def _position(self, rowid: int) -> int | None:
        position = int(np.searchsorted(self._rowids[: self._size], rowid))
        if position < self._size and self._rowids[position] == rowid:
            return position
        return None

    def _reserve(self, needed: int) -> None:
        capacity = len(self._rowids)
        if needed <= capacity:
            return
        new = max(needed, capacity * 2, 1024)
        self._rowids = _grown(self._rowids, new, self._size)
        self._matrix = _grown(self._matrix, new, self._size)
        self._tags = [_grown(codes, new, self._size) for codes in self._tags]
        self._active = _grown(self._active, new, self._size)
        self._expires = _grown(self._expires, new, self._size)
        self._present = _grown(self._present, new, self._size)


def _grown(array: _Array, capacity: int, used: int) -> _Array:
    out = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    out[:used] = array[:used]
    return out  # type: ignore[return-value]


def _cosines(
    matrix: Vector, size: int, positions: NDArray[np.intp], query: Vector
) -> NDArray[np.float32]:
    """Vectors are unit length, so cosine is a dot product."""
    if not len(positions):
        return np.empty(0, dtype=np.float32)
    if len(positions) * 4 > size:
        # A wide scope: one GEMV over the whole matrix beats gathering its rows.
        return (matrix[:size] @ query)[positions]
    return matrix[positions] @ query
