"""`mnemo serve`: one process, or several sharing the port.

Python runs one thread's bytecode at a time per process. Under load a mnemo process is
bound by that lock well before its cores are: on 2 cores, 50 agents at ~85 requests/s kept
one process at ~1.1 cores with 0.6 idle and a p99 of ~500 ms (bench/load.py). With
`--workers N` this module starts N server processes, each listening on its own socket of
the port with SO_REUSEPORT, so that the kernel spreads connections evenly over them (one
shared socket lets whichever process accepts first take them: a 39/11 split was seen,
which leaves one process as busy as before). It restarts a process that dies, stops them
all on SIGTERM/SIGINT, and gives up when a process fails right after starting. What the
processes share:

- the database: SQLite serialises writers across processes (its file lock, busy timeout),
  each process keeps its own in-memory vector index and follows the others' writes through
  the index change log (stores/sqlite_index.py); migrations run once, here, first;
- rate limits: each process counting alone would let a key through N times its limit, so
  several workers need MNEMO_REDIS_URL (the same store replicas use), unless no tier has
  limits;
- metrics: prometheus_client's multiprocess mode, over a folder made here for this server,
  so /metrics adds up every process whichever one answers the scrape.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from mnemo.cli.stores import opened_store
from mnemo.config import Settings
from mnemo.errors import ConfigurationError
from mnemo.logs import log_config

log = logging.getLogger("mnemo.serve")

METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# A process that exits this soon after it started is failing, not crashing: stop them all.
FAILING_WITHIN_S = 10.0
STOP_GRACE_S = 30.0


def serve(settings: Settings, log_level: str) -> None:
    """Run the HTTP server in the foreground until it is stopped."""
    if settings.workers == 1:
        _run_uvicorn(settings, log_level, sockets=None)
        return
    check_workers(settings)
    asyncio.run(_migrate(settings))
    with tempfile.TemporaryDirectory(prefix="mnemo-metrics-") as metrics_dir:
        _supervise(settings, log_level, metrics_dir)


def check_workers(settings: Settings) -> None:
    """Refuse several processes whose rate limits would each count alone."""
    limited = any(spec for spec in settings.rate_limits.tiers.values())
    if settings.workers > 1 and limited and not settings.redis_url:
        raise ConfigurationError(
            f"--workers {settings.workers} needs MNEMO_REDIS_URL: rate limits must be counted "
            "in one place for all the processes (or run one worker)"
        )


def serve_member(log_level: str) -> None:
    """One of several server processes (run by _supervise): its own SO_REUSEPORT socket."""
    settings = Settings()
    listener = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((settings.host, settings.port))
    _run_uvicorn(settings, log_level, sockets=[listener])


def _run_uvicorn(settings: Settings, log_level: str, sockets: list[socket.socket] | None) -> None:
    import uvicorn

    from mnemo.app import create_app

    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        "log_config": log_config(log_level, settings.observability.json_logs),
    }
    if sockets is None:
        uvicorn.run(create_app(settings), **options)
        return
    server = uvicorn.Server(uvicorn.Config(create_app(settings), **options))
    server.run(sockets=sockets)


def _supervise(settings: Settings, log_level: str, metrics_dir: str) -> None:
    # The processes build their own Settings from the environment: hand them what the
    # command line said.
    env = {
        **os.environ, "MNEMO_HOST": settings.host, "MNEMO_PORT": str(settings.port),
        "MNEMO_DATA_DIR": str(settings.data_dir), "MNEMO_WORKERS": "1",
        METRICS_DIR_ENV: metrics_dir,
    }  # fmt: skip
    command = [sys.executable, "-m", "mnemo.cli.serving", log_level]

    def start() -> tuple[subprocess.Popen[bytes], float]:
        return subprocess.Popen(command, env=env), time.monotonic()

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    members = [start() for _ in range(settings.workers)]
    log.info("serving on %s:%d with %d processes", settings.host, settings.port, len(members))
    failed: str | None = None
    try:
        while failed is None and not stop.wait(0.5):
            for i, (process, started) in enumerate(members):
                code = process.poll()
                if code is None or stop.is_set():  # Ctrl-C reaches the processes too
                    continue
                _forget_metrics(process.pid, metrics_dir)
                if time.monotonic() - started < FAILING_WITHIN_S:
                    failed = f"a server process exited with {code} right after it started"
                    break
                log.warning("server process %d exited with %d; starting another", process.pid, code)
                members[i] = start()
    finally:
        _stop_all([process for process, _ in members])
    if failed is not None:
        raise ConfigurationError(failed)


def _stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _forget_metrics(pid: int, metrics_dir: str) -> None:
    """Drop a dead process's live gauges from the multiprocess metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, metrics_dir)  # type: ignore[no-untyped-call]


async def _migrate(settings: Settings) -> None:
    async with opened_store(settings):
        pass


if __name__ == "__main__":
    serve_member(sys.argv[1] if len(sys.argv) > 1 else "info")
