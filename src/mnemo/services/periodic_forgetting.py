"""The periodic forgetting pass (off by default): a self-rescheduling durable task."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from pydantic import JsonValue

from mnemo.config import ForgettingConfig
from mnemo.jobs.queue import JsonObject, TaskQueue
from mnemo.jobs.registry import TaskContext
from mnemo.models import Principal, Scope
from mnemo.services.forgetting import ForgetScope, ForgettingService
from mnemo.services.forgetting_policy import ForgetPolicy

PERIODIC_FORGET_TASK = "forget.periodic"
SYSTEM_NAMESPACE = "_system"
_OPERATOR = Principal(
    key_id="forgetting", namespace=None, user_id=None, scopes=frozenset(Scope), rate_tier="operator"
)


class PeriodicForgetting:
    """One run per time slot: the slot number is the idempotency key, so several replicas
    scheduling the same slot still produce one task."""

    def __init__(
        self, queue: TaskQueue, forgetting: ForgettingService, config: ForgettingConfig
    ) -> None:
        self._queue = queue
        self._forgetting = forgetting
        self._config = config

    async def schedule_next(self, now: datetime) -> None:
        interval = self._config.every_minutes * 60
        slot = math.floor(now.timestamp() / interval) + 1
        await self._queue.enqueue(
            PERIODIC_FORGET_TASK,
            {"slot": slot},
            namespace=SYSTEM_NAMESPACE,
            idempotency_key=f"slot-{slot}",
            run_after=datetime.fromtimestamp(slot * interval, UTC),
        )

    async def handle(self, payload: JsonObject, context: TaskContext) -> JsonValue:
        del payload
        c = self._config
        policy = ForgetPolicy(c.max_age_days, c.max_inactive_days, c.budget_keep_top_n)
        result = await self._forgetting.forget(
            _OPERATOR, policy, ForgetScope(limit=c.scan_limit), dry_run=False
        )
        await self.schedule_next(datetime.now(UTC))
        return {"deleted": result.deleted, "scanned": result.scanned, "task_id": context.task.id}
