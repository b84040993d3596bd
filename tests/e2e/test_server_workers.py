"""`mnemo serve --workers 2`: two processes on one port and one SQLite file act as one server.

Every write acknowledged by whichever process took the connection is read, listed and found
by search through fresh connections (landing on either process), the metrics add up over
both, and the server refuses to start several workers whose rate limits would each count
alone.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mnemo.cli.serving import FAILING_WITHIN_S
from tests.helpers.servers import wait_until_up
from tests.jobs.processes import MnemoProcess, start_server

HEADERS = {"X-API-Key": "dev-key-12345"}
REDIS = "redis://127.0.0.1:6379/15"
WRITES = 40


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[MnemoProcess, str]]:
    env = {"MNEMO_WORKERS": "2", "MNEMO_REDIS_URL": REDIS}
    process, url = await asyncio.to_thread(start_server, tmp_path / "data", env)
    try:
        yield process, url
    finally:
        process.stop()


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


async def post_alone(url: str, path: str, body: dict[str, object]) -> httpx.Response:
    """One request on its own connection, so the kernel may hand it to either process."""
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=120) as http:
        return await http.post(path, json=body)


async def test_two_processes_share_the_port_and_read_each_others_writes(
    server: tuple[MnemoProcess, str],
) -> None:
    process, url = server
    assert len(members(process.proc.pid)) == 2
    writes = [
        post_alone(
            url,
            "/v1/long-term-memory/",
            {
                "memories": [
                    {"id": f"w-{i}", "text": f"Note {i}: Ana keeps bees in Porto", "user_id": "ana"}
                ]
            },
        )  # fmt: skip
        for i in range(WRITES)
    ]
    assert all(r.status_code == 200 for r in await asyncio.gather(*writes))
    searches = await asyncio.gather(*(
        post_alone(url, "/v1/long-term-memory/search",
                   {"text": "bees in Porto", "user_id": {"eq": "ana"}, "limit": 5})
        for _ in range(10)
    ))  # fmt: skip
    assert {s.json()["total"] for s in searches} == {WRITES}
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=120) as http:
        metrics = (await http.get("/metrics")).text
    line = next(
        line for line in metrics.splitlines()
        if line.startswith("mnemo_http_requests_total{")
        and 'route="/v1/long-term-memory/search"' in line and 'status="200"' in line
    )  # fmt: skip
    assert float(line.rsplit(" ", 1)[1]) == 10


def members(pid: int) -> list[int]:
    """The server processes the supervisor `pid` runs."""
    return [
        child for child in children(pid)
        if b"mnemo.cli.serving" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]  # fmt: skip


async def test_a_server_process_that_dies_is_replaced(server: tuple[MnemoProcess, str]) -> None:
    process, url = server
    first, _ = members(process.proc.pid)
    await asyncio.sleep(FAILING_WITHIN_S)  # a process dying sooner means a failing start
    os.kill(first, signal.SIGKILL)
    for _ in range(240):
        now = members(process.proc.pid)
        if len(now) == 2 and first not in now:
            break
        await asyncio.sleep(0.25)
    assert len(now) == 2 and first not in now
    await asyncio.to_thread(wait_until_up, url)
    for _ in range(10):  # whichever process each new connection reaches, it answers
        found = await post_alone(url, "/v1/long-term-memory/search", {"text": "anything"})
        assert found.status_code == 200


def test_several_workers_without_a_shared_rate_limit_store_are_refused(tmp_path: Path) -> None:
    mnemo = Path(sys.executable).with_name("mnemo")
    done = subprocess.run(
        [str(mnemo), "serve", "--workers", "2", "--port", "1", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 2
    assert "MNEMO_REDIS_URL" in done.stdout + done.stderr


def test_processes_failing_at_start_stop_the_server_with_an_error(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))  # held without SO_REUSEPORT: no server process can bind it
    taken.listen()
    port = taken.getsockname()[1]
    mnemo = Path(sys.executable).with_name("mnemo")
    try:
        done = subprocess.run(
            [str(mnemo), "serve", "--workers", "2", "--port", str(port),
             "--data-dir", str(tmp_path), "--log-level", "warning"],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "MNEMO_REDIS_URL": REDIS},
        )  # fmt: skip
    finally:
        taken.close()
    assert done.returncode == 2
    assert "right after it started" in done.stdout + done.stderr
