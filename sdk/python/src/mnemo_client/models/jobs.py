"""Background work: tasks, webhook subscriptions and the log of their deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import Field, JsonValue

from mnemo_client.models.common import Model, next_offset_of

FINISHED_STATUSES = frozenset({"success", "failed"})


class Task(Model):
    """A background task. `status` is "pending", "running", "success" or "failed"."""

    id: str
    type: str
    status: str
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    error: str | None = None
    result: JsonValue = None
    state: str | None = None
    attempts: int = 0
    max_attempts: int = 0
    namespace: str | None = None
    run_after: datetime | None = None

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def is_successful(self) -> bool:
        return self.status == "success"


class TaskList(Model):
    tasks: list[Task]
    total: int

    def page_items(self) -> Sequence[Task]:
        return self.tasks

    def following(self, offset: int) -> int | None:
        return next_offset_of(offset, len(self.tasks), self.total)


class Webhook(Model):
    id: str
    namespace: str
    url: str
    events: list[str]
    description: str | None = None
    created_at: datetime | None = None


class CreatedWebhook(Webhook):
    """The answer to a subscription: the only time the signing secret is shown."""

    secret: str


class DeliveryAttempt(Model):
    attempt: int
    at: datetime
    status_code: int | None = None
    error: str | None = None
    duration_ms: float = 0.0


class Delivery(Model):
    """One event sent to one webhook. `status`: pending, retrying, succeeded or dead."""

    id: str
    webhook_id: str
    event: str
    status: str
    task_id: str | None = None
    attempts: int = 0
    response_status: int | None = None
    error: str | None = None
    log: list[DeliveryAttempt] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    delivered_at: datetime | None = None


class DeliveryList(Model):
    deliveries: list[Delivery]
    total: int

    def page_items(self) -> Sequence[Delivery]:
        return self.deliveries

    def following(self, offset: int) -> int | None:
        return next_offset_of(offset, len(self.deliveries), self.total)


class WebhookList(Model):
    webhooks: list[Webhook]
    total: int
