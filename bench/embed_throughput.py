"""Benchmark embedding throughput: mnemo's numpy MiniLM against sentence-transformers on torch."""

from __future__ import annotations

import argparse
import importlib
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnemo.embedders.local import LocalEmbedder, default_model_dir

Encode = Callable[[Sequence[str]], NDArray[np.float32]]
NUMPY = "numpy (mnemo LocalEmbedder)"
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


def _timed(fn: Encode, texts: Sequence[str]) -> tuple[float, NDArray[np.float32]]:
    start = time.perf_counter()
    vectors = fn(texts)
    return time.perf_counter() - start, vectors


def _interleaved(
    engines: dict[str, Encode], texts: Sequence[str], rounds: int
) -> tuple[dict[str, list[float]], dict[str, NDArray[np.float32]]]:
    """Run every engine once per round, alternating who goes first, so drift hits all alike."""
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    vectors: dict[str, NDArray[np.float32]] = {}
    names = list(engines)
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            elapsed, vectors[name] = _timed(engines[name], texts)
            seconds[name].append(elapsed)
    return seconds, vectors


def _row(backend: str, batch_s: list[float], query_s: list[float], n: int) -> dict[str, object]:
    return {
        "backend": backend,
        "status": "ok",
        "sentences_per_s": round(n / statistics.median(batch_s), 1),
        "best_sentences_per_s": round(n / min(batch_s), 1),
        "query_p50_ms": round(1000 * statistics.median(query_s), 2),
        "runs": len(batch_s),
    }


def _compare(
    rows: dict[str, dict[str, object]],
    batch_s: dict[str, list[float]],
    vectors: dict[str, NDArray[np.float32]],
) -> None:
    """Add torch-relative figures to the numpy row."""
    ratio = statistics.median(batch_s[TORCH]) / statistics.median(batch_s[NUMPY])
    cosines = np.sum(vectors[NUMPY] * vectors[TORCH], axis=1)
    rows[NUMPY]["ratio_vs_torch"] = round(ratio, 3)
    rows[NUMPY]["min_cosine_vs_torch"] = round(float(cosines.min()), 8)


def measure_throughput(n_sentences: int = 512, batch: int = 32) -> list[dict[str, object]]:
    """Measure numpy vs torch on identical inputs; one row per backend.

    Batch runs and single-query runs alternate between the backends. Rows carry median and
    best sentences/s and median single-query latency; the numpy row adds its throughput
    ratio to torch and the worst cosine between the two backends' vectors.
    """
    texts = make_sentences(n_sentences)
    local = LocalEmbedder(batch_size=batch)
    engines: dict[str, Encode] = {NUMPY: local.embed}
    torch_encode = _torch_encoder(batch)
    if torch_encode is not None:
        engines[TORCH] = torch_encode
    for fn in engines.values():  # warm-up: page in weights, start BLAS and worker threads
        fn(texts[: 4 * batch])
    batch_s, vectors = _interleaved(engines, texts, rounds=7)
    query_s: dict[str, list[float]] = {name: [] for name in engines}
    for i, query in enumerate(make_sentences(60, seed=1)):
        for name in list(engines) if i % 2 == 0 else reversed(engines):
            query_s[name].append(_timed(engines[name], [query])[0])
    rows = {name: _row(name, batch_s[name], query_s[name], n_sentences) for name in engines}
    rows[NUMPY]["blas_pinned"] = local.blas_pinned
    if torch_encode is None:
        na = "not installed"
        rows[TORCH] = {"backend": TORCH, "status": na, "sentences_per_s": na, "query_p50_ms": na}
    else:
        _compare(rows, batch_s, vectors)
    local.close()
    return list(rows.values())


def _print_table(rows: list[dict[str, object]]) -> None:
    columns = [
        "backend",
        "sentences_per_s",
        "best_sentences_per_s",
        "query_p50_ms",
        "ratio_vs_torch",
        "min_cosine_vs_torch",
        "blas_pinned",
    ]
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=512)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    _print_table(measure_throughput(args.sentences, args.batch))


if __name__ == "__main__":
    main()
