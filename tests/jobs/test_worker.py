"""The worker on SQLite and PostgreSQL: permanent errors, task types, graceful shutdown, waiting."""

from __future__ import annotations

import asyncio

import anyio.to_thread
import pytest
from pydantic import JsonValue

from mnemo.errors import ConfigurationError
from mnemo.jobs.queue import JsonObject, TaskQueue, TaskStatus, wait_for_task
from mnemo.jobs.registry import PermanentTaskError, TaskContext, TaskRegistry
from mnemo.priority import in_background
from tests.jobs.backends import Backend
from tests.jobs.conftest import worker_on

NS = "acme"


async def test_a_permanent_error_is_dead_at_once(queue: TaskQueue) -> None:
    async def refuse(payload: JsonObject, context: TaskContext) -> JsonValue:
        raise PermanentTaskError("payload makes no sense")

    registry = TaskRegistry()
    registry.register("t.refuse", refuse)
    task = await queue.enqueue("t.refuse", {}, namespace=NS)
    await worker_on(queue, registry).run_one()
    dead = await queue.get(task.id)
    assert dead is not None
    assert (dead.status, dead.attempts, dead.error) == (
        TaskStatus.DEAD,
        1,
        "payload makes no sense",
    )


async def test_workers_claim_only_registered_types(queue: TaskQueue) -> None:
    task = await queue.enqueue("t.nobody", {}, namespace=NS)
    assert await worker_on(queue, TaskRegistry()).run_one() is None
    still = await queue.get(task.id)
    assert still is not None and still.status is TaskStatus.PENDING


async def test_stop_lets_an_in_flight_task_finish(backend: Backend) -> None:
    started, proceed = asyncio.Event(), asyncio.Event()

    async def slow(payload: JsonObject, context: TaskContext) -> JsonValue:
        started.set()
        await proceed.wait()
        return "finished"

    registry = TaskRegistry()
    registry.register("t.slow", slow)
    real_clock_queue = backend.queue()
    task = await real_clock_queue.enqueue("t.slow", {}, namespace=NS)
    worker = worker_on(real_clock_queue, registry, shutdown_grace_s=30.0)
    await worker.start()
    await asyncio.wait_for(started.wait(), timeout=30)
    stopping = asyncio.create_task(worker.stop())
    await asyncio.sleep(0)  # stop() has begun: no new claims, the task is still running
    proceed.set()
    await stopping
    done = await real_clock_queue.get(task.id)
    assert done is not None and (done.status, done.result) == (TaskStatus.SUCCEEDED, "finished")


async def test_stop_releases_a_task_that_does_not_finish_in_the_grace_period(
    backend: Backend,
) -> None:
    started = asyncio.Event()

    async def stuck(payload: JsonObject, context: TaskContext) -> JsonValue:
        started.set()
        await asyncio.Event().wait()
        return None

    registry = TaskRegistry()
    registry.register("t.stuck", stuck)
    queue = backend.queue()
    task = await queue.enqueue("t.stuck", {}, namespace=NS)
    worker = worker_on(queue, registry, shutdown_grace_s=0.05)
    await worker.start()
    await asyncio.wait_for(started.wait(), timeout=30)
    await worker.stop()
    back = await queue.get(task.id)
    assert back is not None
    assert (back.status, back.attempts, back.worker_id) == (TaskStatus.PENDING, 0, None)


async def test_wait_for_task_returns_the_finished_task(backend: Backend) -> None:
    async def echo(payload: JsonObject, context: TaskContext) -> JsonValue:
        return payload

    registry = TaskRegistry()
    registry.register("t.echo", echo)
    queue = backend.queue()
    worker = worker_on(queue, registry)
    await worker.start()
    try:
        task = await queue.enqueue("t.echo", {"a": 1}, namespace=NS)
        done = await wait_for_task(queue, task.id, timeout_s=30)
    finally:
        await worker.stop()
    assert (done.status, done.result) == (TaskStatus.SUCCEEDED, {"a": 1})


def test_registry_refuses_duplicates_and_bad_modules() -> None:
    async def noop(payload: JsonObject, context: TaskContext) -> JsonValue:
        return None

    registry = TaskRegistry()
    registry.register("t.x", noop)
    with pytest.raises(ConfigurationError):
        registry.register("t.x", noop)
    with pytest.raises(ConfigurationError, match="cannot import"):
        registry.load_modules(["tests.jobs.no_such_module"], None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="register_tasks"):
        registry.load_modules(["tests.jobs.waiting"], None)  # type: ignore[arg-type]


async def test_tasks_run_as_background_work_and_requests_do_not(queue: TaskQueue) -> None:
    seen: list[bool] = []

    async def note(payload: JsonObject, context: TaskContext) -> JsonValue:
        seen.append(in_background())
        seen.append(await anyio.to_thread.run_sync(in_background))  # threads inherit it
        return None

    registry = TaskRegistry()
    registry.register("t.note", note)
    await queue.enqueue("t.note", {}, namespace=NS)
    await worker_on(queue, registry).run_one()
    assert seen == [True, True]
    assert not in_background()
