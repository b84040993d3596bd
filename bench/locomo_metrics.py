"""Pure retrieval metrics for the LoCoMo harness: recall@k, NDCG@k, reciprocal rank, means."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

# The official LoCoMo evaluation code's mapping (task_eval/evaluation_stats.py); several
# published harnesses swap these, so it is spelled out once, here.
CATEGORY_NAMES: Mapping[int, str] = {
    4: "single-hop",
    1: "multi-hop",
    2: "temporal",
    3: "open-domain",
    5: "adversarial",
}
OVERALL = "overall"
OVERALL_CATEGORIES = frozenset({1, 2, 3, 4})  # adversarial (5) is reported on its own
ROW_ORDER = ("single-hop", "multi-hop", "temporal", "open-domain", OVERALL, "adversarial")


@dataclass(frozen=True)
class QuestionScore:
    """One question's metric values (for example {"R@5": 1.0, "MRR": 0.5}) and its category."""

    category: int
    values: Mapping[str, float]


@dataclass(frozen=True)
class CategoryStats:
    """The number of questions in one report row and the mean of each metric over them."""

    name: str
    n: int
    means: Mapping[str, float]


def distinct_turns(ranked: Iterable[Iterable[str]]) -> list[str]:
    """Flatten ranked results (each a list of turn ids) into distinct turns, first seen first.

    A result pointing at two turns contributes both in its own order; a turn already credited
    by a better-ranked result is skipped, so k counts distinct turns.
    """
    seen: set[str] = set()
    turns: list[str] = []
    for result in ranked:
        for turn in result:
            if turn not in seen:
                seen.add(turn)
                turns.append(turn)
    return turns


def _top(ranked: Sequence[str], relevant: Collection[str], k: int) -> list[str]:
    if not relevant:
        raise ValueError("the metric is undefined without relevant items")
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    return distinct_turns((item,) for item in ranked)[:k]


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Fraction of the relevant items found among the first k distinct ranked items."""
    wanted = set(relevant)
    top = _top(ranked, wanted, k)
    return sum(1 for item in top if item in wanted) / len(wanted)


def _discount(rank: int) -> float:
    return 1.0 / math.log2(rank + 1)


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Binary-relevance NDCG over the first k distinct items; the ideal ranks min(|rel|, k)."""
    wanted = set(relevant)
    top = _top(ranked, wanted, k)
    dcg = math.fsum(_discount(rank) for rank, item in enumerate(top, 1) if item in wanted)
    ideal = math.fsum(_discount(rank) for rank in range(1, min(len(wanted), k) + 1))
    return dcg / ideal


def reciprocal_rank(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1 / the rank of the first relevant item among the first k distinct items, else 0."""
    wanted = set(relevant)
    for rank, item in enumerate(_top(ranked, wanted, k), 1):
        if item in wanted:
            return 1.0 / rank
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between ranks, as numpy's default."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0-100, not {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def rows_of(category: int) -> tuple[str, ...]:
    """The report rows a question of this category counts towards."""
    name = CATEGORY_NAMES.get(category, f"category-{category}")
    return (name, OVERALL) if category in OVERALL_CATEGORIES else (name,)


def aggregate_by_category(scores: Iterable[QuestionScore]) -> dict[str, CategoryStats]:
    """Mean of every metric per category row and over categories 1-4, in report order.

    Rows without questions are left out; every score must carry the same metric names.
    """
    groups: dict[str, list[Mapping[str, float]]] = {}
    for score in scores:
        for row in rows_of(score.category):
            groups.setdefault(row, []).append(score.values)
    order = [row for row in ROW_ORDER if row in groups] + sorted(set(groups) - set(ROW_ORDER))
    return {row: _mean_row(row, groups[row]) for row in order}


def _mean_row(name: str, values: Sequence[Mapping[str, float]]) -> CategoryStats:
    metrics = list(values[0])
    means = {metric: math.fsum(v[metric] for v in values) / len(values) for metric in metrics}
    return CategoryStats(name=name, n=len(values), means=means)
