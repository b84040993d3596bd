"""Fixtures for background work: fast settings, the app, a side queue, a fake clock; each on
SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI

from mnemo.app import create_app
from mnemo.cli.stores import opened_store
from mnemo.config import JobsConfig, Settings, WebhooksConfig
from mnemo.embedders.local import LocalEmbedder
from mnemo.jobs.queue import TaskQueue
from mnemo.jobs.registry import TaskRegistry
from mnemo.jobs.sql_queue import SqlTaskQueue
from mnemo.jobs.worker import Worker, WorkerOptions
from mnemo.wiring import build_job_tables
from tests.contract.conftest import fresh_postgres_database
from tests.helpers.servers import serve_in_thread
from tests.jobs.backends import BACKENDS, Backend, fresh_backend

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


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """None: the app's default SQLite file; else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
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


@asynccontextmanager
async def side_queue(settings: Settings) -> AsyncIterator[TaskQueue]:
    """The server's task queue through connections of its own, as another process has it."""
    async with opened_store(settings) as store:
        queue, _, _ = build_job_tables(store, settings.jobs.max_attempts)
        yield queue


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    async with fresh_backend(request.param, tmp_path) as made:
        yield made


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(backend: Backend, clock: FakeClock) -> SqlTaskQueue:
    return backend.queue(clock=clock, max_attempts=3)


def worker_on(
    queue: TaskQueue,
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
