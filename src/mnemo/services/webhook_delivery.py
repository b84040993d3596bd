"""The "webhook.deliver" task: sign one event, POST it to its subscriber, log the attempt."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import httpx
from pydantic import JsonValue

from mnemo import __version__
from mnemo.jobs.queue import JsonObject
from mnemo.jobs.registry import PermanentTaskError, RetryableTaskError, TaskContext
from mnemo.services.webhook_targets import (
    ResolvedTarget,
    TargetRefusedError,
    TargetUnresolvableError,
    resolve_target,
)
from mnemo.stores.webhook_store import (
    DeliveryAttempt,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookStore,
)

DELIVER_TASK = "webhook.deliver"


def sign(secret: str, timestamp: str, body: str) -> str:
    """X-Mnemo-Signature: hex HMAC-SHA256 of "{timestamp}.{body}" keyed by the secret."""
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class WebhookDeliverer:
    """Handler of "webhook.deliver" tasks; each retry of a task is one more logged attempt."""

    def __init__(self, store: WebhookStore, *, allow_private: bool, timeout_s: float) -> None:
        self._store = store
        self._allow_private = allow_private
        self._timeout_s = timeout_s
        self._http: httpx.AsyncClient | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def deliver(self, payload: JsonObject, context: TaskContext) -> JsonValue:
        namespace = context.task.namespace
        delivery_id, webhook_id = str(payload["delivery_id"]), str(payload["webhook_id"])
        event, body = str(payload["event"]), str(payload["body"])
        webhook = await self._store.get_webhook(namespace, webhook_id)
        if webhook is None:
            return {"delivery_id": delivery_id, "skipped": "the webhook was deleted"}
        await self._store.add_delivery(  # no-op unless a crash came between enqueue and log
            WebhookDelivery(
                id=delivery_id,
                namespace=namespace,
                webhook_id=webhook_id,
                event=event,
                task_id=context.task.id,
            )
        )
        started = time.perf_counter()
        try:
            status = await self._post(webhook, delivery_id, event, body)
        except TargetRefusedError as exc:
            await self._log(context, delivery_id, started, None, exc.message, final=True)
            raise PermanentTaskError(exc.message) from exc
        except (TargetUnresolvableError, httpx.HTTPError) as exc:
            error = _error_text(exc)
            await self._log(context, delivery_id, started, None, error)
            raise RetryableTaskError(error) from exc
        if not 200 <= status < 300:
            await self._log(context, delivery_id, started, status, f"HTTP {status}")
            raise RetryableTaskError(f"the receiver answered HTTP {status}")
        await self._log(context, delivery_id, started, status, None)
        return {"delivery_id": delivery_id, "status_code": status, "attempts": context.attempt}

    async def _post(self, webhook: Webhook, delivery_id: str, event: str, body: str) -> int:
        return await self.post_signed(webhook.url, webhook.secret, delivery_id, event, body)

    async def post_signed(
        self,
        url: str,
        secret: str,
        delivery_id: str,
        event: str,
        body: str,
        extra_headers: Mapping[str, str] | None = None,
    ) -> int:
        """POST one signed event to `url` (private targets refused unless allowed) and return
        the receiver's status; also used for seed 004's summary callbacks, which add their
        client's headers (ours win on a clash)."""
        target = await resolve_target(url, allow_private=self._allow_private)
        timestamp = str(int(time.time()))
        signed = {
            "Content-Type": "application/json",
            "User-Agent": f"mnemo-webhooks/{__version__}",
            "Host": target.url.netloc.decode("ascii"),
            "X-Mnemo-Event": event,
            "X-Mnemo-Delivery": delivery_id,
            "X-Mnemo-Timestamp": timestamp,
            "X-Mnemo-Signature": sign(secret, timestamp, body),
        }
        ours = {name.lower() for name in signed}
        extra = {k: v for k, v in (extra_headers or {}).items() if k.lower() not in ours}
        headers = {**extra, **signed}
        request = self._client().build_request(
            "POST", target.pinned_url(), content=body.encode(), headers=headers,
            extensions=_tls_extensions(target),
        )  # fmt: skip
        response = await self._client().send(request, stream=True)
        await response.aclose()  # the status is all we need; never buffer a receiver's body
        return response.status_code

    async def _log(
        self,
        context: TaskContext,
        delivery_id: str,
        started: float,
        status_code: int | None,
        error: str | None,
        *,
        final: bool = False,
    ) -> None:
        if error is None:
            status = DeliveryStatus.SUCCEEDED
        elif final or context.is_last_attempt:
            status = DeliveryStatus.DEAD
        else:
            status = DeliveryStatus.RETRYING
        attempt = DeliveryAttempt(
            attempt=context.attempt,
            at=datetime.now(UTC),
            status_code=status_code,
            error=error,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        await self._store.record_attempt(context.task.namespace, delivery_id, attempt, status)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            # No redirects (a 3xx could point inside the network), no proxies from the
            # environment (the request must go to the address that was checked), and no pooled
            # connections (pools key on the address, so two hosts sharing one would share a TLS
            # session verified for only one of them).
            self._http = httpx.AsyncClient(
                timeout=self._timeout_s,
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        return self._http


def _tls_extensions(target: ResolvedTarget) -> dict[str, str]:
    """Connecting to an IP, TLS must still send and verify the configured host name."""
    return {"sni_hostname": target.url.host} if target.url.scheme == "https" else {}


def _error_text(exc: Exception) -> str:
    if isinstance(exc, TargetUnresolvableError):
        return exc.message
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
