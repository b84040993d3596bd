"""Benchmark local embedding, side by side in one run: mnemo's onnxruntime and numpy forward
passes (and sentence-transformers on torch when it is installed): batch throughput and
single-query latency, with the machine's load average recorded alongside."""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnemo.embedders.local import LocalEmbedder
from mnemo.embedders.minilm_weights import default_model_dir
from mnemo.embedders.onnx_forward import is_onnx_available

Encode = Callable[[Sequence[str]], NDArray[np.float32]]
NUMPY = "numpy"
ONNX = "onnx"
ONNX_2 = "onnx, 2 intra-op threads"
TORCH = "torch (sentence-transformers)"

_SUBJECTS = ["The user", "Alice", "The agent", "Our team", "The customer", "Bob from finance"]
_VERBS = ["prefers", "asked about", "scheduled", "cancelled", "mentioned", "is worried about"]
_OBJECTS = [
    "the quarterly budget review",
    "a vegetarian restaurant near the office",
    "Python 3.11",
    "the deadline on 2024-05-17",
    "flights to Zürich",
    "the database migration",
    "weekly one-on-one meetings",
    "dark mode in the editor",
    "the latency of the search API",
]
_TAILS = [
    "because the previous attempt failed",
    "and wants a reminder the day before",
    "after the incident last Tuesday",
    "but only if the cost stays under $500",
    "while travelling without a laptop",
    "so that the on-call rotation is fair",
]


def make_sentences(n: int, seed: int = 0) -> list[str]:
    """Deterministic memory-like notes of varied length (roughly 8 to 90 tokens)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS)]
        parts += rng.sample(_TAILS, rng.randint(0, 4))
        out.append(" ".join(parts) + rng.choice([".", "!", "?", "."]))
    return out


def make_queries(n: int, seed: int = 1) -> list[str]:
    """`n` distinct short search queries (6 to 14 tokens), at most 324."""
    combos = list(itertools.product(_SUBJECTS, _VERBS, _OBJECTS))
    picked = random.Random(seed).sample(combos, n)
    return [f"{subject} {verb} {obj}?" for subject, verb, obj in picked]


def _torch_encoder(batch: int) -> Encode | None:
    """sentence-transformers on the same packaged model, or None if it is not installed."""
    # The model directory is local; never let the hub client try the network.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        st = importlib.import_module("sentence_transformers")
    except ImportError:
        return None
    model: Any = st.SentenceTransformer(str(default_model_dir()), device="cpu")

    def encode(texts: Sequence[str]) -> NDArray[np.float32]:
        vectors = model.encode(
            list(texts), batch_size=batch, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    return encode


@dataclass
class _Runs:
    """Seconds per batch run and per query, for every engine, and the load seen meanwhile."""

    batch_s: dict[str, list[float]]
    query_s: dict[str, list[float]]
    vectors: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)


def _timed(fn: Encode, texts: Sequence[str]) -> tuple[float, NDArray[np.float32]]:
    start = time.perf_counter()
    vectors = fn(texts)
    return time.perf_counter() - start, vectors


def _rotated(names: list[str], turn: int) -> list[str]:
    """Who goes first changes every turn, so drift in the machine's load hits all alike."""
    k = turn % len(names)
    return names[k:] + names[:k]


def _interleave(
    engines: dict[str, Encode], texts: Sequence[str], queries: Sequence[str], rounds: int
) -> _Runs:
    """`rounds` rounds; each runs every engine on the whole batch set, then on a share of the
    queries, one query at a time and every engine on each query before the next."""
    names = list(engines)
    runs = _Runs({n: [] for n in names}, {n: [] for n in names})
    for r in range(rounds):
        runs.loads.append(os.getloadavg()[0])
        for name in _rotated(names, r):
            elapsed, runs.vectors[name] = _timed(engines[name], texts)
            runs.batch_s[name].append(elapsed)
        for i, query in enumerate(queries[r::rounds]):
            for name in _rotated(names, i):
                runs.query_s[name].append(_timed(engines[name], [query])[0])
    runs.loads.append(os.getloadavg()[0])
    return runs


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _row(name: str, runs: _Runs, n: int) -> dict[str, object]:
    batch_s, query_s = runs.batch_s[name], runs.query_s[name]
    return {
        "backend": name,
        "sentences_per_s": round(n / statistics.median(batch_s), 1),
        "best_sentences_per_s": round(n / min(batch_s), 1),
        "query_p50_ms": round(1000 * statistics.median(query_s), 2),
        "query_p95_ms": round(1000 * _percentile(query_s, 0.95), 2),
        "queries": len(query_s),
        "batch_runs": len(batch_s),
    }


