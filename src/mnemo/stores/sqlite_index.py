"""Keep a process's VectorIndex in step with the SQLite file, whoever writes to it."""

from __future__ import annotations

import sqlite3
import threading

from mnemo.stores.vector_index import INDEX_COLUMNS, IndexRow, VectorIndex

# How many change-log entries the store keeps. An index more than this many changes behind
# (a process that slept through a bulk import, say) rescans every row's scope instead.
KEEP_CHANGES = 50_000
_CHUNK = 500


class IndexSync:
    """Brings a VectorIndex up to date before each search: new rows, changed and deleted rows.

    New rows are those above the index's highest row id (row ids only grow). Changed and
    deleted rows come from the `index_changes` log that triggers fill (migration 0005), so
    writes by other processes sharing the file are seen too. One sync runs at a time, so an
    older reading of a row never overwrites a newer one.
    """

    def __init__(self, index: VectorIndex) -> None:
        self.index = index
        self._lock = threading.Lock()
        self._seen = 0  # the last change-log sequence number applied

    def sync(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            conn.execute("BEGIN")  # one snapshot for the log and the rows it names
            try:
                self._sync(conn)
            finally:
                conn.execute("COMMIT")

    def _sync(self, conn: sqlite3.Connection) -> None:
        cursor = conn.cursor()
        cursor.row_factory = None
        first, last = cursor.execute("SELECT MIN(seq), MAX(seq) FROM index_changes").fetchone()
        behind = first is not None and first > self._seen + 1
        if self.index.max_rowid and behind:
            # The log was pruned past what this index saw: read every row's scope afresh.
            every = cursor.execute(f"SELECT {INDEX_COLUMNS} FROM memories")
            self.index.replace_all_scopes(IndexRow.from_row(r) for r in every)
        elif self.index.max_rowid and last is not None and last > self._seen:
            changed = sorted(
                {r[0] for r in cursor.execute(
                    "SELECT row FROM index_changes WHERE seq > ? AND seq <= ?", (self._seen, last)
                )}
            )  # fmt: skip
            self._apply(cursor, changed)
        self._seen = last or self._seen
        self.index.add(
            (IndexRow.from_row(r), r[8])
            for r in cursor.execute(
                f"SELECT {INDEX_COLUMNS}, embedding FROM memories WHERE rowid > ? ORDER BY rowid",
                (self.index.max_rowid,),
            )
        )

    def _apply(self, cursor: sqlite3.Cursor, rowids: list[int]) -> None:
        for start in range(0, len(rowids), _CHUNK):
            chunk = rowids[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = [
                IndexRow.from_row(r)
                for r in cursor.execute(
                    f"SELECT {INDEX_COLUMNS} FROM memories WHERE rowid IN ({marks})", chunk
                )
            ]
            self.index.update(rows)
            self.index.remove(set(chunk) - {r.rowid for r in rows})


def prune_changes(conn: sqlite3.Connection) -> None:
    """Drop change-log entries older than the last KEEP_CHANGES (inside a write)."""
    conn.execute(
        "DELETE FROM index_changes WHERE seq <= (SELECT MAX(seq) FROM index_changes) - ?",
        (KEEP_CHANGES,),
    )
