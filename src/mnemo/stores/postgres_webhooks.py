"""PostgresWebhookStore: webhook subscriptions and delivery logs in the PostgreSQL store."""

from __future__ import annotations

from mnemo.stores.plans import PostgresRunner
from mnemo.stores.postgres_db import PostgresDatabase
from mnemo.stores.sql_webhooks import SqlWebhookStore


class PostgresWebhookStore(SqlWebhookStore):
    """Implements WebhookStore on the store's pool; the per-namespace cap is kept under an
    advisory lock on the namespace."""

    def __init__(self, db: PostgresDatabase) -> None:
        super().__init__(PostgresRunner(db))
