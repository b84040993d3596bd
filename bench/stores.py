"""SQLite vs PostgreSQL stores side by side: ingest rate, search p50/p95 and HNSW recall@10."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import psycopg  # noqa: E402
from pgvector.psycopg import register_vector_async  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from bench.synthetic_memories import (  # noqa: E402
    DIMENSION,
    NAMESPACE,
    Corpus,
    query_texts,
    unit_vectors,
)
from mnemo.filters import MemoryFilter, TagFilter  # noqa: E402
from mnemo.models import utcnow  # noqa: E402
from mnemo.stores.base import CandidateQuery, Store, VectorRecord  # noqa: E402
from mnemo.stores.postgres import PostgresStore  # noqa: E402
from mnemo.stores.postgres_search import HNSW_EF_SEARCH  # noqa: E402
from mnemo.stores.postgres_statements import JSONB_COLUMNS  # noqa: E402
from mnemo.stores.records import MEMORY_COLUMNS, memory_to_row  # noqa: E402
from mnemo.stores.sqlite import SQLiteStore  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "stores.json"
API_ROWS, API_BATCH, BULK_BATCH = 5_000, 500, 10_000
# What the server asks for: limit 10 + the re-rank window of 200 (retrieval/pipeline.py).
DEPTH = 210


@dataclass
class Row:
    store: str
    memories: int
    api_ingest_per_s: float = 0.0
    bulk_load_per_s: float = 0.0
    index_build_s: float = 0.0
    user_p50_ms: float = 0.0
    user_p95_ms: float = 0.0
    wide_p50_ms: float = 0.0
    wide_p95_ms: float = 0.0
    wide_vector_p50_ms: float = 0.0
    wide_vector_p95_ms: float = 0.0
    wide_recall_at_10: float = 0.0
    notes: list[str] = field(default_factory=list)


async def api_ingest(store: Store, corpus: Corpus, rows: int) -> float:
    """Memories/s through the store's own upsert_memories, batches of API_BATCH."""
    started = time.perf_counter()
    for start in range(0, rows, API_BATCH):
        stop = min(rows, start + API_BATCH)
        await store.upsert_memories(
            [VectorRecord(corpus.memory(i), corpus.vectors[i]) for i in range(start, stop)], []
        )
    return rows / (time.perf_counter() - started)


async def bulk_sqlite(store: SQLiteStore, corpus: Corpus, start: int) -> None:
    """One transaction per batch through upsert_memories: SQLite's fastest path."""
    for first in range(start, len(corpus.texts), BULK_BATCH):
        stop = min(len(corpus.texts), first + BULK_BATCH)
        await store.upsert_memories(
            [VectorRecord(corpus.memory(i), corpus.vectors[i]) for i in range(first, stop)], []
        )


async def bulk_postgres(url: str, corpus: Corpus, start: int) -> float:
    """COPY the rest without the ANN and text indexes, then build them; returns build seconds."""
    columns = [*MEMORY_COLUMNS, "embedding", "terms"]
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await register_vector_async(conn)
        indexes = await _drop_indexes(conn, ["memories_embedding_hnsw", "memories_terms"])
        types = await _column_types(conn, columns)
        sql = f"COPY memories ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        async with conn.cursor().copy(sql) as copy:
            copy.set_types(types)
            for i in range(start, len(corpus.texts)):
                row = memory_to_row(corpus.memory(i))
                for name in JSONB_COLUMNS & row.keys():
                    row[name] = Jsonb(row[name], dumps=str)  # already JSON text
                await copy.write_row(
                    [*(row[c] for c in MEMORY_COLUMNS), corpus.vectors[i], row["terms"]]
                )
        started = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '6GB'")
        await conn.execute("SET max_parallel_maintenance_workers = 1")
        for ddl in indexes:
            await conn.execute(ddl)
        build_s = time.perf_counter() - started
        await conn.execute("VACUUM (ANALYZE) memories")
    return build_s


async def _drop_indexes(conn: psycopg.AsyncConnection[Any], names: list[str]) -> list[str]:
    cursor = await conn.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ANY(%s)",
        (names,),
    )
    ddl = [row[0] for row in await cursor.fetchall()]
    for name in names:
        await conn.execute(f"DROP INDEX {name}")
    return ddl


async def _column_types(conn: psycopg.AsyncConnection[Any], columns: list[str]) -> list[str]:
    cursor = await conn.execute(
        "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
        "WHERE attrelid = 'memories'::regclass AND attnum > 0"
    )
    types = {str(name): str(kind) for name, kind in await cursor.fetchall()}
    return [types[c] for c in columns]


