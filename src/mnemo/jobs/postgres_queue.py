"""PostgresTaskQueue: the TaskQueue port on the PostgreSQL store's own database (table `tasks`).

Claims are `UPDATE ... WHERE id = <first claimable row, FOR UPDATE SKIP LOCKED>`, so any number
of `mnemo serve` and `mnemo worker` processes share one queue and pass over each other's rows
instead of waiting; debounce keys are serialised with `pg_advisory_xact_lock`. Leases compare
the workers' clocks: keep the hosts' clocks in sync (NTP) to well within the lease.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mnemo.jobs.sql_queue import DEFAULT_MAX_ATTEMPTS, SqlTaskQueue
from mnemo.stores.plans import PostgresRunner
from mnemo.stores.postgres_db import PostgresDatabase


class PostgresTaskQueue(SqlTaskQueue):
    """Tasks on the store's connection pool; the store opens and closes the database."""

    def __init__(
        self,
        db: PostgresDatabase,
        *,
        default_max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(PostgresRunner(db), default_max_attempts=default_max_attempts, clock=clock)
