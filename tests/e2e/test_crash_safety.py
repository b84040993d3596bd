"""kill -9 during 500 concurrent writes: every acknowledged write is there after restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.jobs.processes import start_server

HEADERS = {"X-API-Key": "dev-key-12345"}
WRITES = 500
KILL_AFTER_ACKS = 150


async def write_until_killed(url: str, kill: asyncio.Event) -> set[str]:
    acknowledged: set[str] = set()
    limits = httpx.Limits(max_connections=50)
    # A generous timeout: on a loaded machine a slow answer must not count as a lost write.
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=600, limits=limits) as c:
        gate = asyncio.Semaphore(50)

        async def write(i: int) -> None:
            body = {"memories": [{"id": f"w-{i}", "text": f"crash test memory number {i}"}]}
            async with gate:
                try:
                    response = await c.post("/v1/long-term-memory/", json=body)
                except httpx.TransportError:
                    return  # in flight when the server died: not acknowledged
            if response.status_code == 200:
                acknowledged.add(f"w-{i}")
                if len(acknowledged) >= KILL_AFTER_ACKS:
                    kill.set()

        await asyncio.gather(*(write(i) for i in range(WRITES)))
    return acknowledged


async def run_and_kill(data_dir: Path) -> set[str]:
    server, url = start_server(data_dir, {})
    kill = asyncio.Event()

    async def killer() -> None:
        await kill.wait()
        server.kill()

    kill_task = asyncio.create_task(killer())
    try:
        acknowledged = await write_until_killed(url, kill)
    finally:
        kill.set()
        await kill_task
    return acknowledged


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    acknowledged = asyncio.run(run_and_kill(tmp_path))
    assert KILL_AFTER_ACKS <= len(acknowledged) < WRITES  # the kill landed mid-stream
    server, url = start_server(tmp_path, {})
    try:
        with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as c:
            missing = [
                i
                for i in sorted(acknowledged)
                if c.get(f"/v1/long-term-memory/{i}").status_code != 200
            ]
            total = c.post("/v1/long-term-memory/search", json={"text": "", "limit": 1}).json()[
                "total"
            ]
    finally:
        server.stop()
    assert missing == []
    assert total >= len(acknowledged)
