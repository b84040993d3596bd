"""Webhooks through both clients: subscribe, read, ping a real receiver, deliveries, delete."""

from __future__ import annotations

import json

import pytest
from scripted_server import Reply, scripted

from mnemo_client import AsyncClient, Client, ConflictError, NotFoundError


def test_webhook_crud_and_a_delivered_ping(client: Client) -> None:
    with scripted(Reply(200, {"ok": True})) as receiver:
        created = client.webhooks.create(
            f"{receiver.url}/hook", ["memory.created"], description="tests"
        )
        assert created.secret.startswith("whsec_") and created.events == ["memory.created"]
        assert client.webhooks.get(created.id).url == f"{receiver.url}/hook"
        assert [w.id for w in client.webhooks.list()] == [created.id]
        delivery = client.webhooks.ping(created.id)
        assert delivery.event == "ping" and delivery.task_id is not None
        assert client.tasks.wait(delivery.task_id, timeout=30).is_successful
        [logged] = client.webhooks.deliveries(created.id).deliveries
        assert logged.status == "succeeded" and logged.response_status == 200
        method, path, body = receiver.requests[0]
        assert (method, path, json.loads(body)["event"]) == ("POST", "/hook", "ping")
    assert client.webhooks.delete(created.id).status == "ok"
    with pytest.raises(NotFoundError, match="not found"):
        client.webhooks.get(created.id)


def test_iter_deliveries_walks_the_whole_log(client: Client) -> None:
    with scripted(Reply(200, {})) as receiver:
        hook = client.webhooks.create(receiver.url, ["memory.created"], secret="s3cret")
        pings = [client.webhooks.ping(hook.id) for _ in range(5)]
        logged = list(client.webhooks.iter_deliveries(hook.id, limit=2))
    assert sorted(d.id for d in logged) == sorted(p.id for p in pings)


def test_a_namespace_over_its_cap_is_a_conflict(client: Client) -> None:
    for _ in range(2):
        client.webhooks.create("http://127.0.0.1:9/x", ["memory.deleted"])
    with pytest.raises(ConflictError, match="already has 2 webhooks") as caught:
        client.webhooks.create("http://127.0.0.1:9/x", ["memory.deleted"])
    assert caught.value.status_code == 409


async def test_the_async_client_manages_webhooks(aclient: AsyncClient) -> None:
    created = await aclient.webhooks.create("http://127.0.0.1:9/a", ["extraction.completed"])
    assert (await aclient.webhooks.get(created.id)).events == ["extraction.completed"]
    assert [w.id for w in await aclient.webhooks.list()] == [created.id]
    await aclient.webhooks.delete(created.id)
    assert await aclient.webhooks.list() == []
