"""SQLiteBatchStore: the message batcher's buffers and sealed batches in a SQLite file."""

from __future__ import annotations

from mnemo.stores.plans import SQLiteRunner
from mnemo.stores.sql_batches import SqlBatchStore
from mnemo.stores.sqlite_db import SQLiteDatabase


class SQLiteBatchStore(SqlBatchStore):
    """Implements BatchStore on an open SQLiteDatabase (the task queue's, so one file holds
    buffers and tasks). BEGIN IMMEDIATE serialises appends, across processes too."""

    def __init__(self, db: SQLiteDatabase) -> None:
        super().__init__(SQLiteRunner(db))
