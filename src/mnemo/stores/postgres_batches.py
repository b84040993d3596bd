"""PostgresBatchStore: the message batcher's buffers and sealed batches in PostgreSQL."""

from __future__ import annotations

from mnemo.stores.plans import PostgresRunner
from mnemo.stores.postgres_db import PostgresDatabase
from mnemo.stores.sql_batches import SqlBatchStore


class PostgresBatchStore(SqlBatchStore):
    """Implements BatchStore on the store's pool; appends to one key take an advisory lock on
    it, so replicas appending to the same conversation seal every message exactly once."""

    def __init__(self, db: PostgresDatabase) -> None:
        super().__init__(PostgresRunner(db))
