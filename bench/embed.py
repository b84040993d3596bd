"""Local embedding (onnxruntime vs numpy, and torch if installed; one run) and HTTP search
latency at 10k memories."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.embed_throughput import measure_throughput, print_report  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=512)
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args()

    print(
        f"Local embedding, batch 32, {args.sentences} sentences and {args.queries} single "
        "queries, backends interleaved in one run:"
    )
    print_report(measure_throughput(n_sentences=args.sentences, batch=32, n_queries=args.queries))
    if args.skip_search:
        return 0
    from bench.search_latency import measure_search  # needs the server's dependencies

    print(
        f"\nSearch over HTTP, {args.memories} memories in one user scope, {args.queries} queries:"
    )
    result = measure_search(args.memories, args.queries)
    print(f"{'ingest/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    print(
        f"{result['ingest_per_s']:>10.1f}{result['p50_ms']:>10.2f}"
        f"{result['p95_ms']:>10.2f}{result['p99_ms']:>10.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
