"""Search latency over real HTTP: N memories in one user scope, p50/p95 of timed searches."""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from tests.helpers.servers import serve_in_subprocess

SUBJECTS = [
    "Alice",
    "Bob",
    "the user",
    "my sister",
    "our team",
    "the landlord",
    "Dr. Chen",
    "Priya",
]
VERBS = ["visited", "mentioned", "booked", "cancelled", "prefers", "bought", "repaired", "planned"]
OBJECTS = [
    "a trip to Lisbon", "the dentist appointment", "a vegetarian recipe", "the quarterly report",
    "a new bicycle", "the kitchen sink", "tickets for the jazz concert", "a birthday present",
    "the cloud migration", "a yoga class", "the rent payment", "a hiking route in the Alps",
]  # fmt: skip
QUERIES = [
    "when is the dentist appointment", "what did Alice buy", "travel plans to Portugal",
    "who repaired the sink", "music events", "fitness activities", "work deadlines",
    "gift ideas", "what does the user prefer to eat", "outdoor adventures",
]  # fmt: skip


def synthetic_texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} (note {i})"
        for i in range(n)
    ]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure_search(
    n_memories: int = 10_000, n_queries: int = 200, batch: int = 500
) -> dict[str, float]:
    """Start `mnemo serve`, load memories for one user, time searches; returns ms figures."""
    with tempfile.TemporaryDirectory() as data, serve_in_subprocess(Path(data)) as url:
        headers = {"X-API-Key": "dev-key-12345"}
        with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
            texts = synthetic_texts(n_memories)
            started = time.perf_counter()
            for i in range(0, n_memories, batch):
                memories = [{"text": t, "user_id": "bench-user"} for t in texts[i : i + batch]]
                client.post("/v1/long-term-memory/", json={"memories": memories}).raise_for_status()
            ingest_s = time.perf_counter() - started
            timings = []
            for i in range(n_queries):
                body = {
                    "text": f"{QUERIES[i % len(QUERIES)]} {i}",
                    "user_id": {"eq": "bench-user"},
                    "limit": 10,
                }
                t0 = time.perf_counter()
                client.post("/v1/long-term-memory/search", json=body).raise_for_status()
                timings.append((time.perf_counter() - t0) * 1000)
    return {
        "memories": n_memories,
        "ingest_per_s": n_memories / ingest_s,
        "p50_ms": statistics.median(timings),
        "p95_ms": percentile(timings, 0.95),
        "p99_ms": percentile(timings, 0.99),
    }
