"""The load benchmark's figures: per-operation latency percentiles, throughput, errors by
status; a rich table of the setups side by side, the JSON file and the latency plot."""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.locomo_metrics import percentile

TARGET_P99_MS = 250.0
OVERALL = "overall"
METRICS = (("requests", "{:,.0f}"), ("req_per_s", "{:,.1f}"), ("p50_ms", "{:,.1f}"),
           ("p95_ms", "{:,.1f}"), ("p99_ms", "{:,.1f}"), ("errors", "{:,.0f}"))  # fmt: skip


@dataclass(frozen=True)
class Sample:
    operation: str
    status: str  # the HTTP status, or the transport error's name
    ms: float
    at_s: float  # when it was sent, from the start of the run

    @property
    def is_error(self) -> bool:
        return not self.status.startswith("2")


def figures(samples: Sequence[Sample], elapsed_s: float) -> dict[str, float]:
    latencies = [s.ms for s in samples] or [0.0]
    return {
        "requests": len(samples),
        "req_per_s": len(samples) / elapsed_s,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "errors": sum(s.is_error for s in samples),
    }


def summarise(name: str, samples: Sequence[Sample], elapsed_s: float) -> dict[str, Any]:
    """Figures per operation and overall, errors by status, and the raw series for the plot."""
    operations = sorted({s.operation for s in samples})
    by_operation = {
        op: figures([s for s in samples if s.operation == op], elapsed_s) for op in operations
    }
    by_operation[OVERALL] = figures(samples, elapsed_s)
    overall = by_operation[OVERALL]
    return {
        "name": name,
        "elapsed_s": elapsed_s,
        "operations": by_operation,
        "errors_by_status": dict(Counter(s.status for s in samples if s.is_error)),
        "meets_target": overall["errors"] == 0 and overall["p99_ms"] < TARGET_P99_MS,
        "samples": [[s.operation, s.status, round(s.ms, 3), round(s.at_s, 3)] for s in samples],
    }


def print_table(
    results: Sequence[dict[str, Any]], args: argparse.Namespace, machine: dict[str, Any]
) -> None:
    title = (
        f"{args.clients} clients, {args.duration:g} s per setup (first {args.warmup_s:g} s left "
        f"out), think {args.think_ms:g} ms; "
        f"{machine['cpus']} cores, load {machine['loadavg_before'][0]:.1f} before"
    )
    table = Table("operation", "metric", *(r["name"] for r in results), title=title)
    operations = sorted({op for r in results for op in r["operations"]} - {OVERALL})
    for op in [*operations, OVERALL]:
        for metric, shape in METRICS:
            cells = [
                shape.format(r["operations"][op][metric]) if op in r["operations"] else "-"
                for r in results
            ]
            table.add_row(op if metric == "requests" else "", metric, *cells,
                          end_section=metric == METRICS[-1][0])  # fmt: skip
    table.add_row("errors by status", "", *(_errors(r) for r in results))
    table.add_row(
        f"over {TARGET_P99_MS:g} ms: client / server clock", "",
        *(f"{_share_over(r):.2%} / {r.get('server_share_over_target', 0.0):.2%}" for r in results),
    )  # fmt: skip
    verdicts = ["[green]met[/]" if r["meets_target"] else "[red]missed[/]" for r in results]
    table.add_row(
        "warm-up (left out): over target", "",
        *(f"{r['warmup']['over_target']} of {r['warmup']['requests']}" for r in results),
    )  # fmt: skip
    table.add_row(f"target: 0 errors, p99 < {TARGET_P99_MS:g} ms", "", *verdicts)
    Console().print(table)


def _share_over(result: dict[str, Any]) -> float:
    slow = sum(1 for sample in result["samples"] if sample[2] > TARGET_P99_MS)
    return slow / max(len(result["samples"]), 1)


def _errors(result: dict[str, Any]) -> str:
    found = result["errors_by_status"]
    return ", ".join(f"{status}: {n}" for status, n in sorted(found.items())) or "none"


def save_json(
    path: Path,
    results: Sequence[dict[str, Any]],
    args: argparse.Namespace,
    machine: dict[str, Any],
) -> None:
    run = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    document = {"at": time.strftime("%Y-%m-%d %H:%M:%S"), "run": run, "machine": machine,
                "setups": list(results)}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1))


def save_plot(path: Path, results: Sequence[dict[str, Any]]) -> bool:
    """Latency CDF per operation and setup, and completed requests per second over time."""
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]
    except ModuleNotFoundError:
        print("matplotlib is not installed, so no plot was drawn: pip install matplotlib")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]

    fig, (cdf, rate) = plt.subplots(1, 2, figsize=(13, 4.8))
    styles = ("-", "--", ":", "-.")  # one per setup; one colour per operation
    operations = sorted({s[0] for r in results for s in r["samples"]})
    colours = {op: f"C{i}" for i, op in enumerate([*operations, OVERALL])}
    for result, style in zip(results, styles, strict=False):
        samples = result["samples"]
        for op in [*operations, OVERALL]:
            ms = sorted(s[2] for s in samples if op in (s[0], OVERALL))
            shares = [(i + 1) / len(ms) for i in range(len(ms))]
            width = 2.0 if op == OVERALL else 1.2
            cdf.plot(ms, shares, style, color=colours[op], linewidth=width,
                     label=f"{op} ({result['name']})")  # fmt: skip
        seconds = Counter(int(s[3] + s[2] / 1000) for s in samples)
        last = int(result["elapsed_s"])
        rate.plot(range(last), [seconds.get(t, 0) for t in range(last)], style, color="black",
                  label=result["name"])  # fmt: skip
    cdf.axvline(TARGET_P99_MS, color="grey", linewidth=0.8)
    cdf.axhline(0.99, color="grey", linewidth=0.8)
    cdf.set(xscale="log", xlabel="latency (ms, log)", ylabel="share of requests",
            title="latency CDF (grey: p99 target)")  # fmt: skip
    rate.set(xlabel="second of the run", ylabel="completed requests", title="throughput")
    for ax in (cdf, rate):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
