"""Writes return at once with a task id; extraction runs in the background, or inline on wait."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mnemo.app import create_app
from mnemo.config import JobsConfig, Settings
from mnemo.embedders.local import LocalEmbedder
from tests.helpers.servers import serve_in_thread

TURNS = [{"id": "b1", "role": "user", "content": "I live in Madrid and I work at Initech"}]


@pytest.fixture
def eager(tmp_path: Path, embedder: LocalEmbedder) -> Iterator[httpx.Client]:
    """A server whose debounce is 0, as the issue asks of tests."""
    settings = Settings(
        data_dir=tmp_path, jobs=JobsConfig(extraction_debounce_s=0, poll_interval_s=0.05)
    )
    with (
        serve_in_thread(create_app(settings, embedder)) as url,
        httpx.Client(base_url=url, headers={"X-API-Key": "dev-key-12345"}, timeout=30) as client,
    ):
        yield client


def semantic(client: httpx.Client, user: str) -> list[str]:
    body = {"text": "", "user_id": {"eq": user}, "memory_type": {"eq": "semantic"}}
    return [
        m["text"] for m in client.post("/v1/long-term-memory/search", json=body).json()["memories"]
    ]


def test_put_schedules_extraction_and_returns_its_task(eager: httpx.Client) -> None:
    response = eager.put("/v1/working-memory/bg", json={"messages": TURNS, "user_id": "bg"})
    task_id = response.json()["extraction_task_id"]
    assert task_id
    deadline = time.monotonic() + 30
    while (task := eager.get(f"/v1/tasks/{task_id}").json())["status"] != "success":
        assert task["status"] in {"pending", "running"} and time.monotonic() < deadline, task
        time.sleep(0.05)
    assert task["type"] == "extract.session" and task["result"]["facts"] >= 2
    assert sorted(semantic(eager, "bg")) == ["User lives in Madrid", "User works at Initech"]
    session = eager.get("/v1/working-memory/bg").json()
    assert session["messages"][0]["discrete_memory_extracted"] == "t"


def test_wait_true_reads_its_own_writes(client: httpx.Client) -> None:
    response = client.put("/v1/working-memory/w", params={"wait": "true"},
                          json={"messages": TURNS, "user_id": "w"})  # fmt: skip
    assert response.status_code == 200
    assert sorted(semantic(client, "w")) == ["User lives in Madrid", "User works at Initech"]


def test_without_wait_nothing_is_extracted_before_the_debounce(client: httpx.Client) -> None:
    response = client.put("/v1/working-memory/d", json={"messages": TURNS, "user_id": "d"})
    task = client.get(f"/v1/tasks/{response.json()['extraction_task_id']}").json()
    assert task["status"] == "pending"
    assert semantic(client, "d") == []
