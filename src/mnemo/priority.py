"""Background work runs behind requests: a flag on its context, and low-priority threads.

The in-process worker runs extraction, context windows and other tasks in the same process
as the HTTP server, and their embeddings are most of their cost (a session's context
windows are several times the text of the turns that changed them). At equal priority they
take the cores from the requests being answered, and the tail latency of every request
grows. So the worker marks what it runs (`background_work`), and CPU-heavy code, the local
embedder first, sends marked work to a thread whose nice value is raised (Linux gives each
thread its own): when the cores are contended the kernel serves the request threads first,
and when they are idle the background thread runs at full speed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar

log = logging.getLogger(__name__)

# How much lower than the process a background thread runs (nice 0 -> 10: about a tenth of
# a contended core's time; Linux's CFS weights fall ~1.25x per step).
BACKGROUND_NICENESS = 10

_in_background: ContextVar[bool] = ContextVar("mnemo_in_background", default=False)


@contextlib.contextmanager
def background_work() -> Iterator[None]:
    """Mark everything run inside (threads started by anyio.to_thread included) as
    background work."""
    token = _in_background.set(True)
    try:
        yield
    finally:
        _in_background.reset(token)


def in_background() -> bool:
    return _in_background.get()


def low_priority_executor(name: str, workers: int = 1) -> ThreadPoolExecutor:
    """A thread pool whose threads run BACKGROUND_NICENESS lower than the process."""
    return ThreadPoolExecutor(workers, name, initializer=_lower_this_thread)


def thread_niceness() -> int:
    """The calling thread's own nice value."""
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _lower_this_thread() -> None:
    try:  # PRIO_PROCESS with a thread id sets that one thread's nice value on Linux
        os.setpriority(
            os.PRIO_PROCESS, threading.get_native_id(), thread_niceness() + BACKGROUND_NICENESS
        )
    except OSError as exc:  # not permitted here: background work then runs at normal priority
        log.warning("cannot lower the background thread's priority: %s", exc)
