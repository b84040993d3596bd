"""Webhook use cases: subscriptions per namespace, and event fan-out into delivery tasks."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence

from pydantic import JsonValue

from mnemo.auth.access import require, resolve_namespace
from mnemo.errors import ConflictError, ForbiddenError, InvalidRequestError, NotFoundError
from mnemo.jobs.queue import TaskQueue
from mnemo.models import Principal, Scope, new_id, utcnow
from mnemo.services.webhook_delivery import DELIVER_TASK
from mnemo.services.webhook_targets import resolve_target
from mnemo.stores.base import Page
from mnemo.stores.webhook_store import Webhook, WebhookDelivery, WebhookStore

WEBHOOK_EVENTS = frozenset({
    "memory.created", "memory.updated", "memory.superseded", "memory.deleted",
    "extraction.completed", "extraction.failed", "summary.completed", "message.created",
    "pattern.detected",
})  # fmt: skip
PING_EVENT = "ping"  # sent on request to one webhook (POST /v1/webhooks/{id}/ping)
MAX_SECRET_LENGTH = 256


class WebhookService:
    def __init__(
        self,
        store: WebhookStore,
        queue: TaskQueue,
        *,
        default_namespace: str,
        allow_private: bool,
        max_per_namespace: int,
        max_attempts: int,
    ) -> None:
        self._store = store
        self._queue = queue
        self._default_namespace = default_namespace
        self._allow_private = allow_private
        self._max_per_namespace = max_per_namespace
        self._max_attempts = max_attempts

    async def create(
        self,
        who: Principal,
        namespace: str | None,
        url: str,
        events: Sequence[str],
        secret: str | None = None,
        description: str | None = None,
    ) -> Webhook:
        """Subscribe; the returned webhook carries the secret, which is shown only now."""
        ns = self._namespace(who, namespace, Scope.WRITE)
        chosen = _check_events(events)
        if secret is not None and not 0 < len(secret) <= MAX_SECRET_LENGTH:
            raise InvalidRequestError(f"a webhook secret has 1 to {MAX_SECRET_LENGTH} characters")
        await resolve_target(url, allow_private=self._allow_private)
        webhook = Webhook(
            namespace=ns,
            url=url,
            events=chosen,
            secret=secret or "whsec_" + secrets.token_urlsafe(32),
            description=description,
        )
        if not await self._store.add_webhook(webhook, self._max_per_namespace):
            raise ConflictError(
                f"namespace '{ns}' already has {self._max_per_namespace} webhooks, the maximum"
            )
        return webhook

    async def list_webhooks(self, who: Principal, namespace: str | None) -> list[Webhook]:
        return await self._store.list_webhooks(self._namespace(who, namespace, Scope.READ))

    async def get(self, who: Principal, webhook_id: str, namespace: str | None) -> Webhook:
        ns = self._namespace(who, namespace, Scope.READ)
        webhook = await self._store.get_webhook(ns, webhook_id)
        if webhook is None:
            raise NotFoundError(f"webhook {webhook_id} not found")
        return webhook

    async def delete(self, who: Principal, webhook_id: str, namespace: str | None) -> None:
        ns = self._namespace(who, namespace, Scope.WRITE)
        if not await self._store.delete_webhook(ns, webhook_id):
            raise NotFoundError(f"webhook {webhook_id} not found")

    async def deliveries(
        self, who: Principal, webhook_id: str, namespace: str | None, limit: int, offset: int
    ) -> Page[WebhookDelivery]:
        webhook = await self.get(who, webhook_id, namespace)
        return await self._store.list_deliveries(webhook.namespace, webhook.id, limit, offset)

    async def ping(self, who: Principal, webhook_id: str, namespace: str | None) -> WebhookDelivery:
        """Send a signed "ping" event to one webhook, to test the receiver."""
        self._namespace(who, namespace, Scope.WRITE)
        webhook = await self.get(who, webhook_id, namespace)
        return await self._send(webhook, PING_EVENT, {"webhook_id": webhook.id})

    async def emit(
        self, namespace: str, event: str, data: dict[str, JsonValue]
    ) -> list[WebhookDelivery]:
        """Fan an event out: one delivery task per subscription of the namespace to it."""
        if event not in WEBHOOK_EVENTS:
            raise ValueError(f"unknown webhook event {event!r}")
        webhooks = await self._store.list_webhooks(namespace)
        return [await self._send(w, event, data) for w in webhooks if event in w.events]

    async def _send(
        self, webhook: Webhook, event: str, data: dict[str, JsonValue]
    ) -> WebhookDelivery:
        delivery = WebhookDelivery(
            id=new_id(), namespace=webhook.namespace, webhook_id=webhook.id, event=event
        )
        body = json.dumps(
            {
                "id": delivery.id,
                "event": event,
                "namespace": webhook.namespace,
                "webhook_id": webhook.id,
                "created_at": utcnow().isoformat(),
                "data": data,
            },
            separators=(",", ":"),
        )
        # The task first: if we crash before the log row exists, the task still runs and
        # writes the row itself; the reverse order could leave a delivery no task will send.
        task = await self._queue.enqueue(
            DELIVER_TASK,
            {"delivery_id": delivery.id, "webhook_id": webhook.id, "event": event, "body": body},
            namespace=webhook.namespace,
            idempotency_key=delivery.id,
            max_attempts=self._max_attempts,
        )
        delivery.task_id = task.id
        await self._store.add_delivery(delivery)
        return delivery

    def _namespace(self, who: Principal, requested: str | None, scope: Scope) -> str:
        require(who, scope)
        if who.user_id is not None:
            raise ForbiddenError(
                "webhooks receive the events of a whole namespace; a key bound to one user "
                "cannot manage them"
            )
        return resolve_namespace(who, requested, self._default_namespace)


def _check_events(events: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(events))
    if not chosen:
        raise InvalidRequestError("subscribe to at least one event")
    unknown = [e for e in chosen if e not in WEBHOOK_EVENTS]
    if unknown:
        raise InvalidRequestError(
            f"unknown webhook event(s) {', '.join(unknown)}; "
            f"known events: {', '.join(sorted(WEBHOOK_EVENTS))}"
        )
    return chosen
