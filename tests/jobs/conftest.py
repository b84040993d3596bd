"""Fixtures for background work: fast settings, the app, a side queue, a fake clock."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from mnemo.app import create_app
from mnemo.config import JobsConfig, Settings, WebhooksConfig
from mnemo.embedders.local import LocalEmbedder
from mnemo.jobs.registry import TaskRegistry
from mnemo.jobs.sqlite_queue import SQLiteTaskQueue
from mnemo.jobs.worker import Worker, WorkerOptions
from mnemo.stores.sqlite_db import SQLiteDatabase
from tests.helpers.servers import serve_in_thread

TEST_TASK_MODULE = "tests.jobs.task_types"


def fast_jobs(**overrides: object) -> JobsConfig:
    base: dict[str, object] = {
        "poll_interval_s": 0.02,
        "lease_s": 5.0,
        "backoff_base_s": 0.05,
        "backoff_max_s": 0.2,
        "extraction_debounce_s": 0.0,
        "shutdown_grace_s": 5.0,
        "extra_task_modules": [TEST_TASK_MODULE],
    }
    return JobsConfig.model_validate({**base, **overrides})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        jobs=fast_jobs(),
        webhooks=WebhooksConfig(allow_private=True, timeout_s=5.0),
    )


@pytest.fixture
def app(settings: Settings, embedder: LocalEmbedder) -> FastAPI:
    return create_app(settings, embedder)


@pytest.fixture
def server_url(app: FastAPI) -> Iterator[str]:
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture
def side_queue(settings: Settings, server_url: str) -> Iterator[SQLiteTaskQueue]:
    """A queue on the server's database file through its own connections (like a second
    process), driven from the test thread with asyncio.run."""
    db = SQLiteDatabase(settings.sqlite_path)
    db.open()
    try:
        yield SQLiteTaskQueue(db)
    finally:
        db.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    database = SQLiteDatabase(tmp_path / "mnemo.db")
    database.open()
    yield database
    database.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(db: SQLiteDatabase, clock: FakeClock) -> SQLiteTaskQueue:
    return SQLiteTaskQueue(db, default_max_attempts=3, clock=clock)


def worker_on(
    queue: SQLiteTaskQueue,
    registry: TaskRegistry,
    clock: FakeClock | None = None,
    *,
    backoff_base_s: float = 10.0,
    shutdown_grace_s: float = 10.0,
) -> Worker:
    """A worker with no jitter (rng 0: each delay is exactly half its ceiling)."""
    options = WorkerOptions(
        poll_interval_s=0.01, backoff_base_s=backoff_base_s, shutdown_grace_s=shutdown_grace_s
    )
    return Worker(queue, registry, options, rng=lambda: 0.0, clock=clock or time.time)
