"""The task queue on SQLite and PostgreSQL, and the worker: claims, leases, retries, dead tasks,
one run per debounce key at a time."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import pytest
from pydantic import JsonValue

from mnemo.jobs.queue import JsonObject, TaskQueue, TaskStatus
from mnemo.jobs.registry import TaskContext, TaskRegistry
from mnemo.jobs.task_table import new_task
from mnemo.jobs.worker import Worker, WorkerOptions, backoff_delay
from tests.jobs.backends import Backend
from tests.jobs.conftest import FakeClock, worker_on
from tests.jobs.waiting import async_wait_for

NS = "acme"


async def test_enqueue_claim_complete_round_trip(queue: TaskQueue) -> None:
    task = await queue.enqueue("t.echo", {"x": 1}, namespace=NS)
    assert (task.status, task.attempts, task.max_attempts) == (TaskStatus.PENDING, 0, 3)

    claimed = await queue.claim("w1", lease_s=30)
    assert claimed is not None and claimed.id == task.id
    assert (claimed.status, claimed.attempts, claimed.worker_id) == (TaskStatus.RUNNING, 1, "w1")
    assert claimed.started_at is not None
    assert await queue.claim("w2", lease_s=30) is None

    assert await queue.complete(task.id, "w1", {"ok": True})
    done = await queue.get(task.id)
    assert done is not None
    assert (done.status, done.result, done.error) == (TaskStatus.SUCCEEDED, {"ok": True}, None)
    assert done.completed_at is not None and done.is_terminal


async def test_enqueue_is_committed_before_it_returns(backend: Backend, queue: TaskQueue) -> None:
    task = await queue.enqueue("t.echo", {}, namespace=NS)
    async with backend.reopen() as other:  # a second process's view of the database
        seen = await other.queue().get(task.id)
    assert seen is not None and seen.status is TaskStatus.PENDING


async def test_claim_takes_due_tasks_in_order_and_only_given_types(
    queue: TaskQueue, clock: FakeClock
) -> None:
    later = await queue.enqueue(
        "t.a", {}, namespace=NS, run_after=datetime.fromtimestamp(clock.now + 60, UTC)
    )
    first = await queue.enqueue("t.a", {}, namespace=NS)
    second = await queue.enqueue("t.b", {}, namespace=NS)

    assert await queue.claim("w", 30, frozenset({"t.zzz"})) is None
    assert await queue.claim("w", 30, frozenset()) is None
    got_b = await queue.claim("w", 30, frozenset({"t.b"}))
    assert got_b is not None and got_b.id == second.id
    got_a = await queue.claim("w", 30)
    assert got_a is not None and got_a.id == first.id
    assert await queue.claim("w", 30) is None  # `later` is not due yet
    assert await queue.complete(first.id, "w", None)
    assert await queue.complete(second.id, "w", None)
    clock.advance(61)
    got_later = await queue.claim("w", 30)
    assert got_later is not None and got_later.id == later.id


async def test_idempotency_key_returns_the_existing_task(queue: TaskQueue) -> None:
    first = await queue.enqueue("t.echo", {"n": 1}, namespace=NS, idempotency_key="k1")
    again = await queue.enqueue("t.echo", {"n": 2}, namespace=NS, idempotency_key="k1")
    assert again.id == first.id and again.payload == {"n": 1}

    claimed = await queue.claim("w", 30)
    assert claimed is not None
    await queue.complete(first.id, "w", None)
    after_done = await queue.enqueue("t.echo", {}, namespace=NS, idempotency_key="k1")
    assert after_done.id == first.id and after_done.status is TaskStatus.SUCCEEDED

    elsewhere = await queue.enqueue("t.echo", {}, namespace="other", idempotency_key="k1")
    other_type = await queue.enqueue("t.other", {}, namespace=NS, idempotency_key="k1")
    assert len({first.id, elsewhere.id, other_type.id}) == 3


async def test_debounce_pushes_the_pending_task_back_and_keeps_the_latest_payload(
    queue: TaskQueue, clock: FakeClock
) -> None:
    first = await queue.enqueue_debounced("t.extract", {"v": 1}, namespace=NS, key="s1", delay_s=30)
    clock.advance(20)
    second = await queue.enqueue_debounced(
        "t.extract", {"v": 2}, namespace=NS, key="s1", delay_s=30
    )
    assert second.id == first.id and second.payload == {"v": 2}
    assert second.run_after.timestamp() == pytest.approx(clock.now + 30)

    clock.advance(29)
    assert await queue.claim("w", 30) is None  # the trailing edge moved
    clock.advance(2)
    running = await queue.claim("w", 30)
    assert running is not None and running.id == first.id

    during_run = await queue.enqueue_debounced(
        "t.extract", {"v": 3}, namespace=NS, key="s1", delay_s=30
    )
    assert during_run.id != first.id  # turns that arrive during a run need another run
    other_key = await queue.enqueue_debounced("t.extract", {}, namespace=NS, key="s2", delay_s=30)
    assert other_key.id not in {first.id, during_run.id}


async def test_a_running_task_holds_its_debounce_key_until_it_finishes(
    queue: TaskQueue,
) -> None:
    """Two workers never run one session's extraction at once: a task whose key has a live run
    waits, while other keys (and the same key elsewhere) go ahead."""
    first = await queue.enqueue_debounced("t.extract", {"v": 1}, namespace=NS, key="s1", delay_s=0)
    running = await queue.claim("w1", lease_s=30)
    assert running is not None and running.id == first.id
    second = await queue.enqueue_debounced("t.extract", {"v": 2}, namespace=NS, key="s1", delay_s=0)
    other_session = await queue.enqueue_debounced(
        "t.extract", {}, namespace=NS, key="s2", delay_s=0
    )
    other_tenant = await queue.enqueue_debounced(
        "t.extract", {}, namespace="other", key="s1", delay_s=0
    )
    other_type = await queue.enqueue_debounced("t.summary", {}, namespace=NS, key="s1", delay_s=0)

    claimed = [await queue.claim("w2", lease_s=30) for _ in range(4)]
    assert [t.id if t else None for t in claimed] == [
        other_session.id, other_tenant.id, other_type.id, None,
    ]  # fmt: skip
    assert await queue.complete(first.id, "w1", None)
    after = await queue.claim("w2", lease_s=30)
    assert after is not None and after.id == second.id and after.payload == {"v": 2}


async def test_a_crashed_run_frees_its_debounce_key_only_by_running_again(
    queue: TaskQueue, clock: FakeClock
) -> None:
    first = await queue.enqueue_debounced("t.extract", {}, namespace=NS, key="s1", delay_s=0)
    assert await queue.claim("crashed", lease_s=10) is not None
    second = await queue.enqueue_debounced("t.extract", {}, namespace=NS, key="s1", delay_s=0)
    assert await queue.claim("w2", lease_s=10) is None
    clock.advance(11)  # the lease expired: the interrupted run goes first, the next one waits
    again = await queue.claim("w2", lease_s=10)
    assert again is not None and (again.id, again.attempts) == (first.id, 2)
    assert await queue.claim("w3", lease_s=10) is None
    assert await queue.complete(first.id, "w2", None)
    last = await queue.claim("w3", lease_s=10)
    assert last is not None and last.id == second.id


async def test_concurrent_claims_start_one_task_per_debounce_key(backend: Backend) -> None:
    """Claims racing from two connection pools (two processes) over keys that each have four
    due tasks, side by side in claim order: however the race goes, every key has one run."""
    keys = [f"s{i}" for i in range(6)]
    for key in keys:  # several due tasks per key (a release or retry can leave more than one)
        for _ in range(4):
            await backend.add_task(
                new_task("t.extract", {}, namespace=NS, run_after=0.0, max_attempts=3, now=0.0),
                debounce_key=key,
            )
    queue = backend.queue()
    async with backend.reopen() as other:
        queues = [queue, other.queue()]
        await asyncio.gather(*(queues[i % 2].claim(f"w{i}", lease_s=60) for i in range(24)))
        while await queue.claim("late", lease_s=60) is not None:
            pass
    running = (await queue.list(NS, TaskStatus.RUNNING, limit=100, offset=0)).items
    assert Counter(t.debounce_key for t in running) == Counter(keys)


async def test_failures_retry_with_exponential_backoff_then_die_with_the_error(
    queue: TaskQueue, clock: FakeClock
) -> None:
    calls: list[int] = []

    async def broken(payload: JsonObject, context: TaskContext) -> JsonValue:
        calls.append(context.attempt)
        raise RuntimeError(f"kaput #{context.attempt}")

    registry = TaskRegistry()
    registry.register("t.broken", broken)
    worker = worker_on(queue, registry, clock, backoff_base_s=10.0)
    task = await queue.enqueue("t.broken", {}, namespace=NS)

    await worker.run_one()
    retrying = await queue.get(task.id)
    assert retrying is not None
    assert (retrying.status, retrying.attempts) == (TaskStatus.PENDING, 1)
    assert retrying.error == "RuntimeError: kaput #1"
    assert retrying.run_after.timestamp() == pytest.approx(clock.now + 5.0)  # 10 * 2^0, half jitter

    assert await worker.run_one() is None  # not due yet
    clock.advance(5.0)
    await worker.run_one()
    second = await queue.get(task.id)
    assert second is not None and second.run_after.timestamp() == pytest.approx(clock.now + 10.0)

    clock.advance(10.0)
    await worker.run_one()
    dead = await queue.get(task.id)
    assert dead is not None
    assert (dead.status, dead.attempts, dead.error) == (
        TaskStatus.DEAD,
        3,
        "RuntimeError: kaput #3",
    )
    assert dead.completed_at is not None
    clock.advance(3600)
    assert await worker.run_one() is None
    assert calls == [1, 2, 3]


def test_backoff_doubles_and_is_capped() -> None:
    low = [backoff_delay(n, 2.0, 20.0, lambda: 0.0) for n in range(1, 6)]
    high = [backoff_delay(n, 2.0, 20.0, lambda: 1.0) for n in range(1, 6)]
    assert low == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert high == [2.0, 4.0, 8.0, 16.0, 20.0]


async def test_an_expired_lease_is_claimed_again_and_the_old_owner_cannot_finish(
    queue: TaskQueue, clock: FakeClock
) -> None:
    task = await queue.enqueue("t.echo", {}, namespace=NS)
    assert await queue.claim("crashed", lease_s=10) is not None
    clock.advance(9)
    assert await queue.claim("w2", lease_s=10) is None
    clock.advance(2)
    again = await queue.claim("w2", lease_s=10)
    assert again is not None and again.id == task.id
    assert (again.attempts, again.worker_id) == (2, "w2")

    assert not await queue.complete(task.id, "crashed", "stale")
    assert not await queue.heartbeat(task.id, "crashed", 10)
    assert await queue.complete(task.id, "w2", "fresh")
    done = await queue.get(task.id)
    assert done is not None and done.result == "fresh"


async def test_heartbeat_keeps_the_lease(queue: TaskQueue, clock: FakeClock) -> None:
    task = await queue.enqueue("t.echo", {}, namespace=NS)
    await queue.claim("w1", lease_s=10)
    for _ in range(5):
        clock.advance(8)
        assert await queue.heartbeat(task.id, "w1", 10)
        assert await queue.claim("w2", lease_s=10) is None


async def test_a_task_that_keeps_killing_its_worker_ends_dead(
    queue: TaskQueue, clock: FakeClock
) -> None:
    task = await queue.enqueue("t.echo", {}, namespace=NS, max_attempts=2)
    for worker in ("w1", "w2"):
        assert await queue.claim(worker, lease_s=10) is not None
        clock.advance(11)
    assert await queue.claim("w3", lease_s=10) is None
    dead = await queue.get(task.id)
    assert dead is not None and dead.status is TaskStatus.DEAD
    assert dead.error is not None and "lease expired" in dead.error


async def test_release_gives_the_task_back_without_using_an_attempt(queue: TaskQueue) -> None:
    task = await queue.enqueue("t.echo", {}, namespace=NS)
    await queue.claim("w1", lease_s=30)
    assert await queue.release(task.id, "w1")
    back = await queue.get(task.id)
    assert back is not None and (back.status, back.attempts, back.worker_id) == (
        TaskStatus.PENDING,
        0,
        None,
    )
    again = await queue.claim("w2", lease_s=30)
    assert again is not None and again.attempts == 1


async def test_list_and_counts(queue: TaskQueue) -> None:
    a = await queue.enqueue("t.a", {}, namespace=NS)
    await queue.enqueue("t.a", {}, namespace=NS)
    await queue.enqueue("t.b", {}, namespace="other")
    await queue.claim("w", 30, frozenset({"t.b"}))
    await queue.claim("w", 30, frozenset({"t.a"}))
    await queue.fail(a.id, "w", "nope", None)

    page = await queue.list(NS, None, limit=10, offset=0)
    assert page.total == 2 and [t.namespace for t in page.items] == [NS, NS]
    dead = await queue.list(NS, TaskStatus.DEAD, limit=10, offset=0)
    assert [t.id for t in dead.items] == [a.id]
    assert (await queue.list(None, None, limit=1, offset=0)).total == 3
    assert await queue.counts() == {
        ("t.a", TaskStatus.DEAD): 1,
        ("t.a", TaskStatus.PENDING): 1,
        ("t.b", TaskStatus.RUNNING): 1,
    }


async def test_two_workers_on_one_database_never_run_a_task_twice(backend: Backend) -> None:
    runs: list[str] = []
    by_worker: Counter[str] = Counter()

    async def record(payload: JsonObject, context: TaskContext) -> JsonValue:
        runs.append(context.task.id)
        by_worker[context.worker_id.rsplit("/", 1)[0]] += 1
        await asyncio.sleep(0.002)
        return None

    registry = TaskRegistry()
    registry.register("t.record", record)
    queue_a = backend.queue()
    tasks = [await queue_a.enqueue("t.record", {"i": i}, namespace=NS) for i in range(300)]
    # Separate connections (and, on SQLite, write lock): another process.
    async with backend.reopen() as other:
        workers = [
            Worker(queue_a, registry, WorkerOptions(concurrency=4, poll_interval_s=0.01), name="A"),
            Worker(
                other.queue(),
                registry,
                WorkerOptions(concurrency=4, poll_interval_s=0.01),
                name="B",
            ),
        ]
        try:
            for worker in workers:
                await worker.start()

            async def drained() -> bool:
                return (await queue_a.counts()).get(("t.record", TaskStatus.SUCCEEDED), 0) == 300

            await async_wait_for(drained, "300 tasks to succeed")
        finally:
            for worker in workers:
                await worker.stop()
    assert Counter(runs) == Counter(t.id for t in tasks)  # every task ran, none twice
    assert set(by_worker) == {"A", "B"}
