"""Background tasks: the extraction task a put returns, waited for with both clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers.servers import serve_in_thread

from mnemo.app import create_app
from mnemo.config import JobsConfig, Settings
from mnemo.embedders.local import LocalEmbedder
from mnemo_client import AsyncClient, Client, TaskNotFoundError, TaskWaitTimeoutError

TURNS = [{"id": "b1", "role": "user", "content": "I live in Madrid and I work at Initech"}]


def semantic_texts(client: Client, user: str) -> list[str]:
    found = client.memories.search("", user_id=user, memory_type="semantic")
    return sorted(m.text for m in found.memories)


def test_wait_returns_the_finished_extraction(client: Client) -> None:
    put = client.working_memory.put("bg", messages=TURNS, user_id="bg")
    assert put.extraction_task_id is not None
    task = client.tasks.wait(put.extraction_task_id, timeout=30)
    assert task.is_successful and task.type == "extract.session"
    assert isinstance(task.result, dict) and task.result["facts"] == 2
    assert semantic_texts(client, "bg") == ["User lives in Madrid", "User works at Initech"]
    assert client.working_memory.get("bg").messages[0].is_extracted


async def test_async_wait_returns_the_finished_extraction(
    client: Client, aclient: AsyncClient
) -> None:
    put = await aclient.working_memory.put("abg", messages=TURNS, user_id="abg")
    assert put.extraction_task_id is not None
    task = await aclient.tasks.wait(put.extraction_task_id, timeout=30)
    assert task.status == "success" and task.completed_at is not None
    assert (await aclient.tasks.get(task.id)).status == "success"
    assert semantic_texts(client, "abg") == ["User lives in Madrid", "User works at Initech"]


def test_iter_tasks_walks_every_task_newest_first(client: Client) -> None:
    for name in ("one", "two", "three"):
        client.working_memory.put(name, messages=[{"role": "user", "content": f"I like {name}"}])
    listed = list(client.tasks.iter_tasks(limit=2))
    assert len(listed) == client.tasks.list().total >= 3
    assert len({t.id for t in listed}) == len(listed)
    created = [t.created_at for t in listed if t.created_at is not None]
    assert created == sorted(created, reverse=True) and len(created) == len(listed)


def test_an_unknown_task_is_not_found(client: Client) -> None:
    with pytest.raises(TaskNotFoundError, match="task nope not found"):
        client.tasks.get("nope")


@pytest.fixture
def idle_client(tmp_path: Path, embedder: LocalEmbedder) -> Iterator[Client]:
    """A server with no in-process worker: its tasks stay pending."""
    settings = Settings(data_dir=tmp_path / "idle", jobs=JobsConfig(workers_in_process=0))
    with (
        serve_in_thread(create_app(settings, embedder)) as url,
        Client(url, api_key="dev-key-12345") as client,
    ):
        yield client


def test_wait_gives_up_after_its_timeout(idle_client: Client) -> None:
    put = idle_client.working_memory.put("p", messages=TURNS)
    assert put.extraction_task_id is not None
    with pytest.raises(TaskWaitTimeoutError) as caught:
        idle_client.tasks.wait(put.extraction_task_id, timeout=0.3, poll_interval=0.05)
    assert caught.value.task.status == "pending"
