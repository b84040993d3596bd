"""Acceptance on PostgreSQL: `mnemo worker` processes on one database share the queue, each task
is done once, and a worker killed with -9 loses nothing.

The task type is real and loaded the documented way (MNEMO_JOBS__EXTRA_TASK_MODULES):
"test.count" counts every execution of a task in a table of the same database, keyed by task
id, so a task run twice shows a count of 2.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from mnemo.jobs.queue import JsonObject, TaskStatus
from tests.contract.conftest import fresh_postgres_database
from tests.jobs.backends import opened_backend
from tests.jobs.conftest import TEST_TASK_MODULE
from tests.jobs.processes import start_worker
from tests.jobs.task_types import EXECUTIONS_TABLE
from tests.jobs.waiting import wait_for

ENV = {
    "MNEMO_JOBS__EXTRA_TASK_MODULES": TEST_TASK_MODULE,
    "MNEMO_JOBS__POLL_INTERVAL_S": "0.02",
    "MNEMO_JOBS__LEASE_S": "3",
}


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres_database() as url:
        yield url


def queue_count_tasks(url: str, count: int, sleep_s: float) -> list[str]:
    """Migrate, create the executions table and queue `count` test.count tasks, as any
    client process could."""

    async def prepare() -> list[str]:
        async with opened_backend("postgres", url) as backend:
            execute(url, EXECUTIONS_TABLE)
            queue = backend.queue()
            payload: JsonObject = {"sleep_s": sleep_s}
            added = await asyncio.gather(
                *(
                    queue.enqueue("test.count", payload, namespace="acceptance")
                    for _ in range(count)
                )
            )  # over the pool's connections, in parallel
            return [task.id for task in added]

    return asyncio.run(prepare())


def query(url: str, sql: str) -> list[dict[str, Any]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql).fetchall()


def execute(url: str, sql: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(sql)


def tasks(url: str) -> dict[str, dict[str, Any]]:
    rows = query(url, "SELECT id, status, attempts, worker_id, lease_until, started_at FROM tasks")
    return {row["id"]: row for row in rows}


def executions(url: str) -> dict[str, dict[str, Any]]:
    return {row["task_id"]: row for row in query(url, "SELECT * FROM test_executions")}


def succeeded(url: str) -> int:
    (row,) = query(url, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'succeeded'")
    return int(row["n"])


def test_two_worker_processes_drain_1000_tasks_with_no_task_done_twice(
    postgres_url: str, tmp_path: Path
) -> None:
    ids = queue_count_tasks(postgres_url, 1000, sleep_s=0.01)
    env = {**ENV, "MNEMO_DATABASE_URL": postgres_url}
    workers = [start_worker(tmp_path / f"worker{n}", env, concurrency=2) for n in range(2)]
    try:
        wait_for(lambda: succeeded(postgres_url) == 1000, "two workers to drain 1,000 tasks", 300)
    finally:
        codes = [w.stop() for w in workers]
    assert codes == [0, 0]  # both shut down gracefully on SIGTERM

    done = executions(postgres_url)
    assert sorted(done) == sorted(ids)  # every task was done ...
    assert Counter(row["count"] for row in done.values()) == {1: 1000}  # ... and none twice
    assert {row["attempts"] for row in tasks(postgres_url).values()} == {1}
    by_process = Counter(row["pid"] for row in done.values())
    assert set(by_process) == {w.proc.pid for w in workers}  # both did work


def test_a_task_interrupted_by_kill_9_runs_again_once_its_lease_expires(
    postgres_url: str, tmp_path: Path
) -> None:
    ids = queue_count_tasks(postgres_url, 6, sleep_s=1.0)
    env = {**ENV, "MNEMO_DATABASE_URL": postgres_url}

    crashed = start_worker(tmp_path / "crashed", env, concurrency=2)
    try:

        def mid_run() -> bool:
            """Some tasks done, and another inside its handler's sleep (not yet counted)."""
            states = tasks(postgres_url).values()  # first: a run counted after it is seen
            running = {t["id"] for t in states if t["status"] == TaskStatus.RUNNING}
            done = executions(postgres_url)
            return len(done) >= 2 and bool(running - set(done))

        wait_for(mid_run, "some tasks done and others running", 120)
        crashed.kill()
    finally:
        crashed.stop()
    at_kill = tasks(postgres_url)
    in_flight = {i for i, t in at_kill.items() if t["status"] == TaskStatus.RUNNING}
    assert in_flight, "the kill must interrupt running tasks"

    survivor = start_worker(tmp_path / "survivor", env, concurrency=2)
    try:
        wait_for(lambda: succeeded(postgres_url) == len(ids), "the survivor to finish", 120)
    finally:
        assert survivor.stop() == 0
    final, counts = tasks(postgres_url), executions(postgres_url)
    assert sorted(counts) == sorted(ids)
    for task_id in in_flight:  # picked up again, but only after the dead worker's lease
        assert final[task_id]["attempts"] == 2
        assert final[task_id]["worker_id"] != at_kill[task_id]["worker_id"]
        assert final[task_id]["started_at"] >= at_kill[task_id]["lease_until"]
    assert all(counts[i]["count"] == 1 for i in ids if i not in in_flight)
    assert all(final[i]["attempts"] == 1 for i in ids if i not in in_flight)
