"""SQLiteWebhookStore: webhook subscriptions and delivery logs in the store's SQLite file."""

from __future__ import annotations

from mnemo.stores.plans import SQLiteRunner
from mnemo.stores.sql_webhooks import SqlWebhookStore
from mnemo.stores.sqlite_db import SQLiteDatabase


class SQLiteWebhookStore(SqlWebhookStore):
    """Implements WebhookStore on an open SQLiteDatabase (the store's)."""

    def __init__(self, db: SQLiteDatabase) -> None:
        super().__init__(SQLiteRunner(db))
