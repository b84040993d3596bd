"""Summaries with a callback (seed 004): summarise in a task, then POST the result, signed."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx
from pydantic import JsonValue

from mnemo.auth.access import require
from mnemo.jobs.queue import JsonObject, Task, TaskQueue
from mnemo.jobs.registry import PermanentTaskError, RetryableTaskError, TaskContext
from mnemo.models import Principal, Scope, utcnow
from mnemo.services.consolidation import Owner
from mnemo.services.summarizers import Summarizer
from mnemo.services.webhook_delivery import WebhookDeliverer
from mnemo.services.webhook_targets import (
    TargetRefusedError,
    TargetUnresolvableError,
    resolve_target,
)

SUMMARY_TASK = "seed004.summary"
CALLBACK_TASK = "seed004.callback"
CALLBACK_EVENT = "summary.completed"  # the X-Mnemo-Event of a callback, as for webhooks


@dataclass(frozen=True)
class Callback:
    """Where a summary goes: the URL, the signing secret, and the client's own headers."""

    url: str
    secret: str | None = None  # generated when None; the submitter shows it to the client
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Submitted:
    task: Task
    secret: str


class SummaryCallbacks:
    """Two tasks: the summary task summarises once and queues the callback task, which POSTs
    the same signed body on every attempt (retried with backoff, `max_attempts` in all), so a
    retry never re-summarises and the receiver can deduplicate on X-Mnemo-Delivery."""

    def __init__(
        self,
        queue: TaskQueue,
        summarizer: Summarizer,
        deliverer: WebhookDeliverer,
        *,
        allow_private: bool,
        max_attempts: int,
        summarizer_name: str,
    ) -> None:
        self._queue = queue
        self._summarizer = summarizer
        self._deliverer = deliverer
        self._allow_private = allow_private
        self._max_attempts = max_attempts
        self._summarizer_name = summarizer_name

    async def submit(
        self, who: Principal, owner: Owner, lines: Sequence[str], callback: Callback
    ) -> Submitted:
        """Queue the summary; a callback URL that could never be called is refused now (400)."""
        require(who, Scope.WRITE)
        await resolve_target(callback.url, allow_private=self._allow_private)
        secret = callback.secret or "whsec_" + secrets.token_urlsafe(32)
        payload: JsonObject = {
            "namespace": owner.namespace,
            "user_id": owner.user_id,
            "session_id": owner.session_id,
            "lines": [*lines],
            "callback": {"url": callback.url, "secret": secret, "headers": dict(callback.headers)},
        }
        task = await self._queue.enqueue(SUMMARY_TASK, payload, namespace=owner.namespace)
        return Submitted(task, secret)

    async def summarize(self, payload: JsonObject, context: TaskContext) -> JsonValue:
        """Handler of SUMMARY_TASK: the structured summary, handed to one callback task."""
        lines = [str(line) for line in _as_list(payload.get("lines"))]
        callback = payload.get("callback")
        if not isinstance(callback, dict):
            raise PermanentTaskError("the summary task has no callback")
        summary = await self._summarizer.summarize(lines)
        metadata: JsonObject = {
            "message_count": len(lines),
            "summarizer": self._summarizer_name,
            "usage": dict(summary.usage.as_dict()),
            "generated_at": utcnow().isoformat(),
        }
        body: JsonObject = {
            "task_id": context.task.id,
            "status": "completed",
            "app_id": payload.get("namespace"),
            "user_id": payload.get("user_id"),
            "session_id": payload.get("session_id"),
            "summary": summary.text,
            "metadata": metadata,
        }
        delivery: JsonObject = {
            **callback,
            "delivery_id": context.task.id,
            "body": json.dumps(body, separators=(",", ":")),
        }
        task = await self._queue.enqueue(
            CALLBACK_TASK,
            delivery,
            namespace=context.task.namespace,
            idempotency_key=context.task.id,  # a rerun of this task queues no second callback
            max_attempts=self._max_attempts,
        )
        return {"summary": summary.text, "message_count": len(lines), "callback_task_id": task.id}

    async def deliver(self, payload: JsonObject, context: TaskContext) -> JsonValue:
        """Handler of CALLBACK_TASK: one signed POST; a non-2xx answer is retried."""
        headers = payload.get("headers")
        extra = {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
        delivery_id = str(payload["delivery_id"])
        try:
            status = await self._deliverer.post_signed(
                str(payload["url"]), str(payload["secret"]), delivery_id, CALLBACK_EVENT,
                str(payload["body"]), extra,
            )  # fmt: skip
        except TargetRefusedError as exc:
            raise PermanentTaskError(exc.message) from exc
        except TargetUnresolvableError as exc:
            raise RetryableTaskError(exc.message) from exc
        except httpx.HTTPError as exc:
            raise RetryableTaskError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        if not 200 <= status < 300:
            raise RetryableTaskError(f"the callback answered HTTP {status}")
        return {"delivery_id": delivery_id, "status_code": status, "attempts": context.attempt}


def _as_list(value: JsonValue) -> list[JsonValue]:
    if not isinstance(value, list):
        raise PermanentTaskError("the summary task has no lines to summarise")
    return value
