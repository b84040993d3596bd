"""SQLite connections: one serialised writer, one reader per thread, WAL, durable commits.

Writers queue twice: on a thread lock inside the process, then on an flock() of a file
beside the database across processes (`mnemo serve --workers N`, `mnemo worker`). SQLite
alone would let a second process's writer find the database locked and retry in its busy
handler, which sleeps 1, 2, 5, 10 ... 100 ms between tries: tens to hundreds of
milliseconds added to writes whenever two processes write at once. A blocking flock() is
handed over the moment the holder lets go.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from mnemo.errors import StoreUnavailableError
from mnemo.stores.migrations import load_migrations

T = TypeVar("T")


class SQLiteDatabase:
    """Owns the connections to one SQLite file and runs work on them off the event loop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._write_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._process_lock: int | None = None  # fd of the write-lock file
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".write-lock")
        self._process_lock = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        self._writer = self._connect()
        with self._writing():
            self._migrate(self._writer)

    def close(self) -> None:
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._process_lock is not None:
            os.close(self._process_lock)
            self._process_lock = None

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self._run_read, work)

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one IMMEDIATE transaction; it is on disk when this returns."""
        return await anyio.to_thread.run_sync(self._run_write, work)

    def run_write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Synchronous form of write(), for the CLI and start-up."""
        return self._run_write(work)

    def _run_read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        try:
            return work(conn)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailableError(f"SQLite read failed: {exc}") from exc

    def _run_write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            raise StoreUnavailableError("the SQLite store is not open")
        with self._writing():
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
                result = work(conn)
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StoreUnavailableError(f"SQLite write failed: {exc}") from exc
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """This thread holds the process's write lock, and the process the file's."""
        with self._write_lock:
            if self._process_lock is None:
                raise StoreUnavailableError("the SQLite store is not open")
            fcntl.flock(self._process_lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._process_lock, fcntl.LOCK_UN)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is fsynced before it is acknowledged (NORMAL may lose the last
        # transactions on power loss in WAL mode).
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for migration in load_migrations("sqlite"):
            if migration.version in applied:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _split_statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    (migration.version, migration.name, time.time()),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise


def _split_statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--") and not buffer.strip():
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
