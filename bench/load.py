"""Load: concurrent clients mixing writes and searches against one `mnemo serve` on SQLite and
two `mnemo serve` replicas on one PostgreSQL database; throughput, p50/p95/p99, errors.

    .venv/bin/python bench/load.py                          # 50 agents, 60 s, both setups
    .venv/bin/python bench/load.py --think-ms 0             # saturation: no pause at all
    .venv/bin/python bench/load.py --duration 10 --clients 10 --setups sqlite

The SQLite server runs `--workers 2` processes (one Python process is bound by its
interpreter lock at ~1 busy core: cli/serving.py), which count rate limits in Redis.
Each setup gets fresh servers on free ports (fresh data folders; a fresh PostgreSQL database
on 127.0.0.1:5432, dropped afterwards), stored keys of a few tenants on a roomy rate-limit
tier, and some seeded memories. Every client is an agent in a closed loop (send, wait for the
answer, pause a random 0 to 2 x --think-ms, send again; it starts somewhere in its first
pause) on one replica (round-robin over the replicas), picking each
request at random: PUT working memory with two new turns, POST long-term memories, or a search
in its own user's scope or the whole namespace. Results: a table on stdout, JSON and a PNG in
bench/results/. Target (issue 7): zero errors and p99 under 250 ms.

The pause defaults to 500 ms: an agent calls its memory between LLM calls, which take
longer than that, so 50 agents pausing 500 ms on average are already a heavy load (~90
requests/s here). The clients run in this process, on the same machine as the servers: on
a small machine they compete for the same cores. With --think-ms 0 the run measures
saturation: by Little's law mean latency = clients / throughput, so the p99 target would
need well over 200 requests/s from these 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import httpx
from prometheus_client.parser import text_string_to_metric_families

if __package__ in (None, ""):  # run as `python bench/load.py`: make `bench`, `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.contract.conftest import fresh_postgres_database  # noqa: E402
from tests.helpers.servers import serve_in_subprocess  # noqa: E402

from bench.load_report import Sample, print_table, save_json, save_plot, summarise  # noqa: E402
from bench.search_latency import synthetic_texts  # noqa: E402
from bench.synthetic_memories import query_texts  # noqa: E402
from mnemo.auth.issuing import issue_key  # noqa: E402
from mnemo.cli.stores import opened_store  # noqa: E402
from mnemo.config import Settings  # noqa: E402
from mnemo.heap import settle_heap  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SETUPS = ("sqlite", "postgres")
TENANTS = 5  # namespaces, one stored key each; client i works in tenant i % TENANTS
BENCH_TIER = "load"
OPERATIONS = ("put_working_memory", "create_memories", "search")
MIX = (0.3, 0.2, 0.5)  # how often each operation is picked
WINDOW = 10  # turns a client keeps sending in its working memory (PUT replaces the session)
LE_TARGET = "0.25"  # the servers' latency histogram bucket at the p99 target (250 ms)


@dataclass(frozen=True)
class Target:
    name: str
    urls: list[str]
    keys: list[str]  # one per tenant


def server_env(database_url: str | None) -> dict[str, str]:
    """A roomy rate-limit tier for the bench keys (the limiter still runs on every request)."""
    tiers = {"standard": "100/minute; 20/10 seconds", BENCH_TIER: "10000000/minute", "operator": ""}
    env = {"MNEMO_RATE_LIMITS__TIERS": json.dumps(tiers), "MNEMO_OBSERVABILITY__JSON_LOGS": "false"}
    env["MNEMO_DATABASE_URL"] = database_url or ""
    return env


async def make_keys(settings: Settings) -> list[str]:
    async with opened_store(settings) as store:
        cap = settings.limits.max_keys_per_namespace
        return [
            (await issue_key(store, cap, namespace=f"load-{t}", rate_tier=BENCH_TIER))[0]
            for t in range(TENANTS)
        ]


@asynccontextmanager
async def sqlite_target(folder: Path, workers: int, redis_url: str) -> AsyncIterator[Target]:
    data = folder / "sqlite"
    keys = await make_keys(Settings(data_dir=data, database_url=None))
    env = server_env(None)
    if workers > 1:  # several processes count rate limits in one place (cli/serving.py)
        env.update(MNEMO_WORKERS=str(workers), MNEMO_REDIS_URL=redis_url)
    with serve_in_subprocess(data, env) as url:
        yield Target(f"sqlite, 1 server ({workers} workers)", [url], keys)


@asynccontextmanager
async def postgres_target(folder: Path, args: argparse.Namespace) -> AsyncIterator[Target]:
    replicas = args.replicas
    async with fresh_postgres_database() as database_url:
        keys = await make_keys(Settings(data_dir=folder / "pg-keys", database_url=database_url))
        env = server_env(database_url)
        # Replicas count rate limits in one place, as in production (README).
        env.update(MNEMO_REDIS_URL=args.redis_url, MNEMO_WORKERS=str(args.replica_workers))
        with ExitStack() as servers:
            urls = [
                servers.enter_context(serve_in_subprocess(folder / f"pg-{i}", env))
                for i in range(replicas)
            ]
            yield Target(f"postgres, {replicas} replicas x {args.replica_workers}", urls, keys)


async def seed(target: Target, clients: int, per_tenant: int) -> None:
    """Memories for every tenant (spread over the clients' users), and a first search on every
    replica, so that no client pays for loading the embedding model."""
    texts = synthetic_texts(per_tenant * TENANTS, seed=3)
    async with httpx.AsyncClient(timeout=600) as http:
        for t, key in enumerate(target.keys):
            mine = texts[t * per_tenant : (t + 1) * per_tenant]
            for start in range(0, len(mine), 100):
                memories = [
                    {"text": text, "user_id": f"user-{(start + j) % clients}"}
                    for j, text in enumerate(mine[start : start + 100])
                ]
                response = await http.post(
                    f"{target.urls[0]}/v1/long-term-memory/",
                    json={"memories": memories},
                    headers={"X-API-Key": key},
                )
                response.raise_for_status()
        for url in target.urls:
            warm = await http.post(
                f"{url}/v1/long-term-memory/search",
                json={"text": "warm up", "limit": 1},
                headers={"X-API-Key": target.keys[0]},
            )
            warm.raise_for_status()


@dataclass
class Client:
    """One agent: its tenant's key, its user, its session and the turns it keeps sending."""

    number: int
    key: str
    rng: random.Random
    texts: list[str]
    queries: list[str]
    turns: list[dict[str, str]]
    sent: int = 0

    def request(self) -> tuple[str, str, str, dict[str, object]]:
        """(operation, method, path, body) of the next request, picked at random."""
        operation = self.rng.choices(OPERATIONS, MIX)[0]
        user = f"user-{self.number}"
        if operation == "put_working_memory":
            now = datetime.now(UTC).isoformat()
            for role in ("user", "assistant"):
                self.sent += 1
                content = self.rng.choice(self.texts)
                turn_id = f"c{self.number}-t{self.sent}"
                self.turns.append({"id": turn_id, "role": role, "content": content,
                                   "created_at": now})  # fmt: skip
            self.turns = self.turns[-WINDOW:]
            body: dict[str, object] = {"messages": self.turns, "user_id": user}
            return operation, "PUT", f"/v1/working-memory/session-{self.number}", body
        if operation == "create_memories":
            count = self.rng.randint(1, 3)
            memories = [
                {"text": self.rng.choice(self.texts), "user_id": user} for _ in range(count)
            ]
            return operation, "POST", "/v1/long-term-memory/", {"memories": memories}
        body = {"text": self.rng.choice(self.queries), "limit": 10}
        if self.rng.random() < 0.7:  # mostly in the user's own scope, sometimes namespace-wide
            body["user_id"] = {"eq": user}
        return operation, "POST", "/v1/long-term-memory/search", body


async def run_client(
    client: Client, http: aiohttp.ClientSession, started: float, deadline: float, think_s: float
) -> list[Sample]:
    samples = []
    headers = {"X-API-Key": client.key}
    # Agents do not start in lockstep: each begins somewhere in the first think period.
    await asyncio.sleep(client.rng.uniform(0, 2 * think_s))
    while time.perf_counter() < deadline:
        operation, method, path, body = client.request()
        sent = time.perf_counter()
        try:
            async with http.request(method, path, json=body, headers=headers) as response:
                await response.read()
                status = str(response.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            status = type(exc).__name__
        done = time.perf_counter()
        samples.append(Sample(operation, status, (done - sent) * 1000, sent - started))
        if think_s:
            await asyncio.sleep(client.rng.uniform(0, 2 * think_s))
    return samples


async def drive(
    target: Target, args: argparse.Namespace
) -> tuple[list[Sample], float, tuple[float, float]]:
    """All clients for the duration; returns every request, the elapsed seconds and the
    servers' own timings at the end of the warm-up."""
    texts = synthetic_texts(2_000, seed=5)
    queries = query_texts(500)
    # aiohttp, not httpx: its C parser spends about half the CPU per request, and on a small
    # machine the clients share the cores with the servers.
    https = [
        aiohttp.ClientSession(
            base_url=url,
            timeout=aiohttp.ClientTimeout(total=120),
            connector=aiohttp.TCPConnector(limit=args.clients),
        )
        for url in target.urls
    ]
    clients = [
        Client(i, target.keys[i % TENANTS], random.Random(i), texts, queries, [])
        for i in range(args.clients)
    ]
    try:
        started = time.perf_counter()
        deadline = started + args.duration
        runs = [
            run_client(c, https[c.number % len(https)], started, deadline, args.think_ms / 1000)
            for c in clients
        ]
        everyone = asyncio.gather(*runs)
        await asyncio.sleep(args.warmup_s)
        before = await server_timings(target)
        per_client = await everyone
        elapsed = time.perf_counter() - started
    finally:
        for http in https:
            await http.close()
    return [s for samples in per_client for s in samples], elapsed, before


async def server_timings(target: Target) -> tuple[float, float]:
    """(requests, requests answered within the target) by the servers' own clocks, summed
    over the replicas (their /metrics latency histograms)."""
    total = within = 0.0
    async with httpx.AsyncClient(timeout=60) as http:
        for url in target.urls:
            text = (await http.get(f"{url}/metrics")).text
            for family in text_string_to_metric_families(text):
                if family.name != "mnemo_http_request_duration_seconds":
                    continue
                for sample in family.samples:
                    if sample.name.endswith("_count"):
                        total += sample.value
                    elif sample.name.endswith("_bucket") and sample.labels["le"] == LE_TARGET:
                        within += sample.value
    return total, within


async def measure(name: str, folder: Path, args: argparse.Namespace) -> dict[str, object]:
    target_of = (
        sqlite_target(folder, args.workers, args.redis_url)
        if name == "sqlite"
        else postgres_target(folder, args)
    )
    async with target_of as target:
        print(f"{target.name}: seeding {args.seed_per_tenant * TENANTS} memories ...", flush=True)
        await seed(target, args.clients, args.seed_per_tenant)
        print(f"{target.name}: {args.clients} clients for {args.duration:g} s ...", flush=True)
        settle_heap()  # so that the clients' own collections do not stall their clocks
        samples, elapsed, before = await drive(target, args)
        after = await server_timings(target)
    counted = [s for s in samples if s.at_s >= args.warmup_s]
    summary = summarise(target.name, counted, elapsed - args.warmup_s)
    warmup = [s.ms for s in samples if s.at_s < args.warmup_s]
    summary["warmup"] = {"requests": len(warmup), "over_target": sum(ms > 250 for ms in warmup)}
    answered = after[0] - before[0]
    # Client-measured latency includes the clients' own queueing on a shared machine.
    summary["server_share_over_target"] = (answered - (after[1] - before[1])) / max(answered, 1)
    return summary


async def main_async(args: argparse.Namespace) -> list[dict[str, object]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="mnemo-load-") as folder:
        for name in args.setups:
            results.append(await measure(name, Path(folder), args))
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per setup")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument(
        "--setups", default=",".join(SETUPS), help="comma-separated: sqlite,postgres"
    )
    parser.add_argument(
        "--replicas", type=int, default=2, help="mnemo serve replicas on PostgreSQL"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="processes of the SQLite server (--workers)"
    )
    parser.add_argument(
        "--replica-workers", type=int, default=1, help="processes of each PostgreSQL replica"
    )
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/14", help="rate limits of >1 worker"
    )
    parser.add_argument(
        "--seed-per-tenant", type=int, default=100, help="memories per tenant first"
    )
    parser.add_argument(
        "--warmup-s",
        type=float,
        default=5.0,
        help="seconds of load at the start left out of the figures (reported apart)",
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=500.0,
        help="mean pause of an agent between requests (0: saturation)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "load.json", help="JSON results")
    args = parser.parse_args(argv)
    args.setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    unknown = set(args.setups) - set(SETUPS)
    if unknown or args.clients < 1 or args.duration <= args.warmup_s or args.warmup_s < 0:
        parser.error(f"bad --setups {sorted(unknown)}, --clients or --duration")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()
    results = asyncio.run(main_async(args))
    machine = {
        "cpus": os.cpu_count(),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
    }
    print_table(results, args, machine)
    save_json(args.out, results, args, machine)
    plot = args.out.with_suffix(".png")
    if save_plot(plot, results):
        print(f"wrote {args.out} and {plot}")
    else:
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
