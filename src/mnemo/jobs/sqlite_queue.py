"""SQLiteTaskQueue: the TaskQueue port on the store's SQLite file (table `tasks`)."""

from __future__ import annotations

import time
from collections.abc import Callable

from mnemo.jobs.sql_queue import DEFAULT_MAX_ATTEMPTS, SqlTaskQueue
from mnemo.stores.plans import SQLiteRunner
from mnemo.stores.sqlite_db import SQLiteDatabase


class SQLiteTaskQueue(SqlTaskQueue):
    """Tasks in the same SQLite file as the store; BEGIN IMMEDIATE serialises claims, also
    across processes (`mnemo worker`) sharing the file."""

    def __init__(
        self,
        db: SQLiteDatabase,
        *,
        default_max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(SQLiteRunner(db), default_max_attempts=default_max_attempts, clock=clock)
