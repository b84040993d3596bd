"""The explicit registry of task types: name -> async handler(payload, context) -> JSON result.

Registering a type is one line where the services are assembled (wiring.py)::

    registry.register("webhook.deliver", deliverer.deliver)

Handlers must be idempotent: execution is at-least-once (see mnemo.jobs.queue). Raise
`PermanentTaskError` for a failure no retry can fix (the task is dead at once); any other
exception is retried with backoff up to the task's max attempts (raise `RetryableTaskError`
for an expected transient failure: it is logged without a traceback).

Operators (and tests) add task types without touching mnemo through the setting
`MNEMO_JOBS__EXTRA_TASK_MODULES=pkg.module,other.module`: each module is imported at start and
must define `register_tasks(registry: TaskRegistry, services: Services) -> None`.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import JsonValue

from mnemo.errors import ConfigurationError
from mnemo.jobs.queue import JsonObject, Task

if TYPE_CHECKING:
    from mnemo.wiring import Services


class PermanentTaskError(Exception):
    """Raised by a handler when retrying cannot help; the task goes straight to dead."""


class RetryableTaskError(Exception):
    """An expected, transient failure (e.g. the receiver answered 503): retried with backoff
    and logged without a traceback."""


@dataclass(frozen=True)
class TaskContext:
    """What a handler knows about the run it is in."""

    task: Task
    worker_id: str

    @property
    def attempt(self) -> int:
        """1 on the first run, 2 on the first retry, ..."""
        return self.task.attempts

    @property
    def is_last_attempt(self) -> bool:
        return self.task.attempts >= self.task.max_attempts


TaskHandler = Callable[[JsonObject, TaskContext], Awaitable[JsonValue]]


class TaskRegistry:
    """Task types by name; a worker runs only what is registered here."""

    def __init__(self) -> None:
        self._handlers: dict[str, TaskHandler] = {}

    def register(self, name: str, handler: TaskHandler) -> None:
        if name in self._handlers:
            raise ConfigurationError(f"task type {name!r} is registered twice")
        self._handlers[name] = handler

    def get(self, name: str) -> TaskHandler | None:
        return self._handlers.get(name)

    def names(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def load_modules(self, modules: Sequence[str], services: Services) -> None:
        """Import each module and let its `register_tasks(registry, services)` add types."""
        for name in modules:
            try:
                module = importlib.import_module(name)
            except ImportError as exc:
                raise ConfigurationError(f"cannot import task module {name!r}: {exc}") from exc
            register = getattr(module, "register_tasks", None)
            if not callable(register):
                raise ConfigurationError(
                    f"task module {name!r} has no register_tasks(registry, services) function"
                )
            register(self, services)
