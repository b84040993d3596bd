"""GET /v1/tasks/{id}: seed 001's Task shape, the queue's own state, namespace isolation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from mnemo.config import Settings
from mnemo.jobs.queue import Task, TaskStatus
from tests.conftest import key_client
from tests.jobs.conftest import side_queue
from tests.jobs.waiting import async_wait_for, wait_for


def enqueue(
    settings: Settings, task_type: str, payload: dict[str, Any], namespace: str = "default"
) -> Task:
    """Queue a task from outside the server, as a client process would."""

    async def add() -> Task:
        async with side_queue(settings) as queue:
            return await queue.enqueue(task_type, payload, namespace=namespace)

    return asyncio.run(add())


def finished(client: httpx.Client, task_id: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get(f"/v1/tasks/{task_id}").json()
        return body if body["state"] in {"succeeded", "dead"} else None

    return wait_for(check, f"task {task_id} to finish")


def test_a_succeeded_task_reads_as_success_with_its_result(
    client: httpx.Client, settings: Settings
) -> None:
    task = enqueue(settings, "test.echo", {"hello": "world"})
    body = finished(client, task.id)
    assert body["id"] == task.id and body["type"] == "test.echo"
    assert (body["status"], body["state"], body["attempts"]) == ("success", "succeeded", 1)
    assert body["result"] == {"echo": {"hello": "world"}, "attempt": 1}
    assert body["error"] is None and body["view_id"] is None
    assert body["created_at"] and body["started_at"] and body["completed_at"]


def test_a_dead_task_reads_as_failed_and_keeps_its_error(
    client: httpx.Client, settings: Settings
) -> None:
    task = enqueue(settings, "test.fail", {"error": "the input was unusable"})
    body = finished(client, task.id)
    assert (body["status"], body["state"]) == ("failed", "dead")
    assert body["error"] == body["error_message"] == "the input was unusable"
    listed = client.get("/v1/tasks", params={"state": "dead"}).json()
    assert [t["id"] for t in listed["tasks"]] == [task.id]


def test_a_retried_task_reads_as_pending_until_it_succeeds(
    client: httpx.Client, settings: Settings
) -> None:
    task = enqueue(settings, "test.flaky", {"succeed_on": 3})
    body = finished(client, task.id)
    assert (body["status"], body["attempts"], body["result"]) == ("success", 3, 3)


def test_a_task_nobody_handles_stays_pending(client: httpx.Client, settings: Settings) -> None:
    task = enqueue(settings, "test.unregistered", {})
    body = client.get(f"/v1/tasks/{task.id}").json()
    assert (body["status"], body["state"], body["attempts"]) == ("pending", "pending", 0)
    assert body["started_at"] is None and body["completed_at"] is None


def test_unknown_task_is_404(client: httpx.Client) -> None:
    response = client.get("/v1/tasks/01NOSUCHTASK")
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


def test_a_key_sees_only_its_own_namespace_tasks(
    server_url: str, make_key: Callable[..., str], settings: Settings, anon: httpx.Client
) -> None:
    mine = enqueue(settings, "test.unregistered", {}, namespace="team-a")
    theirs = enqueue(settings, "test.unregistered", {}, namespace="team-b")
    with key_client(server_url, make_key("team-a")) as team_a:
        assert team_a.get(f"/v1/tasks/{mine.id}").status_code == 200
        hidden = team_a.get(f"/v1/tasks/{theirs.id}")
        assert hidden.status_code == 404  # not 403: another tenant's ids are not confirmed
        listed = team_a.get("/v1/tasks").json()
        assert [t["id"] for t in listed["tasks"]] == [mine.id]
        assert team_a.get("/v1/tasks", params={"namespace": "team-b"}).status_code == 403
    assert anon.get(f"/v1/tasks/{mine.id}").status_code == 401


def test_state_filter_accepts_internal_states_only(client: httpx.Client) -> None:
    assert client.get("/v1/tasks", params={"state": "exploded"}).status_code == 422
    assert client.get("/v1/tasks", params={"state": TaskStatus.DEAD.value}).status_code == 200


async def test_agent_memory_client_reads_tasks(server_url: str, settings: Settings) -> None:
    from agent_memory_client import MemoryAPIClient, MemoryClientConfig

    async with side_queue(settings) as queue:
        task = await queue.enqueue("test.fail", {"error": "nope"}, namespace="default")
    client = MemoryAPIClient(MemoryClientConfig(base_url=server_url))
    client._client.headers["X-API-Key"] = "dev-key-12345"
    try:

        async def failed() -> object:
            seen = await client.get_task(task.id)
            return seen if seen is not None and seen.status == "failed" else None

        seen = await async_wait_for(failed, "the task to fail")
        assert await client.get_task("01NOSUCHTASK") is None
    finally:
        await client.close()
    assert seen.error_message == "nope"  # type: ignore[attr-defined]
    assert seen.type == "test.fail"  # type: ignore[attr-defined]
