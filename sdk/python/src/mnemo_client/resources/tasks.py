"""client.tasks: read background tasks, and wait for one to finish."""

from __future__ import annotations

import time

from mnemo_client._endpoints import R, Resource, endpoint, paginated
from mnemo_client._wire import Call, Flow, Sleep, segment
from mnemo_client.errors import TaskNotFoundError, TaskWaitTimeoutError
from mnemo_client.models import Task, TaskList

PATH = "/v1/tasks"


def task_call(task_id: str) -> Call[Task]:
    return Call(
        "GET", f"{PATH}/{segment(task_id)}", Task.model_validate, not_found=TaskNotFoundError
    )


class TasksResource(Resource[R]):
    """Background tasks (extraction, webhook deliveries...) in the server's queue."""

    @endpoint
    def get(self, task_id: str) -> Call[Task]:
        return task_call(task_id)

    @endpoint
    def wait(
        self, task_id: str, *, timeout: float = 60.0, poll_interval: float = 0.2
    ) -> Flow[Task]:
        """Poll until the task succeeds or fails for good, and return it in that state.

        Raises TaskWaitTimeoutError (holding the last state seen) after `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            task = yield from self._wire.exchange(task_call(task_id))
            remaining = deadline - time.monotonic()
            if task.is_finished:
                return task
            if remaining <= 0:
                raise TaskWaitTimeoutError(
                    f"task {task_id} is still {task.status} after {timeout}s", task
                )
            yield Sleep(min(poll_interval, remaining))

    @endpoint
    def list(
        self,
        *,
        state: str | None = None,
        namespace: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> Call[TaskList]:
        """One page of tasks, newest first; `state` filters the queue's own status (e.g. "dead")."""
        params = {"state": state, "namespace": namespace, "limit": limit, "offset": offset}
        return Call("GET", PATH, TaskList.model_validate, params=params)

    iter_tasks = paginated(list, page_size=100)
