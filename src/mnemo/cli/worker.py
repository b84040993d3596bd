"""`mnemo worker`: run background workers only, on the configured database, until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from mnemo.config import Settings
from mnemo.heap import settle_heap
from mnemo.wiring import build_services

log = logging.getLogger("mnemo.worker")


async def run_workers(settings: Settings, concurrency: int) -> None:
    """Claim and run tasks with `concurrency` loops; SIGTERM/SIGINT stop claiming, let
    in-flight tasks finish (jobs.shutdown_grace_s), release the rest, then return."""
    jobs = settings.jobs.model_copy(update={"workers_in_process": concurrency})
    services = build_services(settings.model_copy(update={"jobs": jobs}))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await services.start()
    settle_heap()
    log.info(
        "worker running %d task loop(s) for: %s",
        concurrency,
        ", ".join(sorted(services.jobs.registry.names())),
    )
    try:
        await stop.wait()
        log.info("stopping: finishing in-flight tasks")
    finally:
        await services.stop()
