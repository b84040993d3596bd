"""Webhook routes: subscribe, list, read, delete, ping, and each webhook's delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, computed_field

from mnemo.api.convert import page_size
from mnemo.api.deps import PrincipalDep, ServicesDep
from mnemo.api.schemas import AckOut
from mnemo.stores.webhook_store import DeliveryAttempt, DeliveryStatus, Webhook, WebhookDelivery

router = APIRouter(prefix="/v1/webhooks", tags=["native"])

NamespaceParam = Annotated[str | None, Query(description="Namespace of the webhook")]


class CreateWebhookIn(BaseModel):
    url: str = Field(min_length=1, max_length=2048)
    events: list[str] = Field(min_length=1, max_length=32)
    secret: str | None = Field(None, description="Signing secret; generated when omitted")
    description: str | None = Field(None, max_length=500)


class WebhookOut(BaseModel):
    id: str
    namespace: str
    url: str
    events: list[str]
    description: str | None
    created_at: datetime

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookOut:
        return cls(**webhook.model_dump(exclude={"secret"}))


class CreatedWebhookOut(WebhookOut):
    secret: str  # shown once, now: only its holder can verify X-Mnemo-Signature

    @computed_field(alias="createdAt")  # type: ignore[prop-decorator]
    @property
    def created_at_camel(self) -> datetime:
        """Seed 003 speaks camelCase: created_at again, as createdAt."""
        return self.created_at


class WebhookListOut(BaseModel):
    webhooks: list[WebhookOut]
    total: int


class DeliveryOut(BaseModel):
    id: str
    webhook_id: str
    event: str
    task_id: str | None
    status: DeliveryStatus
    attempts: int
    response_status: int | None
    error: str | None
    log: list[DeliveryAttempt]
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryOut:
        return cls(**delivery.model_dump(exclude={"namespace"}))


class DeliveryListOut(BaseModel):
    deliveries: list[DeliveryOut]
    total: int


@router.post("", response_model=CreatedWebhookOut, status_code=201, tags=["seed 003"])
async def create_webhook(
    body: CreateWebhookIn,
    who: PrincipalDep,
    services: ServicesDep,
    namespace: NamespaceParam = None,
) -> CreatedWebhookOut:
    """Subscribe the namespace's events (seed 003's {url, events} body works as it is).

    Each event is POSTed to `url` as JSON with the headers X-Mnemo-Event, X-Mnemo-Delivery,
    X-Mnemo-Timestamp and X-Mnemo-Signature: the hex HMAC-SHA256, keyed with `secret`, of
    "<X-Mnemo-Timestamp>.<raw body>". The secret is generated when not given and shown only
    in this answer.
    """
    webhook = await services.jobs.webhooks.create(
        who, namespace, body.url, body.events, body.secret, body.description
    )
    return CreatedWebhookOut(**webhook.model_dump())


@router.get("", response_model=WebhookListOut)
async def list_webhooks(
    who: PrincipalDep, services: ServicesDep, namespace: NamespaceParam = None
) -> WebhookListOut:
    found = await services.jobs.webhooks.list_webhooks(who, namespace)
    return WebhookListOut(webhooks=[WebhookOut.of(w) for w in found], total=len(found))


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(
    webhook_id: str, who: PrincipalDep, services: ServicesDep, namespace: NamespaceParam = None
) -> WebhookOut:
    return WebhookOut.of(await services.jobs.webhooks.get(who, webhook_id, namespace))


@router.delete("/{webhook_id}", response_model=AckOut)
async def delete_webhook(
    webhook_id: str, who: PrincipalDep, services: ServicesDep, namespace: NamespaceParam = None
) -> AckOut:
    await services.jobs.webhooks.delete(who, webhook_id, namespace)
    return AckOut(status="ok")


@router.post("/{webhook_id}/ping", response_model=DeliveryOut, status_code=202)
async def ping_webhook(
    webhook_id: str, who: PrincipalDep, services: ServicesDep, namespace: NamespaceParam = None
) -> DeliveryOut:
    """Queue a signed "ping" event to this webhook; follow it in the delivery log."""
    return DeliveryOut.of(await services.jobs.webhooks.ping(who, webhook_id, namespace))


@router.get("/{webhook_id}/deliveries", response_model=DeliveryListOut)
async def list_deliveries(
    webhook_id: str,
    who: PrincipalDep,
    services: ServicesDep,
    namespace: NamespaceParam = None,
    limit: Annotated[int | None, Query(ge=1, description="Page size (default 20)")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DeliveryListOut:
    size = page_size(limit, services.settings.limits)
    page = await services.jobs.webhooks.deliveries(who, webhook_id, namespace, size, offset)
    return DeliveryListOut(deliveries=[DeliveryOut.of(d) for d in page.items], total=page.total)