async def timed_searches(store: Store, queries: list[CandidateQuery]) -> tuple[float, float]:
    for query in queries[:5]:  # warm caches (and the SQLite store's in-process index)
        await store.find_candidates(query)
    timings = []
    for query in queries:
        started = time.perf_counter()
        await store.find_candidates(query)
        timings.append((time.perf_counter() - started) * 1000)
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * len(ordered)))]


def search_queries(
    corpus: Corpus, count: int, seed: int, scoped: bool, hybrid: bool = True
) -> list[CandidateQuery]:
    """Queries as the server sends them (vector + text, or vector only), by user or wide."""
    rng = random.Random(seed)
    vectors = unit_vectors(count, corpus.intrinsic_dim, seed)
    now = utcnow()
    queries = []
    for vector, text in zip(vectors, query_texts(count, seed), strict=True):
        memory_filter = MemoryFilter(namespace=TagFilter(eq=NAMESPACE))
        if scoped:
            memory_filter.user_id = TagFilter(eq=rng.choice(corpus.users))
        queries.append(
            CandidateQuery(
                memory_filter,
                now,
                vector,
                text if hybrid else None,
                vector_limit=DEPTH,
            )
        )
    return queries


async def recall_at_10(store: Store, corpus: Corpus, count: int) -> float:
    """Namespace-wide vector search against exact brute force over every memory (numpy)."""
    found = 0
    wide = MemoryFilter(namespace=TagFilter(eq=NAMESPACE))
    for vector in unit_vectors(count, corpus.intrinsic_dim, seed=99):
        truth = set(np.argpartition(-(corpus.vectors @ vector), 10)[:10].tolist())
        result = await store.find_candidates(
            CandidateQuery(wide, utcnow(), vector, vector_limit=DEPTH)
        )
        best = sorted(result.vector, key=result.vector.__getitem__, reverse=True)[:10]
        found += len(truth & {int(key[1][1:]) for key in best})
    return found / (10 * count)


