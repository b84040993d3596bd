"""Run the real mnemo app over real HTTP on loopback: in a thread, or as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(
    base_url: str, timeout_s: float = 60.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base_url}/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server at {base_url} did not come up in {timeout_s}s")


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """uvicorn in a background thread; yields the base URL; stops it on exit."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_in_subprocess(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`mnemo serve` as its own process, exactly as a user starts it."""
    port = free_port()
    full_env = {**os.environ, "MNEMO_DATA_DIR": str(data_dir), **(env or {})}
    mnemo = Path(sys.executable).with_name("mnemo")
    proc = subprocess.Popen(
        [str(mnemo), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=full_env,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, proc=proc)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
