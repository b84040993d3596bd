"""Which retrieval change gave how much on LoCoMo: configurations run through the offline loop.

The references are BM25 alone and dense alone (the issue's floor: no category below its BM25
reference). Each row of the cumulative table adds one change to the row above, from the old hybrid
(cosine + BM25 over the raw turn, min-max 0.6/0.4) to the shipped defaults; the
leave-one-out table removes one change from the defaults. Switches that the server has no
setting for (no stemming, undated index text) are applied by replacing the server function
for the run, in this process only. Prints Markdown tables of R@5/R@10/R@20 per category.

Example: .venv/bin/python bench/locomo_ablation.py --split dev
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/locomo_ablation.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mnemo.retrieval.documents as documents  # noqa: E402
import mnemo.retrieval.text as text  # noqa: E402
from bench.locomo import REPO  # noqa: E402
from bench.locomo_offline import run  # noqa: E402
from mnemo.retrieval.bm25 import Bm25Params  # noqa: E402
from mnemo.retrieval.fusion import FusionWeights  # noqa: E402

ROWS = ("single-hop", "multi-hop", "temporal", "open-domain", "overall")
OLD = FusionWeights(vector=0.6, keyword=0.4, context_vector=0, context_keyword=0, neighbours=0)
RECIPE = replace(OLD, vector=0.3, keyword=0.3, context_vector=0.2, context_keyword=0.2)
DEFAULT = FusionWeights()


@dataclass(frozen=True)
class Config:
    name: str
    weights: FusionWeights = DEFAULT
    bm25: Bm25Params = field(default_factory=Bm25Params)
    context: tuple[int, int] = (2, 2)
    is_stemmed: bool = True
    is_dated: bool = True


CUMULATIVE = (
    Config("old hybrid: raw turn, BM25 b=0.75 unstemmed, 0.6/0.4", OLD, Bm25Params(b=0.75),
           is_stemmed=False, is_dated=False),
    Config("+ stemming", OLD, Bm25Params(b=0.75), is_dated=False),
    Config("+ BM25 b=0.3", OLD, is_dated=False),
    Config("+ date in the keyword terms of a message", OLD),
    Config("+ context windows +-1 (4 signals .3/.3/.2/.2)", RECIPE, context=(1, 1)),
    Config("+ windows +-2", RECIPE),
    Config("+ weights .4/.2/.25/.3", replace(DEFAULT, neighbours=0)),
    Config("+ neighbour smoothing 0.1 (= defaults)"),
)  # fmt: skip
ALONE = FusionWeights(vector=0, keyword=0, context_vector=0, context_keyword=0, neighbours=0)
REFERENCES = (
    Config("BM25 alone: dated turn, unstemmed, b=0.75", replace(ALONE, keyword=1),
           Bm25Params(b=0.75), is_stemmed=False),
    Config("dense alone: MiniLM cosine of the turn", replace(ALONE, vector=1)),
)  # fmt: skip
LEAVE_ONE_OUT = (
    Config("defaults"),
    Config("- stemming", is_stemmed=False),
    Config("- BM25 b=0.3 (0.75)", bm25=Bm25Params(b=0.75)),
    Config("- date in the keyword terms", is_dated=False),
    Config("- context windows", replace(DEFAULT, context_vector=0, context_keyword=0)),
    Config("- neighbour smoothing", replace(DEFAULT, neighbours=0)),
)


def _undated(text: str, memory_type: str, created_at: datetime) -> str:
    del memory_type, created_at
    return text


@contextmanager
def switched(config: Config) -> Iterator[None]:
    """Replace the server's stemmer / index text for one run when the config says so."""
    saved: list[tuple[Any, str, Callable[..., str]]] = []
    if not config.is_stemmed:
        saved.append((text, "stem", text.stem))
        text.stem = lambda word: word
    if not config.is_dated:
        saved.append((documents, "index_text", documents.index_text))
        documents.index_text = _undated
    try:
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def measure(args: argparse.Namespace, configs: Sequence[Config]) -> list[tuple[str, Any]]:
    rows = []
    for config in configs:
        print(f"running: {config.name}", file=sys.stderr, flush=True)
        with switched(config):
            report = run(args, config.weights, config.bm25, config.context)
        rows.append((config.name, report["results"][args.split]))
    return rows


def markdown(title: str, rows: list[tuple[str, Any]]) -> str:
    header = "| configuration | " + " | ".join(f"{r} R@5/R@10/R@20" for r in ROWS) + " |"
    lines = [f"### {title}", "", header, "|---" * (len(ROWS) + 1) + "|"]
    for name, result in rows:
        cells = [
            "/".join(f"{result[r][f'R@{k}']:.3f}" for k in (5, 10, 20)) if r in result else "-"
            for r in ROWS
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/locomo_ablation.py", description=__doc__)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared/bench/locomo10.json")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    parser.add_argument("--out", type=Path, default=None, help="also write the tables here")
    args = parser.parse_args(argv)
    args.conversations, args.no_facts, args.rerank_window = None, False, 50
    tables = [
        markdown(f"References ({args.split})", measure(args, REFERENCES)),
        markdown(f"Cumulative ({args.split})", measure(args, CUMULATIVE)),
        markdown(f"Leave one out ({args.split})", measure(args, LEAVE_ONE_OUT)),
    ]
    output = "\n\n".join(tables) + "\n"
    print(output)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(output, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
