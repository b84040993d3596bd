"""The databases a task queue, webhook store and batch store run on: SQLite and PostgreSQL.

A `Backend` is one open database holding the queue-side tables; `reopen()` opens the same
database again through its own connections, as another process would.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from mnemo.jobs.postgres_queue import PostgresTaskQueue
from mnemo.jobs.queue import Task
from mnemo.jobs.sql_queue import DEFAULT_MAX_ATTEMPTS, SqlTaskQueue
from mnemo.jobs.sqlite_queue import SQLiteTaskQueue
from mnemo.jobs.task_table import TaskStatements
from mnemo.stores.plans import PostgresRunner, SQLiteRunner, single
from mnemo.stores.postgres_batches import PostgresBatchStore
from mnemo.stores.postgres_db import PostgresDatabase
from mnemo.stores.postgres_webhooks import PostgresWebhookStore
from mnemo.stores.sql_batches import SqlBatchStore
from mnemo.stores.sql_webhooks import SqlWebhookStore
from mnemo.stores.sqlite_batches import SQLiteBatchStore
from mnemo.stores.sqlite_db import SQLiteDatabase
from mnemo.stores.sqlite_webhooks import SQLiteWebhookStore
from tests.contract.conftest import fresh_postgres_database

BACKENDS = ["sqlite", "postgres"]


@dataclass(frozen=True)
class Backend:
    kind: str
    location: str  # the SQLite file or the PostgreSQL URL
    db: SQLiteDatabase | PostgresDatabase

    def queue(
        self,
        *,
        clock: Callable[[], float] = time.time,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> SqlTaskQueue:
        if isinstance(self.db, SQLiteDatabase):
            return SQLiteTaskQueue(self.db, default_max_attempts=max_attempts, clock=clock)
        return PostgresTaskQueue(self.db, default_max_attempts=max_attempts, clock=clock)

    def webhooks(self) -> SqlWebhookStore:
        if isinstance(self.db, SQLiteDatabase):
            return SQLiteWebhookStore(self.db)
        return PostgresWebhookStore(self.db)

    def batches(self) -> SqlBatchStore:
        if isinstance(self.db, SQLiteDatabase):
            return SQLiteBatchStore(self.db)
        return PostgresBatchStore(self.db)

    async def add_task(self, task: Task, *, debounce_key: str | None = None) -> None:
        """Insert a task row as it is (tests set up states the API does not make directly)."""
        runner = (
            SQLiteRunner(self.db)
            if isinstance(self.db, SQLiteDatabase)
            else PostgresRunner(self.db)
        )
        await runner.run(
            single(TaskStatements(runner.spelling).insert(task, debounce_key=debounce_key))
        )

    def reopen(self) -> AbstractAsyncContextManager[Backend]:
        """The same database through new connections, as another process opens it."""
        return opened_backend(self.kind, self.location)


@asynccontextmanager
async def opened_backend(kind: str, location: str) -> AsyncIterator[Backend]:
    """The database at `location`, migrated and open, closed afterwards."""
    if kind == "sqlite":
        sqlite = SQLiteDatabase(Path(location))
        sqlite.open()
        try:
            yield Backend(kind, location, sqlite)
        finally:
            sqlite.close()
        return
    postgres = PostgresDatabase(location, 384, min_size=1, max_size=10, timeout=10.0)
    await postgres.open()
    try:
        yield Backend(kind, location, postgres)
    finally:
        await postgres.close()


@asynccontextmanager
async def fresh_backend(kind: str, tmp_path: Path) -> AsyncIterator[Backend]:
    """A new, empty database of this kind (a PostgreSQL one is dropped afterwards)."""
    if kind == "sqlite":
        async with opened_backend(kind, str(tmp_path / "mnemo.db")) as backend:
            yield backend
        return
    async with fresh_postgres_database() as url, opened_backend(kind, url) as backend:
        yield backend
