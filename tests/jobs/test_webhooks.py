"""Webhook delivery end to end: signed, retried with backoff, logged, dead when hopeless."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from mnemo.jobs.queue import TaskQueue, TaskStatus
from mnemo.jobs.registry import TaskRegistry
from mnemo.jobs.worker import Worker, WorkerOptions
from mnemo.models import utcnow
from mnemo.services.webhook_delivery import DELIVER_TASK, WebhookDeliverer, sign
from mnemo.services.webhooks import WebhookService
from mnemo.stores.webhook_store import DeliveryAttempt, DeliveryStatus, Webhook, WebhookDelivery
from tests.jobs.backends import Backend
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


def service_on(backend: Backend, queue: TaskQueue, *, allow_private: bool) -> WebhookService:
    return WebhookService(
        backend.webhooks(),
        queue,
        default_namespace="default",
        allow_private=allow_private,
        max_per_namespace=10,
        max_attempts=3,
    )


async def test_an_event_fans_out_to_each_subscribed_webhook_once(
    backend: Backend,
) -> None:
    queue, store = backend.queue(), backend.webhooks()
    service = service_on(backend, queue, allow_private=True)
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
    backend: Backend,
) -> None:
    """A webhook stored while private targets were allowed is not called once they are not."""
    queue, store = backend.queue(), backend.webhooks()
    hook = Webhook(
        namespace="ns", url="http://127.0.0.1:9/x", events=["memory.created"], secret="s"
    )
    await store.add_webhook(hook, 10)
    (delivery,) = await service_on(backend, queue, allow_private=True).emit(
        "ns", "memory.created", {}
    )

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
    backend: Backend,
) -> None:
    queue, store = backend.queue(), backend.webhooks()
    with running_receiver() as receiver:
        hook = Webhook(namespace="ns", url=receiver.url, events=["memory.created"], secret="s")
        await store.add_webhook(hook, 10)
        (delivery,) = await service_on(backend, queue, allow_private=True).emit(
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


async def test_the_webhook_cap_holds_under_concurrent_subscriptions(backend: Backend) -> None:
    async with backend.reopen() as other:
        stores = [backend.webhooks(), other.webhooks()]
        added = await asyncio.gather(*(
            stores[i % 2].add_webhook(
                Webhook(namespace="ns", url=f"http://127.0.0.1:9/{i}", events=[], secret="s"), 5
            )
            for i in range(20)
        ))  # fmt: skip
    assert sum(added) == 5
    assert len(await backend.webhooks().list_webhooks("ns")) == 5


async def test_a_delivery_log_keeps_every_attempt_in_order(backend: Backend) -> None:
    store = backend.webhooks()
    hook = Webhook(namespace="ns", url="http://127.0.0.1:9/x", events=["ping"], secret="s")
    assert await store.add_webhook(hook, 10)
    delivery = WebhookDelivery(id="d1", namespace="ns", webhook_id=hook.id, event="ping")
    await store.add_delivery(delivery)
    await store.add_delivery(delivery.model_copy(update={"event": "changed"}))  # kept as it was
    outcomes = [(500, DeliveryStatus.RETRYING), (200, DeliveryStatus.SUCCEEDED)]
    for n, (code, status) in enumerate(outcomes, 1):
        attempt = DeliveryAttempt(attempt=n, at=utcnow(), status_code=code, duration_ms=1.5)
        await store.record_attempt("ns", "d1", attempt, status)
    (logged,) = (await store.list_deliveries("ns", hook.id, 10, 0)).items
    assert (logged.event, logged.status, logged.attempts) == ("ping", DeliveryStatus.SUCCEEDED, 2)
    assert [a.status_code for a in logged.log] == [500, 200] and logged.delivered_at is not None
    assert await store.delete_webhook("ns", hook.id)
    assert (await store.list_deliveries("ns", hook.id, 10, 0)).total == 0
    assert not await store.delete_webhook("ns", hook.id)


def test_signature_is_hex_hmac_sha256_of_timestamp_dot_body() -> None:
    # Reference value computed independently: printf '1700000000.{"a":1}' | openssl sha256 -hmac k
    assert sign("k", "1700000000", '{"a":1}') == (
        "1b6ad1bc9bf48c52ce01939866d5877c6cc4e87ddad27e16673cb8c4964394a3"
    )
