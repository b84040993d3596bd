"""The WebhookStore port: webhook subscriptions and the log of their deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, Field

from mnemo.models import new_id, utcnow
from mnemo.stores.base import Page


class Webhook(BaseModel):
    """A subscription: POST these events of this namespace to this URL, signed with secret."""

    id: str = Field(default_factory=new_id)
    namespace: str
    url: str
    events: list[str]
    secret: str
    description: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # queued, not attempted yet
    RETRYING = "retrying"  # an attempt failed; another is scheduled
    SUCCEEDED = "succeeded"  # the receiver answered 2xx
    DEAD = "dead"  # every attempt failed, or the target was refused


class DeliveryAttempt(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None = None
    error: str | None = None
    duration_ms: float


class WebhookDelivery(BaseModel):
    """One event sent to one subscription, across all its attempts."""

    id: str  # also the X-Mnemo-Delivery header: the same on every retry, for deduplication
    namespace: str
    webhook_id: str
    event: str
    task_id: str | None = None
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    response_status: int | None = None
    error: str | None = None
    log: list[DeliveryAttempt] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class WebhookStore(Protocol):
    """Webhook persistence, kept in the store's database, scoped by namespace."""

    async def add_webhook(self, webhook: Webhook, max_per_namespace: int) -> bool:
        """Insert unless the namespace already has max_per_namespace webhooks (atomically)."""
        ...

    async def get_webhook(self, namespace: str, webhook_id: str) -> Webhook | None: ...

    async def list_webhooks(self, namespace: str) -> list[Webhook]:
        """Oldest first."""
        ...

    async def delete_webhook(self, namespace: str, webhook_id: str) -> bool:
        """Delete the subscription and its delivery log."""
        ...

    async def add_delivery(self, delivery: WebhookDelivery) -> None:
        """Insert; a delivery that already exists (same namespace and id) is left as it is."""
        ...

    async def record_attempt(
        self, namespace: str, delivery_id: str, attempt: DeliveryAttempt, status: DeliveryStatus
    ) -> None:
        """Append an attempt to the log and set the delivery's status, counters and error."""
        ...

    async def list_deliveries(
        self, namespace: str, webhook_id: str, limit: int, offset: int
    ) -> Page[WebhookDelivery]:
        """Newest first."""
        ...
