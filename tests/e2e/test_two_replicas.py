"""Two `mnemo serve` replicas on one PostgreSQL database behave as one server.

Both start at the same moment on an empty database (the advisory-locked migrations must let
exactly one of them migrate), then every write made through one is read through the other:
long-term memories, search, edits and their history, deletes, working memory, tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.contract.conftest import fresh_postgres_database
from tests.jobs.processes import MnemoProcess, start_server

HEADERS = {"X-API-Key": "dev-key-12345"}


@pytest.fixture
async def replicas(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with fresh_postgres_database() as url:
        env = {"MNEMO_DATABASE_URL": url}
        started: list[tuple[MnemoProcess, str]] = await asyncio.gather(
            asyncio.to_thread(start_server, tmp_path / "a", env),
            asyncio.to_thread(start_server, tmp_path / "b", env),
        )
        try:
            async with (
                httpx.AsyncClient(base_url=started[0][1], headers=HEADERS, timeout=120) as a,
                httpx.AsyncClient(base_url=started[1][1], headers=HEADERS, timeout=120) as b,
            ):
                yield a, b
        finally:
            for process, _ in started:
                process.stop()


async def test_what_one_replica_writes_the_other_reads(
    replicas: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    a, b = replicas
    memories = [
        {"id": "r-1", "text": "Ana is allergic to peanuts", "user_id": "ana", "topics": ["food"]},
        {"id": "r-2", "text": "Ana moved to Porto in 2024", "user_id": "ana"},
    ]
    (await a.post("/v1/long-term-memory/", json={"memories": memories})).raise_for_status()

    got = (await b.get("/v1/long-term-memory/r-1")).json()
    assert got["text"] == "Ana is allergic to peanuts" and got["topics"] == ["food"]
    found = await b.post(
        "/v1/long-term-memory/search",
        json={"text": "peanut allergy", "user_id": {"eq": "ana"}, "limit": 5},
    )
    assert found.json()["total"] == 2
    assert found.json()["memories"][0]["id"] == "r-1"

    edited = await b.patch("/v1/long-term-memory/r-2", json={"text": "Ana moved to Lisbon"})
    edited.raise_for_status()
    assert (await a.get("/v1/long-term-memory/r-2")).json()["text"] == "Ana moved to Lisbon"
    history = (await a.get("/v1/long-term-memory/r-2/history")).json()
    assert [e["event"] for e in history["events"]] == ["ADD", "UPDATE"]

    (await a.delete("/v1/long-term-memory", params={"memory_ids": "r-1"})).raise_for_status()
    assert (await b.get("/v1/long-term-memory/r-1")).status_code == 404


async def test_working_memory_and_tasks_are_shared(
    replicas: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    a, b = replicas
    session = {
        "messages": [
            {"id": "t-1", "role": "user", "content": "I prefer window seats on flights"},
            {"id": "t-2", "role": "assistant", "content": "Noted: window seats."},
        ],
        "user_id": "ana",
    }
    put = await a.put("/v1/working-memory/trip", json=session)
    put.raise_for_status()
    got = (await b.get("/v1/working-memory/trip", params={"user_id": "ana"})).json()
    assert [m["id"] for m in got["messages"]] == ["t-1", "t-2"]

    # The message memories indexed by replica a are searchable through replica b.
    found = await b.post(
        "/v1/long-term-memory/search",
        json={"text": "window seat", "session_id": {"eq": "trip"}, "limit": 5},
    )
    assert "t-1" in {m["id"] for m in found.json()["memories"]}

    # The extraction task a scheduled is visible (and the same) through b.
    task_id = put.json().get("extraction_task_id")
    assert task_id
    assert (await b.get(f"/v1/tasks/{task_id}")).json()["id"] == task_id
