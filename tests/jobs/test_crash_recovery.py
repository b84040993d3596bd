"""Acceptance: tasks survive kill -9 of `mnemo serve`, and `mnemo worker` processes share work.

The task type is real and loaded the documented way (MNEMO_JOBS__EXTRA_TASK_MODULES): each
"test.record" task writes an idempotent effect keyed by its id into its own database file and
counts every start and every committed effect, so the test can tell apart "ran once", "was
interrupted and ran again" and "ran twice".
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path

from mnemo.jobs.queue import TaskStatus
from mnemo.jobs.sqlite_queue import SQLiteTaskQueue
from mnemo.stores.sqlite_db import SQLiteDatabase
from tests.jobs.conftest import TEST_TASK_MODULE
from tests.jobs.processes import start_server, start_worker
from tests.jobs.task_types import RECORD_FILE, open_record_db
from tests.jobs.waiting import wait_for

ENV = {
    "MNEMO_JOBS__EXTRA_TASK_MODULES": TEST_TASK_MODULE,
    "MNEMO_JOBS__POLL_INTERVAL_S": "0.02",
    "MNEMO_JOBS__LEASE_S": "3",
}


def queue_tasks(data_dir: Path, count: int, sleep_s: float) -> list[str]:
    """Create the database and queue `count` test.record tasks, as any client process could."""
    db = SQLiteDatabase(data_dir / "mnemo.db")
    db.open()
    queue = SQLiteTaskQueue(db)

    async def enqueue_all() -> list[str]:
        return [
            (await queue.enqueue("test.record", {"sleep_s": sleep_s}, namespace="crash")).id
            for _ in range(count)
        ]

    try:
        return asyncio.run(enqueue_all())
    finally:
        db.close()


def task_states(data_dir: Path) -> dict[str, tuple[TaskStatus, int]]:
    conn = sqlite3.connect(data_dir / "mnemo.db")
    try:
        rows = conn.execute("SELECT id, status, attempts FROM tasks").fetchall()
    finally:
        conn.close()
    return {r[0]: (TaskStatus(r[1]), r[2]) for r in rows}


def recorded(data_dir: Path, table: str) -> list[tuple[str, int]]:
    conn = open_record_db(data_dir / RECORD_FILE)
    try:
        column = "pid" if table != "effects" else "0"
        return [(r[0], r[1]) for r in conn.execute(f"SELECT task_id, {column} FROM {table}")]
    finally:
        conn.close()


def all_succeeded(data_dir: Path, ids: list[str]) -> bool:
    states = task_states(data_dir)
    return all(states[i][0] is TaskStatus.SUCCEEDED for i in ids)


def test_every_task_completes_exactly_once_across_a_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ids = queue_tasks(data_dir, 200, sleep_s=0.05)
    env = {**ENV, "MNEMO_JOBS__WORKERS_IN_PROCESS": "4"}

    server, _ = start_server(data_dir, env)
    try:
        wait_for(lambda: len(recorded(data_dir, "effects")) >= 50, "50 tasks to be done")
        server.kill()
    finally:
        server.stop()
    at_kill = task_states(data_dir)
    in_flight = {i for i, (status, _) in at_kill.items() if status is TaskStatus.RUNNING}
    done_at_kill = sum(status is TaskStatus.SUCCEEDED for status, _ in at_kill.values())
    assert 0 < done_at_kill < 200, "the kill must land mid-way"
    assert in_flight, "the kill must interrupt running tasks"

    server, _ = start_server(data_dir, env)
    try:
        wait_for(lambda: all_succeeded(data_dir, ids), "every task to succeed after restart")
    finally:
        server.stop()

    effects = [task_id for task_id, _ in recorded(data_dir, "effects")]
    assert sorted(effects) == sorted(ids)  # every task's effect exists, exactly once
    executions = Counter(task_id for task_id, _ in recorded(data_dir, "executions"))
    starts = Counter(task_id for task_id, _ in recorded(data_dir, "starts"))
    assert set(executions) == set(ids)
    # Only the tasks the kill interrupted may have started (or, at worst, run) twice; every
    # other task ran exactly once.
    assert {i for i, n in starts.items() if n > 1} <= in_flight
    assert {i for i, n in executions.items() if n > 1} <= in_flight
    assert all(n == 1 for i, n in executions.items() if i not in in_flight)
    final = task_states(data_dir)
    assert all(final[i][1] == 1 for i in ids if i not in in_flight)


def test_two_worker_processes_drain_the_queue_with_no_task_run_twice(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ids = queue_tasks(data_dir, 200, sleep_s=0.05)
    workers = [start_worker(data_dir, ENV, concurrency=2) for _ in range(2)]
    try:
        wait_for(lambda: all_succeeded(data_dir, ids), "two workers to drain 200 tasks")
    finally:
        codes = [w.stop() for w in workers]
    assert codes == [0, 0]  # both shut down gracefully on SIGTERM
    executions = recorded(data_dir, "executions")
    assert Counter(task_id for task_id, _ in executions) == Counter(ids)  # each exactly once
    assert {pid for _, pid in executions} == {w.proc.pid for w in workers}  # both did work
