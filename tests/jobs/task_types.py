"""Task types for tests, loaded the documented way: MNEMO_JOBS__EXTRA_TASK_MODULES=tests.jobs.task_types.

- test.echo: returns its payload.
- test.fail: fails for good (PermanentTaskError) with payload["error"].
- test.flaky: raises until its attempt reaches payload["succeed_on"], then returns the attempt.
- test.record: sleeps payload["sleep_s"], then writes its effect keyed by task id (idempotent)
  into `<data_dir>/test_record.db`; every start and every committed effect is counted.
- test.count (PostgreSQL store only): sleeps payload["sleep_s"], then counts the execution in
  the store's own table `test_executions` (task id -> count, and the pid of the last run); the
  test creates that table (EXECUTIONS_TABLE) before it starts the workers.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread
from pydantic import JsonValue

from mnemo.jobs.queue import JsonObject
from mnemo.jobs.registry import PermanentTaskError, TaskContext, TaskRegistry
from mnemo.stores.postgres import PostgresStore

if TYPE_CHECKING:
    from mnemo.wiring import Services

RECORD_FILE = "test_record.db"
EXECUTIONS_TABLE = (
    "CREATE TABLE test_executions (task_id text PRIMARY KEY, count integer NOT NULL, "
    "pid integer NOT NULL)"
)


def register_tasks(registry: TaskRegistry, services: Services) -> None:
    registry.register("test.echo", echo)
    registry.register("test.fail", fail)
    registry.register("test.flaky", flaky)
    registry.register("test.record", Recorder(services.settings.data_dir / RECORD_FILE).run)
    if isinstance(services.store, PostgresStore):
        registry.register("test.count", ExecutionCounter(services.store).run)


async def echo(payload: JsonObject, context: TaskContext) -> JsonValue:
    return {"echo": payload, "attempt": context.attempt}


async def fail(payload: JsonObject, context: TaskContext) -> JsonValue:
    raise PermanentTaskError(str(payload.get("error", "boom")))


async def flaky(payload: JsonObject, context: TaskContext) -> JsonValue:
    succeed_on = payload.get("succeed_on", 2)
    assert isinstance(succeed_on, int)
    if context.attempt < succeed_on:
        raise RuntimeError(f"attempt {context.attempt} fails on purpose")
    return context.attempt


def open_record_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS starts (seq INTEGER PRIMARY KEY, task_id TEXT, pid INTEGER)"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS executions "
        "(seq INTEGER PRIMARY KEY, task_id TEXT, pid INTEGER, worker TEXT)"
    )
    conn.execute("CREATE TABLE IF NOT EXISTS effects (task_id TEXT PRIMARY KEY)")
    return conn


class Recorder:
    """An idempotent side effect in its own database: one `effects` row per task id."""

    def __init__(self, path: Path) -> None:
        self._path = path

    async def run(self, payload: JsonObject, context: TaskContext) -> JsonValue:
        task_id = context.task.id
        await anyio.to_thread.run_sync(
            self._write, "INSERT INTO starts (task_id, pid) VALUES (?, ?)", (task_id, os.getpid())
        )
        sleep_s = payload.get("sleep_s", 0)
        assert isinstance(sleep_s, int | float)
        await asyncio.sleep(float(sleep_s))
        await anyio.to_thread.run_sync(self._effect, task_id, context.worker_id)
        return {"recorded": task_id}

    def _write(self, sql: str, params: tuple[object, ...]) -> None:
        conn = open_record_db(self._path)
        try:
            conn.execute(sql, params)
        finally:
            conn.close()

    def _effect(self, task_id: str, worker_id: str) -> None:
        conn = open_record_db(self._path)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO executions (task_id, pid, worker) VALUES (?, ?, ?)",
                (task_id, os.getpid(), worker_id),
            )
            conn.execute("INSERT OR IGNORE INTO effects (task_id) VALUES (?)", (task_id,))
            conn.execute("COMMIT")
        finally:
            conn.close()


class ExecutionCounter:
    """Counts every execution of a task in the PostgreSQL store's database."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def run(self, payload: JsonObject, context: TaskContext) -> JsonValue:
        sleep_s = payload.get("sleep_s", 0)
        assert isinstance(sleep_s, int | float)
        await asyncio.sleep(float(sleep_s))
        async with self._store.db.connection() as conn:
            await conn.execute(
                "INSERT INTO test_executions (task_id, count, pid) VALUES (%s, 1, %s) "
                "ON CONFLICT (task_id) DO UPDATE SET count = test_executions.count + 1, "
                "pid = EXCLUDED.pid",
                (context.task.id, os.getpid()),
            )
        return {"counted": context.task.id}
