"""Prometheus metrics of one app: its own registry, refreshed from the services on scrape.

Under `mnemo serve --workers N` (cli/serving.py) prometheus_client runs in multiprocess
mode (PROMETHEUS_MULTIPROC_DIR): counters and histograms add up over the processes, gauges
of this process's own counts (embedding cache, LLM use) are summed over the live ones, and
gauges read from the database (tasks, memories) take the most recent scrape's values.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from mnemo.filters import MemoryFilter, TagFilter
from mnemo.models import MemoryType

if TYPE_CHECKING:
    from mnemo.wiring import Services

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Everything /metrics exports. No global registry: two apps in one process stay apart."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter(
            "mnemo_http_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "mnemo_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.search_latency = Histogram(
            "mnemo_search_duration_seconds", "Search pipeline latency (embedding included)",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.embed_cache = Gauge(
            "mnemo_embedding_query_cache", "Query-embedding cache lookups", ["result"],
            registry=r, multiprocess_mode="livesum",
        )  # fmt: skip
        self.llm_tokens = Gauge(
            "mnemo_llm_tokens", "LLM tokens used, by purpose", ["purpose", "kind"],
            registry=r, multiprocess_mode="livesum",
        )  # fmt: skip
        self.llm_calls = Gauge(
            "mnemo_llm_calls", "LLM calls, by purpose", ["purpose"],
            registry=r, multiprocess_mode="livesum",
        )  # fmt: skip
        self.tasks = Gauge(
            "mnemo_tasks", "Background tasks by type and state", ["type", "state"],
            registry=r, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self.memories = Gauge(
            "mnemo_memories", "Active memories by type (all namespaces)", ["memory_type"],
            registry=r, multiprocess_mode="mostrecent",
        )  # fmt: skip

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    async def refresh(self, services: Services) -> None:
        """Read the gauges' current values from the services (called on each scrape)."""
        self.embed_cache.labels("hit").set(services.embedder.hits)
        self.embed_cache.labels("miss").set(services.embedder.misses)
        meter = getattr(services.llm, "meter", None)
        if meter is not None:
            for purpose, usage in meter.snapshot().items():
                self.llm_calls.labels(purpose).set(usage.get("calls", 0))
                for kind in ("prompt_tokens", "completion_tokens"):
                    self.llm_tokens.labels(purpose, kind).set(usage.get(kind, 0))
        for (task_type, state), count in (await services.jobs.queue.counts()).items():
            self.tasks.labels(task_type, str(state)).set(count)
        now = datetime.now(UTC)
        for memory_type in MemoryType:
            only = MemoryFilter(memory_type=TagFilter(eq=memory_type.value))
            page = await services.store.list_memories(only, now, limit=0, offset=0)
            self.memories.labels(memory_type.value).set(page.total)

    def render(self) -> bytes:
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not folder:
            return generate_latest(self.registry)
        every_process = CollectorRegistry()
        MultiProcessCollector(every_process, path=folder)  # type: ignore[no-untyped-call]
        return generate_latest(every_process)
