"""kill -9 during 500 concurrent writes: every acknowledged write is there after restart, on
SQLite and on PostgreSQL (a fresh database per test)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.contract.conftest import fresh_postgres_database
from tests.jobs.processes import start_server

HEADERS = {"X-API-Key": "dev-key-12345"}
WRITES = 500
KILL_AFTER_ACKS = 150


def text_of(i: int) -> str:
    return f"crash test memory number {i}"


@pytest.fixture(params=["sqlite", "postgres"])
async def store_env(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, str]]:
    """The server's environment: the SQLite file in its data folder, or a fresh PostgreSQL
    database (dropped afterwards)."""
    if request.param == "sqlite":
        yield {}
        return
    async with fresh_postgres_database() as url:
        yield {"MNEMO_DATABASE_URL": url}


async def write_until_killed(url: str, kill: asyncio.Event) -> set[int]:
    acknowledged: set[int] = set()
    limits = httpx.Limits(max_connections=50)
    # A generous timeout: on a loaded machine a slow answer must not count as a lost write.
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=600, limits=limits) as c:
        gate = asyncio.Semaphore(50)

        async def write(i: int) -> None:
            body = {"memories": [{"id": f"w-{i}", "text": text_of(i)}]}
            async with gate:
                try:
                    response = await c.post("/v1/long-term-memory/", json=body)
                except httpx.TransportError:
                    return  # in flight when the server died: not acknowledged
            if response.status_code == 200:
                acknowledged.add(i)
                if len(acknowledged) >= KILL_AFTER_ACKS:
                    kill.set()

        await asyncio.gather(*(write(i) for i in range(WRITES)))
    return acknowledged


async def run_and_kill(data_dir: Path, env: dict[str, str]) -> set[int]:
    server, url = start_server(data_dir, env)
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


async def test_acknowledged_writes_survive_kill_9(
    tmp_path: Path, store_env: dict[str, str]
) -> None:
    acknowledged = await run_and_kill(tmp_path, store_env)
    assert KILL_AFTER_ACKS <= len(acknowledged) < WRITES  # the kill landed mid-stream
    server, url = start_server(tmp_path, store_env)
    try:
        async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=60) as c:
            found = {i: await c.get(f"/v1/long-term-memory/w-{i}") for i in sorted(acknowledged)}
            search = await c.post("/v1/long-term-memory/search", json={"text": "", "limit": 1})
            status = (await c.get("/status")).json()["data"]
    finally:
        server.stop()
    unreadable = [i for i, r in found.items() if r.status_code != 200]
    assert unreadable == []
    assert [i for i, r in found.items() if r.json()["text"] != text_of(i)] == []
    assert search.json()["total"] >= len(acknowledged)
    expected = "postgresql" if "MNEMO_DATABASE_URL" in store_env else "sqlite"
    assert status["database"]["backend"] == expected
