"""Search on behalf of a caller: confine the filter to the key, rank, record the accesses."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from mnemo.auth.access import confine_filter, require
from mnemo.models import Principal, Scope, utcnow
from mnemo.retrieval.pipeline import Retriever, SearchQuery, SearchResult
from mnemo.stores.base import Store

log = logging.getLogger(__name__)


class AccessRecorder:
    """Batches last-accessed updates off the read path (one write per flush, not per hit)."""

    def __init__(self, store: Store, interval_s: float = 1.0) -> None:
        self._store = store
        self._interval_s = interval_s
        self._pending: set[tuple[str, str]] = set()
        self._task: asyncio.Task[None] | None = None

    def record(self, keys: list[tuple[str, str]]) -> None:
        self._pending.update(keys)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mnemo-access-recorder")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def flush(self, at: datetime | None = None) -> None:
        keys, self._pending = sorted(self._pending), set()
        if keys:
            await self._store.touch_memories(keys, at or utcnow())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.flush()
            except Exception:  # the next flush retries; a failed touch must not stop reads
                log.exception("recording memory accesses failed")


class SearchService:
    def __init__(
        self,
        retriever: Retriever,
        recorder: AccessRecorder,
        observe_seconds: Callable[[float], None] | None = None,
    ) -> None:
        self._retriever = retriever
        self._recorder = recorder
        self._observe = observe_seconds

    async def search(self, who: Principal, query: SearchQuery) -> SearchResult:
        require(who, Scope.READ)
        confined = replace(query, filter=confine_filter(who, query.filter))
        started = time.perf_counter()
        result = await self._retriever.search(confined, utcnow())
        if self._observe is not None:
            self._observe(time.perf_counter() - started)
        self._recorder.record([(s.memory.namespace, s.memory.id) for s in result.items])
        return result
