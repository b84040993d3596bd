"""client.webhooks: subscribe to a namespace's events, and follow the deliveries."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from mnemo_client._endpoints import R, Resource, endpoint, paginated
from mnemo_client._wire import Call, segment
from mnemo_client.models import Ack, CreatedWebhook, Delivery, DeliveryList, Webhook, WebhookList

PATH = "/v1/webhooks"


def _webhooks_of(body: object) -> builtins.list[Webhook]:
    return WebhookList.model_validate(body).webhooks


class WebhooksResource(Resource[R]):
    """Signed POSTs of events (memory.created, extraction.completed, ...) to your URL."""

    @endpoint
    def create(
        self,
        url: str,
        events: Sequence[str],
        *,
        secret: str | None = None,
        description: str | None = None,
        namespace: str | None = None,
    ) -> Call[CreatedWebhook]:
        """Subscribe; the answer holds the signing secret, shown this once."""
        body = {"url": url, "events": list(events), "secret": secret, "description": description}
        return Call(
            "POST",
            PATH,
            CreatedWebhook.model_validate,
            params={"namespace": namespace},
            json={k: v for k, v in body.items() if v is not None},
        )

    @endpoint
    def get(self, webhook_id: str, *, namespace: str | None = None) -> Call[Webhook]:
        path = f"{PATH}/{segment(webhook_id)}"
        return Call("GET", path, Webhook.model_validate, params={"namespace": namespace})

    @endpoint
    def delete(self, webhook_id: str, *, namespace: str | None = None) -> Call[Ack]:
        path = f"{PATH}/{segment(webhook_id)}"
        return Call("DELETE", path, Ack.model_validate, params={"namespace": namespace})

    @endpoint
    def ping(self, webhook_id: str, *, namespace: str | None = None) -> Call[Delivery]:
        """Queue a signed "ping" event to the webhook; follow it in `deliveries`."""
        path = f"{PATH}/{segment(webhook_id)}/ping"
        return Call("POST", path, Delivery.model_validate, params={"namespace": namespace})

    @endpoint
    def deliveries(
        self, webhook_id: str, *, namespace: str | None = None, limit: int = 20, offset: int = 0
    ) -> Call[DeliveryList]:
        """One page of the webhook's delivery log (`iter_deliveries` walks it all)."""
        params = {"namespace": namespace, "limit": limit, "offset": offset}
        path = f"{PATH}/{segment(webhook_id)}/deliveries"
        return Call("GET", path, DeliveryList.model_validate, params=params)

    iter_deliveries = paginated(deliveries, page_size=100)

    @endpoint
    def list(self, *, namespace: str | None = None) -> Call[builtins.list[Webhook]]:
        """Every webhook of the namespace."""
        return Call("GET", PATH, _webhooks_of, params={"namespace": namespace})