def progress(row: Row, step: str) -> None:
    """Long runs (1M memories take an hour or more) say where they are, on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {row.store} {row.memories:,}: {step}", file=sys.stderr)


async def measure(store: Store, row: Row, corpus: Corpus, args: argparse.Namespace) -> Row:
    progress(row, "loaded; timing searches")
    load_before = os.getloadavg()[0]
    user_q = search_queries(corpus, args.queries, seed=1, scoped=True)
    row.user_p50_ms, row.user_p95_ms = await timed_searches(store, user_q)
    wide_q = search_queries(corpus, args.queries, seed=2, scoped=False)
    row.wide_p50_ms, row.wide_p95_ms = await timed_searches(store, wide_q)
    vector_q = search_queries(corpus, args.queries, seed=3, scoped=False, hybrid=False)
    row.wide_vector_p50_ms, row.wide_vector_p95_ms = await timed_searches(store, vector_q)
    progress(row, "measuring recall")
    row.wide_recall_at_10 = await recall_at_10(store, corpus, args.recall_queries)
    # The machine may be shared: say how busy it was while searches were timed.
    row.notes.append(f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    return row


async def run_sqlite(corpus: Corpus, args: argparse.Namespace, folder: Path) -> Row:
    row = Row("sqlite", len(corpus.texts))
    store = SQLiteStore(folder / f"bench-{len(corpus.texts)}.db", DIMENSION)
    await store.open()
    try:
        api_rows = min(API_ROWS, len(corpus.texts))
        row.api_ingest_per_s = await api_ingest(store, corpus, api_rows)
        started = time.perf_counter()
        await bulk_sqlite(store, corpus, api_rows)
        row.bulk_load_per_s = _rate(len(corpus.texts) - api_rows, time.perf_counter() - started)
        return await measure(store, row, corpus, args)
    finally:
        await store.close()


async def run_postgres(corpus: Corpus, args: argparse.Namespace) -> Row:
    row = Row("postgres", len(corpus.texts))
    name = f"mnemo_bench_{len(corpus.texts)}"
    async with await psycopg.AsyncConnection.connect(
        f"{args.pg_server}/postgres", autocommit=True
    ) as admin:
        url = f"{args.pg_server}/{name}"
        reused = args.reuse and await _loaded(admin, name, url, len(corpus.texts))
        if not reused:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await admin.execute(f"CREATE DATABASE {name}")
        store = PostgresStore(url, DIMENSION, ef_search=args.ef_search)
        await store.open()
        try:
            shared_buffers = await admin.execute("SHOW shared_buffers")
            row.notes.append(f"shared_buffers {(await shared_buffers.fetchone() or ['?'])[0]}")
            if reused:
                row.notes.append(await prewarm(url))
                row.notes.append("reused a database loaded by an earlier run (--reuse)")
                return await measure(store, row, corpus, args)
            api_rows = min(API_ROWS, len(corpus.texts))
            row.api_ingest_per_s = await api_ingest(store, corpus, api_rows)
            started = time.perf_counter()
            row.index_build_s = await bulk_postgres(url, corpus, api_rows)
            load_s = time.perf_counter() - started - row.index_build_s
            row.bulk_load_per_s = _rate(len(corpus.texts) - api_rows, load_s)
            row.notes.append(await prewarm(url))
            return await measure(store, row, corpus, args)
        finally:
            await store.close()
            if not args.keep:
                await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


async def prewarm(url: str) -> str:
    """Read the table and its indexes into shared_buffers (pg_prewarm), as a server that has
    been answering searches for a while has them: timings are of the steady state, not of
    the first reads from disk after a restart or a load."""
    relations = ["memories", "memories_embedding_hnsw", "memories_terms", "memories_user"]
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except psycopg.Error as exc:
            return f"not prewarmed ({exc.diag.message_primary})"
        for relation in relations:
            await conn.execute("SELECT pg_prewarm(%s)", (relation,))
    return "prewarmed with pg_prewarm"


async def _loaded(admin: psycopg.AsyncConnection[Any], name: str, url: str, rows: int) -> bool:
    """Whether an earlier --keep run left this database fully loaded (same corpus size)."""
    cursor = await admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    if await cursor.fetchone() is None:
        return False
    async with await psycopg.AsyncConnection.connect(url) as conn:
        try:
            count = await conn.execute("SELECT count(*) FROM memories")
        except psycopg.Error:
            return False
        found = await count.fetchone()
    return found is not None and int(found[0]) == rows


def _rate(rows: int, seconds: float) -> float:
    return rows / seconds if rows and seconds > 0 else 0.0


HEADER = (
    f"{'store':<9}{'memories':>10}{'API ins/s':>10}{'bulk/s':>8}{'index s':>8}"
    f"{'user p50':>9}{'user p95':>9}{'wide p50':>9}{'wide p95':>9}"
    f"{'vec p50':>8}{'vec p95':>8}{'recall@10':>10}"
)
LEGEND = (
    "ms per find_candidates call. user: hybrid (vector + keywords) inside one user's memories; "
    "wide: hybrid over the whole namespace; vec: vector-only over the whole namespace; "
    "recall@10: namespace-wide vector top 10 vs exact numpy brute force."
)


def format_row(r: Row) -> str:
    return (
        f"{r.store:<9}{r.memories:>10,}{r.api_ingest_per_s:>10,.0f}{r.bulk_load_per_s:>8,.0f}"
        f"{r.index_build_s:>8.1f}{r.user_p50_ms:>9.2f}{r.user_p95_ms:>9.2f}"
        f"{r.wide_p50_ms:>9.1f}{r.wide_p95_ms:>9.1f}{r.wide_vector_p50_ms:>8.1f}"
        f"{r.wide_vector_p95_ms:>8.1f}{r.wide_recall_at_10:>10.3f}"
    )


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


async def main_async(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(dir=args.data_dir) as folder:
        for size in args.sizes:
            corpus = Corpus.make(size, args.users, args.intrinsic_dim)
            for store_name in args.stores:
                if store_name == "sqlite":
                    result = await run_sqlite(corpus, args, Path(folder))
                else:
                    result = await run_postgres(corpus, args)
                rows.append(result)
                print(format_row(result), flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10k,100k,1M", help="comma-separated: 10k,100k,1M")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200, help="timed searches per scope")
    parser.add_argument("--recall-queries", type=int, default=50)
    parser.add_argument("--intrinsic-dim", type=int, default=32, help="0: isotropic random")
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--ef-search", type=int, default=HNSW_EF_SEARCH)
    parser.add_argument("--data-dir", default=None, help="where the SQLite files go")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure a database an earlier --keep run loaded, instead of loading it again",
    )
    args = parser.parse_args()
    args.sizes = [parse_size(s) for s in args.sizes.split(",")]
    args.stores = args.stores.split(",")
    rows = asyncio.run(main_async(args))
    print(f"\n{LEGEND}")
    for row in rows:
        print(f"{row.store} {row.memories:,}: {'; '.join(row.notes)}")
    save(rows, args)
    return 0


def save(rows: list[Row], args: argparse.Namespace) -> None:
    """Merge into the results file: a run at one size keeps the rows of the other sizes."""
    kept = json.loads(RESULTS.read_text())["rows"] if RESULTS.exists() else []
    fresh = {(r.store, r.memories) for r in rows}
    run = {k: v for k, v in vars(args).items() if k not in {"sizes", "stores"}}
    merged = [r for r in kept if (r["store"], r["memories"]) not in fresh]
    merged += [{**asdict(r), "run": run, "at": time.strftime("%Y-%m-%d %H:%M")} for r in rows]
    merged.sort(key=lambda r: (r["memories"], r["store"]))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"rows": merged}, indent=2))
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    raise SystemExit(main())
