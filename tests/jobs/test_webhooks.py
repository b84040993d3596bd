"""Webhook delivery end to end: signed, retried with backoff, logged, dead when hopeless."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mnemo.jobs.queue import TaskStatus
from mnemo.jobs.registry import TaskRegistry
from mnemo.jobs.sqlite_queue import SQLiteTaskQueue
from mnemo.jobs.worker import Worker, WorkerOptions
from mnemo.services.webhook_delivery import DELIVER_TASK, WebhookDeliverer, sign
from mnemo.services.webhooks import WebhookService
from mnemo.stores.sqlite_db import SQLiteDatabase
from mnemo.stores.sqlite_webhooks import SQLiteWebhookStore
from mnemo.stores.webhook_store import DeliveryStatus, Webhook
from tests.jobs.receiver import running_receiver
from tests.jobs.waiting import async_wait_for, wait_for


def subscribe(client: httpx.Client, url: str, events: list[str]) -> dict[str, Any]:
    response = client.post("/v1/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def settled_delivery(client: httpx.Client, webhook_id: object) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        page = client.get(f"/v1/webhooks/{webhook_id}/deliveries").json()
        done = [d for d in page["deliveries"] if d["status"] in {"succeeded", "dead"}]
        return done[0] if done else None

    return wait_for(check, "the delivery to settle")


def test_a_receiver_failing_twice_gets_exactly_one_accepted_signed_delivery(
    client: httpx.Client,
) -> None:
    with running_receiver(failures=2) as receiver:
        hook = subscribe(client, receiver.url, ["memory.created"])
        receiver.secret = str(hook["secret"])
        ping = client.post(f"/v1/webhooks/{hook['id']}/ping")
        assert ping.status_code == 202
        delivery = settled_delivery(client, hook["id"])

    assert delivery["status"] == "succeeded" and delivery["attempts"] == 3
    assert [a["status_code"] for a in delivery["log"]] == [500, 500, 200]
    assert len(receiver.accepted) == 1
    assert all(r.signature_ok for r in receiver.requests)
    assert {r.delivery_id for r in receiver.requests} == {ping.json()["id"]}  # one id: dedupable
    body = json.loads(receiver.accepted[0].body)
    assert (body["event"], body["webhook_id"], body["id"]) == (
        "ping",
        hook["id"],
        ping.json()["id"],
    )
    task = client.get(f"/v1/tasks/{delivery['task_id']}").json()
    assert (task["status"], task["attempts"], task["type"]) == ("success", 3, "webhook.deliver")


def test_a_receiver_that_always_fails_ends_dead_and_visible(client: httpx.Client) -> None:
    with running_receiver(failures=-1) as receiver:
        hook = subscribe(client, receiver.url, ["memory.deleted"])
        receiver.secret = str(hook["secret"])
        client.post(f"/v1/webhooks/{hook['id']}/ping")
        delivery = settled_delivery(client, hook["id"])

    assert delivery["status"] == "dead" and delivery["attempts"] == 3  # seed 004: 3 attempts
    assert delivery["response_status"] == 500 and delivery["error"] == "HTTP 500"
    assert len(receiver.requests) == 3 and not receiver.accepted
    task = client.get(f"/v1/tasks/{delivery['task_id']}").json()
    assert (task["status"], task["state"], task["attempts"]) == ("failed", "dead", 3)
    assert "500" in task["error"]


def test_an_unreachable_receiver_is_retried_then_dead(client: httpx.Client) -> None:
    with running_receiver() as receiver:
        gone = receiver.url  # the port closes when the receiver stops
    hook = subscribe(client, gone, ["memory.created"])
    client.post(f"/v1/webhooks/{hook['id']}/ping")
    delivery = settled_delivery(client, hook["id"])
    assert delivery["status"] == "dead" and delivery["attempts"] == 3
    assert all(a["status_code"] is None and "Connect" in a["error"] for a in delivery["log"])


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[tuple[SQLiteDatabase, SQLiteTaskQueue]]:
    db = SQLiteDatabase(tmp_path / "mnemo.db")
    db.open()
    yield db, SQLiteTaskQueue(db)
    db.close()


def service_on(
    db: SQLiteDatabase, queue: SQLiteTaskQueue, *, allow_private: bool
) -> WebhookService:
    return WebhookService(
        SQLiteWebhookStore(db),
        queue,
        default_namespace="default",
        allow_private=allow_private,
        max_per_namespace=10,
        max_attempts=3,
    )


async def test_an_event_fans_out_to_each_subscribed_webhook_once(
    local: tuple[SQLiteDatabase, SQLiteTaskQueue],
) -> None:
    db, queue = local
    store = SQLiteWebhookStore(db)
    service = service_on(db, queue, allow_private=True)
    for events in (["memory.created"], ["memory.created", "memory.updated"], ["memory.deleted"]):
        await store.add_webhook(
            Webhook(namespace="ns", url="http://127.0.0.1:9/x", events=events, secret="s"), 10
        )
    await store.add_webhook(
        Webhook(
            namespace="other", url="http://127.0.0.1:9/x", events=["memory.created"], secret="s"
        ),
        10,
    )

    deliveries = await service.emit("ns", "memory.created", {"memory_id": "m1"})
    assert len(deliveries) == 2
    tasks = [await queue.get(str(d.task_id)) for d in deliveries]
    assert all(t is not None and t.type == DELIVER_TASK and t.max_attempts == 3 for t in tasks)
    assert {t.payload["webhook_id"] for t in tasks if t} == {d.webhook_id for d in deliveries}
    assert await service.emit("ns", "summary.completed", {}) == []
    with pytest.raises(ValueError):
        await service.emit("ns", "memory.exploded", {})


async def test_a_private_target_is_refused_at_delivery_too(
    local: tuple[SQLiteDatabase, SQLiteTaskQueue],
) -> None:
    """A webhook stored while private targets were allowed is not called once they are not."""
    db, queue = local
    store = SQLiteWebhookStore(db)
    hook = Webhook(
        namespace="ns", url="http://127.0.0.1:9/x", events=["memory.created"], secret="s"
    )
    await store.add_webhook(hook, 10)
    (delivery,) = await service_on(db, queue, allow_private=True).emit("ns", "memory.created", {})

    deliverer = WebhookDeliverer(store, allow_private=False, timeout_s=5)
    registry = TaskRegistry()
    registry.register(DELIVER_TASK, deliverer.deliver)
    await Worker(queue, registry, WorkerOptions()).run_one()
    await deliverer.close()

    task = await queue.get(str(delivery.task_id))
    assert task is not None and (task.status, task.attempts) == (TaskStatus.DEAD, 1)
    assert task.error is not None and "non-public" in task.error
    (logged,) = (await store.list_deliveries("ns", hook.id, 10, 0)).items
    assert logged.status is DeliveryStatus.DEAD and logged.attempts == 1


async def test_a_deleted_webhook_is_not_called(
    local: tuple[SQLiteDatabase, SQLiteTaskQueue],
) -> None:
    db, queue = local
    store = SQLiteWebhookStore(db)
    with running_receiver() as receiver:
        hook = Webhook(namespace="ns", url=receiver.url, events=["memory.created"], secret="s")
        await store.add_webhook(hook, 10)
        (delivery,) = await service_on(db, queue, allow_private=True).emit(
            "ns", "memory.created", {}
        )
        assert await store.delete_webhook("ns", hook.id)
        deliverer = WebhookDeliverer(store, allow_private=True, timeout_s=5)
        registry = TaskRegistry()
        registry.register(DELIVER_TASK, deliverer.deliver)
        await Worker(queue, registry, WorkerOptions()).run_one()
        await deliverer.close()

        async def done() -> bool:
            task = await queue.get(str(delivery.task_id))
            return task is not None and task.status is TaskStatus.SUCCEEDED

        await async_wait_for(done, "the skipped delivery task")
    assert receiver.requests == []


def test_signature_is_hex_hmac_sha256_of_timestamp_dot_body() -> None:
    # Reference value computed independently: printf '1700000000.{"a":1}' | openssl sha256 -hmac k
    assert sign("k", "1700000000", '{"a":1}') == (
        "1b6ad1bc9bf48c52ce01939866d5877c6cc4e87ddad27e16673cb8c4964394a3"
    )
