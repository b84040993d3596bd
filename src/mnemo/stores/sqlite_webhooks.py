"""SQLiteWebhookStore: webhook subscriptions and delivery logs in the store's SQLite file."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from mnemo.stores.base import Page
from mnemo.stores.sqlite_db import SQLiteDatabase
from mnemo.stores.webhook_store import (
    DeliveryAttempt,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
)

_WEBHOOK_COLUMNS = "namespace, id, url, events, secret, description, created_at"
_DELIVERY_COLUMNS = (
    "namespace, id, webhook_id, event, task_id, status, attempts, response_status, error, log, "
    "created_at, updated_at, delivered_at"
)


class SQLiteWebhookStore:
    """Implements WebhookStore on an open SQLiteDatabase (the store's)."""

    def __init__(self, db: SQLiteDatabase) -> None:
        self._db = db

    async def add_webhook(self, webhook: Webhook, max_per_namespace: int) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM webhooks WHERE namespace = ?", (webhook.namespace,)
            ).fetchone()
            if count >= max_per_namespace:
                return False
            conn.execute(
                f"INSERT INTO webhooks ({_WEBHOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    webhook.namespace, webhook.id, webhook.url, json.dumps(webhook.events),
                    webhook.secret, webhook.description, webhook.created_at.timestamp(),
                ),
            )  # fmt: skip
            return True

        return await self._db.write(work)

    async def get_webhook(self, namespace: str, webhook_id: str) -> Webhook | None:
        row = await self._db.read(
            lambda conn: conn.execute(
                f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE namespace = ? AND id = ?",
                (namespace, webhook_id),
            ).fetchone()
        )
        return None if row is None else _webhook_from_row(row)

    async def list_webhooks(self, namespace: str) -> list[Webhook]:
        rows = await self._db.read(
            lambda conn: conn.execute(
                f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE namespace = ? "
                "ORDER BY created_at, id",
                (namespace,),
            ).fetchall()
        )
        return [_webhook_from_row(r) for r in rows]

    async def delete_webhook(self, namespace: str, webhook_id: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            key = (namespace, webhook_id)
            conn.execute(
                "DELETE FROM webhook_deliveries WHERE namespace = ? AND webhook_id = ?", key
            )
            return conn.execute(
                "DELETE FROM webhooks WHERE namespace = ? AND id = ?", key
            ).rowcount == 1  # fmt: skip

        return await self._db.write(work)

    async def add_delivery(self, delivery: WebhookDelivery) -> None:
        d = delivery
        params = (
            d.namespace, d.id, d.webhook_id, d.event, d.task_id, d.status.value, d.attempts,
            d.response_status, d.error, json.dumps([a.model_dump(mode="json") for a in d.log]),
            d.created_at.timestamp(), d.updated_at.timestamp(),
            d.delivered_at.timestamp() if d.delivered_at else None,
        )  # fmt: skip
        await self._db.write(
            lambda conn: conn.execute(
                f"INSERT OR IGNORE INTO webhook_deliveries ({_DELIVERY_COLUMNS}) "
                f"VALUES ({', '.join('?' * 13)})",
                params,
            )
        )

    async def record_attempt(
        self, namespace: str, delivery_id: str, attempt: DeliveryAttempt, status: DeliveryStatus
    ) -> None:
        at = attempt.at.timestamp()
        delivered_at = at if status is DeliveryStatus.SUCCEEDED else None
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, "
                "response_status = ?, error = ?, log = json_insert(log, '$[#]', json(?)), "
                "updated_at = ?, delivered_at = coalesce(delivered_at, ?) "
                "WHERE namespace = ? AND id = ?",
                (
                    status.value,
                    attempt.status_code,
                    attempt.error,
                    attempt.model_dump_json(),
                    at,
                    delivered_at,
                    namespace,
                    delivery_id,
                ),
            )  # fmt: skip
        )

    async def list_deliveries(
        self, namespace: str, webhook_id: str, limit: int, offset: int
    ) -> Page[WebhookDelivery]:
        def work(conn: sqlite3.Connection) -> Page[WebhookDelivery]:
            key = (namespace, webhook_id)
            where = "WHERE namespace = ? AND webhook_id = ?"
            (total,) = conn.execute(
                f"SELECT COUNT(*) FROM webhook_deliveries {where}", key
            ).fetchone()
            rows = conn.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries {where} "
                "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                (*key, limit, offset),
            ).fetchall()
            return Page([_delivery_from_row(r) for r in rows], int(total))

        return await self._db.read(work)


def _webhook_from_row(row: sqlite3.Row) -> Webhook:
    return Webhook(
        namespace=row["namespace"],
        id=row["id"],
        url=row["url"],
        events=json.loads(row["events"]),
        secret=row["secret"],
        description=row["description"],
        created_at=_dt(row["created_at"]),
    )


def _delivery_from_row(row: sqlite3.Row) -> WebhookDelivery:
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
        log=[DeliveryAttempt.model_validate(a) for a in json.loads(row["log"])],
        created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
        delivered_at=None if row["delivered_at"] is None else _dt(row["delivered_at"]),
    )


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
