"""SqlWebhookStore: the WebhookStore port written once, as plans, for every SQL database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from mnemo.stores.base import Page
from mnemo.stores.plans import LockScope, Plan, PlanRunner, Row, Rows, single
from mnemo.stores.webhook_store import (
    DeliveryAttempt,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
)

WEBHOOK_COLUMNS = ("namespace", "id", "url", "events", "secret", "description", "created_at")
DELIVERY_COLUMNS = (
    "namespace", "id", "webhook_id", "event", "task_id", "status", "attempts", "response_status",
    "error", "log", "created_at", "updated_at", "delivered_at",
)  # fmt: skip


class SqlWebhookStore:
    """Implements WebhookStore on a PlanRunner (the store's database)."""

    def __init__(self, runner: PlanRunner) -> None:
        self._runner = runner
        spelling = runner.spelling
        p = self._p = spelling.placeholder
        self._decode = spelling.decode_json
        self._webhooks = f"SELECT {', '.join(WEBHOOK_COLUMNS)} FROM webhooks"
        self._insert_webhook = (
            f"INSERT INTO webhooks ({', '.join(WEBHOOK_COLUMNS)}) "
            f"VALUES ({spelling.marks(len(WEBHOOK_COLUMNS))})"
        )
        self._deliveries = f"SELECT {', '.join(DELIVERY_COLUMNS)} FROM webhook_deliveries"
        self._insert_delivery = (
            f"INSERT INTO webhook_deliveries ({', '.join(DELIVERY_COLUMNS)}) "
            f"VALUES ({spelling.marks(len(DELIVERY_COLUMNS))}) "
            "ON CONFLICT (namespace, id) DO NOTHING"
        )
        append_attempt = spelling.json_append.format(column="log")
        self._record_attempt = (
            f"UPDATE webhook_deliveries SET status = {p}, attempts = attempts + 1, "
            f"response_status = {p}, error = {p}, log = {append_attempt}, "
            f"updated_at = {p}, delivered_at = coalesce(delivered_at, {p}) "
            f"WHERE namespace = {p} AND id = {p}"
        )

    async def add_webhook(self, webhook: Webhook, max_per_namespace: int) -> bool:
        return await self._runner.run(self._add_webhook(webhook, max_per_namespace))

    async def get_webhook(self, namespace: str, webhook_id: str) -> Webhook | None:
        statement = f"{self._webhooks} WHERE namespace = {self._p} AND id = {self._p}"
        rows = await self._read(statement, (namespace, webhook_id))
        return self._webhook(rows[0]) if rows else None

    async def list_webhooks(self, namespace: str) -> list[Webhook]:
        statement = f"{self._webhooks} WHERE namespace = {self._p} ORDER BY created_at, id"
        return [self._webhook(r) for r in await self._read(statement, (namespace,))]

    async def delete_webhook(self, namespace: str, webhook_id: str) -> bool:
        return await self._runner.run(self._delete_webhook(namespace, webhook_id))

    async def add_delivery(self, delivery: WebhookDelivery) -> None:
        d = delivery
        params = (
            d.namespace, d.id, d.webhook_id, d.event, d.task_id, d.status.value, d.attempts,
            d.response_status, d.error, json.dumps([a.model_dump(mode="json") for a in d.log]),
            d.created_at.timestamp(), d.updated_at.timestamp(),
            d.delivered_at.timestamp() if d.delivered_at else None,
        )  # fmt: skip
        await self._runner.run(single((self._insert_delivery, params)))

    async def record_attempt(
        self, namespace: str, delivery_id: str, attempt: DeliveryAttempt, status: DeliveryStatus
    ) -> None:
        at = attempt.at.timestamp()
        delivered_at = at if status is DeliveryStatus.SUCCEEDED else None
        params = (
            status.value, attempt.status_code, attempt.error, attempt.model_dump_json(), at,
            delivered_at, namespace, delivery_id,
        )  # fmt: skip
        await self._runner.run(single((self._record_attempt, params)))

    async def list_deliveries(
        self, namespace: str, webhook_id: str, limit: int, offset: int
    ) -> Page[WebhookDelivery]:
        plan = self._list_deliveries(namespace, webhook_id, limit, offset)
        return await self._runner.run(plan, write=False)

    def _add_webhook(self, webhook: Webhook, max_per_namespace: int) -> Plan[bool]:
        # The count and the insert must not interleave with another add to the namespace.
        lock = self._runner.lock(LockScope.WEBHOOK_NAMESPACE, webhook.namespace, wait=True)
        if lock is not None:
            yield lock
        count = f"SELECT COUNT(*) AS n FROM webhooks WHERE namespace = {self._p}"
        if (yield count, (webhook.namespace,))[0]["n"] >= max_per_namespace:
            return False
        params = (
            webhook.namespace, webhook.id, webhook.url, json.dumps(webhook.events),
            webhook.secret, webhook.description, webhook.created_at.timestamp(),
        )  # fmt: skip
        yield self._insert_webhook, params
        return True

    def _delete_webhook(self, namespace: str, webhook_id: str) -> Plan[bool]:
        p = self._p
        key = (namespace, webhook_id)
        yield f"DELETE FROM webhook_deliveries WHERE namespace = {p} AND webhook_id = {p}", key
        deleted = yield f"DELETE FROM webhooks WHERE namespace = {p} AND id = {p} RETURNING id", key
        return bool(deleted)

    def _list_deliveries(
        self, namespace: str, webhook_id: str, limit: int, offset: int
    ) -> Plan[Page[WebhookDelivery]]:
        where = f"WHERE namespace = {self._p} AND webhook_id = {self._p}"
        key = (namespace, webhook_id)
        total = (yield f"SELECT COUNT(*) AS n FROM webhook_deliveries {where}", key)[0]["n"]
        rows = yield (
            f"{self._deliveries} {where} ORDER BY created_at DESC, id DESC "
            f"LIMIT {self._p} OFFSET {self._p}",
            (*key, limit, offset),
        )
        return Page([self._delivery(r) for r in rows], int(total))

    async def _read(self, sql: str, params: tuple[object, ...]) -> Rows:
        return await self._runner.run(single((sql, params)), write=False)

    def _webhook(self, row: Row) -> Webhook:
        return Webhook(
            namespace=row["namespace"],
            id=row["id"],
            url=row["url"],
            events=self._decode(row["events"]),
            secret=row["secret"],
            description=row["description"],
            created_at=_dt(row["created_at"]),
        )

    def _delivery(self, row: Row) -> WebhookDelivery:
        log = self._decode(row["log"])
        return WebhookDelivery(
            namespace=row["namespace"],
            id=row["id"],
            webhook_id=row["webhook_id"],
            event=row["event"],
            task_id=row["task_id"],
            status=DeliveryStatus(row["status"]),
            attempts=row["attempts"],
            response_status=row["response_status"],
            error=row["error"],
            log=[DeliveryAttempt.model_validate(a) for a in log] if isinstance(log, list) else [],
            created_at=_dt(row["created_at"]),
            updated_at=_dt(row["updated_at"]),
            delivered_at=None if row["delivered_at"] is None else _dt(row["delivered_at"]),
        )


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
