"""Embedding throughput (numpy vs torch, one run) and HTTP search latency at 10k memories."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.embed_throughput import measure_throughput  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=512)
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args()

    print(f"Embedding throughput, batch 32, {args.sentences} sentences, same run:")
    print(f"{'backend':<28}{'sentences/s':>14}{'query p50 ms':>14}")
    for row in measure_throughput(n_sentences=args.sentences, batch=32):
        print(f"{row['backend']!s:<28}{row['sentences_per_s']!s:>14}{row['query_p50_ms']!s:>14}")
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