def _add_ratios(rows: dict[str, dict[str, object]], runs: _Runs, base: str) -> None:
    """Each engine against `base`: medians of the per-round batch-time ratios (each round's
    engines ran back to back, under the same load) and of the per-query latency ratios."""
    for name, row in rows.items():
        if name == base:
            continue
        rounds = zip(runs.batch_s[base], runs.batch_s[name], strict=True)
        queries = zip(runs.query_s[base], runs.query_s[name], strict=True)
        row[f"throughput_x_{base}"] = round(statistics.median(b / e for b, e in rounds), 3)
        row[f"query_speedup_x_{base}"] = round(statistics.median(b / e for b, e in queries), 3)
        cosines = np.sum(runs.vectors[base] * runs.vectors[name], axis=1)
        row[f"min_cosine_vs_{base}"] = round(float(cosines.min()), 8)


def _local_embedders(batch: int) -> dict[str, LocalEmbedder]:
    embedders = {NUMPY: LocalEmbedder(batch_size=batch, backend="numpy")}
    if is_onnx_available():
        embedders[ONNX] = LocalEmbedder(batch_size=batch, backend="onnx")
        # Two threads per call leave no core for a second worker: this one runs one batch
        # at a time (LocalEmbedder's default), the others a batch per worker thread.
        embedders[ONNX_2] = LocalEmbedder(batch_size=batch, backend="onnx", onnx_threads=2)
    return embedders


def measure_throughput(
    n_sentences: int = 512, batch: int = 32, n_queries: int = 200, rounds: int = 6
) -> dict[str, object]:
    """Measure every available engine on identical inputs, interleaved; see _interleave.

    Returns {"rows": one dict per engine, "load_avg_1m": [at each round's start, at the
    end], "cpus": ...}. Rows carry median and best sentences/s over the batch runs, query
    p50/p95 in ms, and (not the numpy row) ratios to numpy plus their worst cosine to it.
    """
    texts, queries = make_sentences(n_sentences), make_queries(n_queries)
    embedders = _local_embedders(batch)
    engines: dict[str, Encode] = {name: e.embed for name, e in embedders.items()}
    torch_encode = _torch_encoder(batch)
    if torch_encode is not None:
        engines[TORCH] = torch_encode
    for fn in engines.values():  # warm-up: page in weights, start BLAS and worker threads
        fn(texts[: 4 * batch])
        fn(make_queries(20, seed=2))
    runs = _interleave(engines, texts, queries, rounds)
    rows = {name: _row(name, runs, n_sentences) for name in engines}
    _add_ratios(rows, runs, NUMPY)
    rows[NUMPY]["blas_pinned"] = embedders[NUMPY].blas_pinned
    for embedder in embedders.values():
        embedder.close()
    for name in (ONNX, TORCH):
        rows.setdefault(name, {"backend": name, "sentences_per_s": "not installed"})
    return {"rows": list(rows.values()), "load_avg_1m": runs.loads, "cpus": os.cpu_count()}


def print_report(result: dict[str, Any]) -> None:
    rows: list[dict[str, object]] = result["rows"]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)))
    loads = ", ".join(f"{x:.2f}" for x in result["load_avg_1m"])
    print(f"1-min load average, each round's start and the end ({result['cpus']} CPUs): {loads}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=512)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    result = measure_throughput(args.sentences, args.batch, args.queries, args.rounds)
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
