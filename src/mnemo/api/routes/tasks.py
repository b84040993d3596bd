"""Background task routes: GET /v1/tasks/{id} in seed 001's Task shape, and a listing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, JsonValue

from mnemo.api.convert import page_size
from mnemo.api.deps import PrincipalDep, ServicesDep
from mnemo.auth.access import require, resolve_namespace
from mnemo.errors import TaskNotFoundError
from mnemo.jobs.queue import Task, TaskStatus
from mnemo.models import Scope

router = APIRouter(prefix="/v1/tasks", tags=["native"])

SeedStatus = Literal["pending", "running", "success", "failed"]
_SEED_STATUS: dict[TaskStatus, SeedStatus] = {
    TaskStatus.PENDING: "pending",
    TaskStatus.RUNNING: "running",
    TaskStatus.SUCCEEDED: "success",
    TaskStatus.DEAD: "failed",
}


class TaskOut(BaseModel):
    """Seed 001's Task, plus the queue's own view: `state` (incl. "dead"), attempts."""

    id: str
    type: str
    status: SeedStatus
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    error: str | None
    error_message: str | None  # the name agent-memory-client reads
    result: JsonValue
    view_id: None = None
    state: TaskStatus
    attempts: int
    max_attempts: int
    namespace: str
    run_after: datetime

    @classmethod
    def of(cls, task: Task) -> TaskOut:
        return cls(
            id=task.id,
            type=task.type,
            status=_SEED_STATUS[task.status],
            created_at=task.created_at,
            started_at=task.started_at,
            completed_at=task.completed_at,
            error=task.error,
            error_message=task.error,
            result=task.result,
            state=task.status,
            attempts=task.attempts,
            max_attempts=task.max_attempts,
            namespace=task.namespace,
            run_after=task.run_after,
        )


class TaskListOut(BaseModel):
    tasks: list[TaskOut]
    total: int


@router.get("/{task_id}", response_model=TaskOut)
async def get_task(task_id: str, who: PrincipalDep, services: ServicesDep) -> TaskOut:
    require(who, Scope.READ)
    task = await services.jobs.queue.get(task_id)
    if task is None or (who.namespace is not None and task.namespace != who.namespace):
        raise TaskNotFoundError(f"task {task_id} not found")
    return TaskOut.of(task)


@router.get("", response_model=TaskListOut)
async def list_tasks(
    who: PrincipalDep,
    services: ServicesDep,
    state: Annotated[TaskStatus | None, Query(description="Internal status filter")] = None,
    namespace: Annotated[str | None, Query()] = None,
    limit: Annotated[int | None, Query(ge=1, description="Page size (default 20)")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TaskListOut:
    """Newest first; e.g. ?state=dead lists the work that failed for good."""
    require(who, Scope.READ)
    ns = resolve_namespace(who, namespace, services.settings.default_namespace)
    size = page_size(limit, services.settings.limits)
    page = await services.jobs.queue.list(ns, state, size, offset)
    return TaskListOut(tasks=[TaskOut.of(t) for t in page.items], total=page.total)
