"""Transactions written once for every SQL database: a plan yields statements, a runner runs them.

A plan is a generator: it yields `(sql, params)` statements and is sent back the rows each one
returned (from SELECT or RETURNING; an empty list otherwise), then returns its result. The
control flow of a transaction ("insert; if the key was taken, read the existing row") lives in
the plan, so the task queue, the webhook store and the batch store hold it once; a runner only
decides how a transaction is made and how a key is locked inside it:

- SQLite: the whole plan runs in one `BEGIN IMMEDIATE` transaction, so writers (threads and
  processes) take turns; no further locks are needed and `lock()` returns None.
- PostgreSQL: the plan runs in one transaction on a pooled connection; keys are serialised with
  transaction-scoped advisory locks and claims pass over rows others hold (`SKIP LOCKED`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from mnemo.stores.spellings import POSTGRES, SQLITE, Spelling

if TYPE_CHECKING:  # types only: neither runner needs the other database's driver loaded
    import sqlite3

    from mnemo.stores.postgres_db import PostgresDatabase
    from mnemo.stores.sqlite_db import SQLiteDatabase

T = TypeVar("T")


class Row(Protocol):
    """A result row: sqlite3.Row or psycopg's dict row, read by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


Params = tuple[object, ...]
Statement = tuple[str, Params]
Rows = Sequence[Row]
Plan = Generator[Statement, Rows, T]


class LockScope(IntEnum):
    """What a key lock serialises (PostgreSQL: the advisory lock's class id)."""

    TASK_KEY = 1  # debounced enqueues and claims of one (namespace, type, debounce key)
    WEBHOOK_NAMESPACE = 2  # the per-namespace webhook cap
    BATCH_KEY = 3  # appends to one message buffer


class PlanRunner(Protocol):
    """Runs plans on one database, each in one transaction committed before `run` returns."""

    @property
    def spelling(self) -> Spelling: ...

    @property
    def skip_locked(self) -> str:
        """Appended to a SELECT ... LIMIT: pass over rows other transactions are claiming."""
        ...

    async def run(self, plan: Plan[T], *, write: bool = True) -> T: ...

    def lock(self, scope: LockScope, key: str, *, wait: bool) -> Statement | None:
        """A statement locking `key` until the transaction ends, or None when the runner's
        transactions already exclude each other. wait=False tries once and returns one row
        whose `locked` column says whether it got the lock."""
        ...


def single(statement: Statement) -> Plan[Rows]:
    """The plan of one statement: its rows."""
    rows = yield statement
    return rows


def run_plan(plan: Plan[T], execute: Callable[[Statement], Rows]) -> T:
    try:
        statement = next(plan)
        while True:
            statement = plan.send(execute(statement))
    except StopIteration as finished:
        result: T = finished.value
        return result


async def run_plan_async(plan: Plan[T], execute: Callable[[Statement], Awaitable[Rows]]) -> T:
    try:
        statement = next(plan)
        while True:
            statement = plan.send(await execute(statement))
    except StopIteration as finished:
        result: T = finished.value
        return result


class SQLiteRunner:
    """Plans on a SQLite file: writes in the database's IMMEDIATE transaction, reads apart."""

    spelling = SQLITE
    skip_locked = ""

    def __init__(self, db: SQLiteDatabase) -> None:
        self.db = db

    async def run(self, plan: Plan[T], *, write: bool = True) -> T:
        def work(conn: sqlite3.Connection) -> T:
            return run_plan(plan, lambda statement: conn.execute(*statement).fetchall())

        return await (self.db.write(work) if write else self.db.read(work))

    def lock(self, scope: LockScope, key: str, *, wait: bool) -> Statement | None:  # noqa: ARG002
        return None  # BEGIN IMMEDIATE: one writer at a time, across processes too


class PostgresRunner:
    """Plans on the PostgreSQL store's pool; key locks are advisory transaction locks."""

    spelling = POSTGRES
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    async def run(self, plan: Plan[T], *, write: bool = True) -> T:  # noqa: ARG002 - one pool
        async with self.db.connection() as conn:

            async def execute(statement: Statement) -> Rows:
                cursor = await conn.execute(*statement)
                return await cursor.fetchall() if cursor.description else []

            return await run_plan_async(plan, execute)

    def lock(self, scope: LockScope, key: str, *, wait: bool) -> Statement | None:
        # The two-int form: its key space never meets the migration lock's single bigint.
        function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
        return f"SELECT {function}(%s, hashtext(%s)) AS locked", (int(scope), key)
