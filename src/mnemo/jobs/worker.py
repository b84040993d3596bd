"""The worker: claims tasks, runs their handlers under a renewed lease, records the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import JsonValue

from mnemo.config import JobsConfig
from mnemo.errors import MnemoError
from mnemo.jobs.queue import Task, TaskQueue
from mnemo.jobs.registry import (
    PermanentTaskError,
    RetryableTaskError,
    TaskContext,
    TaskRegistry,
)
from mnemo.models import new_id
from mnemo.priority import background_work

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    concurrency: int = 1
    poll_interval_s: float = 0.5
    lease_s: float = 30.0
    backoff_base_s: float = 2.0
    backoff_max_s: float = 600.0
    task_timeout_s: float = 300.0
    shutdown_grace_s: float = 10.0

    @classmethod
    def of(cls, config: JobsConfig, concurrency: int) -> WorkerOptions:
        return cls(
            concurrency=concurrency,
            poll_interval_s=config.poll_interval_s,
            lease_s=config.lease_s,
            backoff_base_s=config.backoff_base_s,
            backoff_max_s=config.backoff_max_s,
            task_timeout_s=config.task_timeout_s,
            shutdown_grace_s=config.shutdown_grace_s,
        )


def backoff_delay(attempt: int, base_s: float, max_s: float, rng: Callable[[], float]) -> float:
    """Exponential backoff with equal jitter: half of base * 2^(attempt-1), plus up to half."""
    ceiling = min(max_s, base_s * 2.0 ** max(0, attempt - 1))
    return ceiling / 2 + rng() * ceiling / 2


class Worker:
    """Runs `concurrency` claim loops in the current event loop.

    Each running task's lease is renewed every lease_s / 3, so a live worker keeps its task
    however long it runs (up to task_timeout_s) and a dead one loses it within lease_s.
    `stop()` stops claiming, lets in-flight tasks finish for shutdown_grace_s, then cancels
    and releases whatever is still running, so another worker picks it up at once.
    """

    def __init__(
        self,
        queue: TaskQueue,
        registry: TaskRegistry,
        options: WorkerOptions,
        *,
        name: str | None = None,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._queue = queue
        self._registry = registry
        self.options = options
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"
        self._rng = rng
        self._clock = clock
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._wakeup = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping.clear()
        self._queue.on_enqueue(self.wake)
        self._loops = [
            asyncio.create_task(self._run(f"{self.name}/{slot}"), name=f"mnemo-worker-{slot}")
            for slot in range(max(1, self.options.concurrency))
        ]

    async def stop(self) -> None:
        if not self._loops:
            return
        self._stopping.set()
        self._wakeup.set()
        _, still_running = await asyncio.wait(self._loops, timeout=self.options.shutdown_grace_s)
        for loop_task in still_running:
            loop_task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []

    def wake(self) -> None:
        """Claim now instead of at the next poll; safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            if _running_loop() is loop:
                self._wakeup.set()
            else:
                loop.call_soon_threadsafe(self._wakeup.set)
        except RuntimeError:  # the loop closed between the check and the call
            pass

    async def run_one(self, worker_id: str | None = None) -> Task | None:
        """Claim and run one task if one is due; returns the task as claimed (tests, CLI)."""
        worker_id = worker_id or f"{self.name}/0"
        task = await self._queue.claim(worker_id, self.options.lease_s, self._registry.names())
        if task is not None:
            await self._execute(task, worker_id)
        return task

    async def _run(self, worker_id: str) -> None:
        while not self._stopping.is_set():
            self._wakeup.clear()  # before claiming: a task enqueued after this wakes us
            try:
                task = await self.run_one(worker_id)
            except MnemoError as exc:  # the database is briefly unavailable: leases cover it
                log.warning("worker %s: %s", worker_id, exc.message)
                task = None
            except Exception:  # never let one bad row or bug silently end this loop
                log.exception("worker %s: unexpected error", worker_id)
                task = None
            if task is None:
                await self._idle()

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=self.options.poll_interval_s)

    async def _execute(self, task: Task, worker_id: str) -> None:
        handler = self._registry.get(task.type)
        if handler is None:  # claim filters by type, so only a racing unregister gets here
            await self._queue.fail(task.id, worker_id, f"unknown task type {task.type!r}", None)
            return
        lease = asyncio.create_task(self._keep_lease(task.id, worker_id))
        try:
            async with asyncio.timeout(self.options.task_timeout_s):
                with background_work():
                    result = await handler(task.payload, TaskContext(task, worker_id))
        except asyncio.CancelledError:
            await asyncio.shield(self._queue.release(task.id, worker_id))
            log.info("released task %s (%s) on shutdown", task.id, task.type)
            raise
        except Exception as exc:  # any handler failure is recorded on the task, never lost
            await self._record_failure(task, worker_id, exc)
        else:
            await self._record_success(task, worker_id, result)
        finally:
            lease.cancel()

    async def _record_success(self, task: Task, worker_id: str, result: JsonValue) -> None:
        if not await self._queue.complete(task.id, worker_id, result):
            log.warning("task %s finished after its lease passed to another worker", task.id)

    async def _record_failure(self, task: Task, worker_id: str, exc: Exception) -> None:
        error = _describe(exc, self.options.task_timeout_s)
        permanent = isinstance(exc, PermanentTaskError)
        retry_at = None
        if not permanent and task.attempts < task.max_attempts:
            delay = backoff_delay(
                task.attempts, self.options.backoff_base_s, self.options.backoff_max_s, self._rng
            )
            retry_at = datetime.fromtimestamp(self._clock() + delay, UTC)
        outcome = f"retry at {retry_at.isoformat(timespec='seconds')}" if retry_at else "dead"
        log.warning(
            "task %s (%s) attempt %d/%d failed (%s): %s",
            task.id, task.type, task.attempts, task.max_attempts, outcome, error,
            exc_info=None if isinstance(exc, _EXPECTED) else exc,
        )  # fmt: skip
        await self._queue.fail(task.id, worker_id, error, retry_at)

    async def _keep_lease(self, task_id: str, worker_id: str) -> None:
        interval = max(0.01, self.options.lease_s / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                owned = await self._queue.heartbeat(task_id, worker_id, self.options.lease_s)
            except MnemoError as exc:
                log.warning("cannot renew the lease of task %s: %s", task_id, exc.message)
                continue
            if not owned:
                log.warning("task %s: lease lost to another worker; its result is dropped", task_id)
                return


_EXPECTED = (MnemoError, PermanentTaskError, RetryableTaskError, TimeoutError)


def _describe(exc: Exception, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError) and not str(exc):
        return f"timed out after {timeout_s:g}s"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, _EXPECTED) else f"{type(exc).__name__}: {text}"


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
