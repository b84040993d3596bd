"""Table-driven tests of the fusion of relevance signals and of neighbour smoothing."""

from __future__ import annotations

import pytest

from mnemo.retrieval.fusion import FusionWeights, Signals, fuse_signals, smooth_over_neighbours

A, B, C = ("ns", "a"), ("ns", "b"), ("ns", "c")
# The two-signal weighting of the old fusion: only the memory's own cosine and BM25.
OWN_ONLY = FusionWeights(
    vector=0.6, keyword=0.4, context_vector=0.0, context_keyword=0.0, neighbours=0.0
)
FOUR = FusionWeights(vector=0.4, keyword=0.2, context_vector=0.1, context_keyword=0.3, neighbours=0)


@pytest.mark.parametrize(
    ("cosine", "keyword", "expected"),
    [
        ({A: 0.9, B: 0.5}, {}, {A: 0.9, B: 0.5}),  # semantic only: raw cosines
        ({}, {A: 2.0, B: 1.0}, {A: 1.0, B: 0.5}),  # keyword only: scaled by its best
        # both: cosine min-max over candidates, keyword / max(best, floor=5)
        ({A: 0.9, B: 0.5, C: 0.1}, {B: 10.0}, {A: 0.6, B: 0.3 + 0.4, C: 0.0}),
        ({A: 0.9, B: 0.5, C: 0.1}, {C: 2.5}, {A: 0.6, B: 0.3, C: 0.2}),  # weak lone hit
        ({A: 0.5, B: 0.5}, {B: 5.0}, {A: 0.6, B: 1.0}),  # equal cosines all count fully
        ({A: 0.9, B: 0.85}, {A: 5.0, B: 5.0}, {A: 1.0, B: 0.88}),  # near-tie stays near
    ],
)
def test_own_signals_fuse_weighted(cosine: dict, keyword: dict, expected: dict) -> None:  # type: ignore[type-arg]
    signals = Signals(vector=cosine, keyword=keyword, context_keyword=keyword)
    assert fuse_signals(signals, OWN_ONLY) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        # Without a window, a memory's own cosine stands in for its window's.
        (Signals(vector={A: 0.8}), {A: 0.8}),
        # Semantic scores stay absolute: the weighted mean of the raw cosines (0.4/0.1).
        (Signals(vector={A: 0.8}, context_vector={A: 0.3}), {A: (0.4 * 0.8 + 0.1 * 0.3) / 0.5}),
        # A window that matches the query lifts a turn that does not (weights 0.4/0.1/0.2/0.3).
        (
            Signals(
                vector={A: 0.5, B: 0.5},
                context_vector={A: 0.5, B: 0.5},
                keyword={A: 6.0},
                context_keyword={A: 6.0, B: 6.0},
            ),
            {A: 1.0, B: 0.8},
        ),
        # Keyword signals alone: each divided by its own best (no floor without cosines).
        (Signals(keyword={A: 1.0}, context_keyword={A: 2.0, B: 4.0}), {A: 0.7, B: 0.6}),
    ],
)
def test_four_signals_fuse_weighted(signals: Signals, expected: dict) -> None:  # type: ignore[type-arg]
    assert fuse_signals(signals, FOUR) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("relevance", "neighbours", "weight", "expected"),
    [
        ({A: 1.0, B: 0.5}, {B: (A,)}, 0.0, {A: 1.0, B: 0.5}),  # off
        ({A: 1.0, B: 0.5}, {B: (A,)}, 0.25, {A: 1.0 / 1.25, B: (0.5 + 0.25) / 1.25}),
        ({A: 0.2, B: 0.5, C: 0.9}, {B: (A, C)}, 1.0, {A: 0.1, B: 0.7, C: 0.45}),  # best one
        ({A: 0.6}, {A: (("ns", "gone"),)}, 1.0, {A: 0.3}),  # no candidate: counts 0
    ],
)
def test_neighbour_smoothing_adds_the_best_neighbour(
    relevance: dict,
    neighbours: dict,
    weight: float,
    expected: dict,  # type: ignore[type-arg]
) -> None:
    assert smooth_over_neighbours(relevance, neighbours, weight) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("alpha", "vector", "context_vector", "keyword", "context_keyword"),
    [(1.0, 0.8, 0.2, 0.0, 0.0), (0.0, 0.0, 0.0, 0.4, 0.6), (0.5, 0.4, 0.1, 0.2, 0.3)],
)
def test_hybrid_alpha_rebalances_families(
    alpha: float, vector: float, context_vector: float, keyword: float, context_keyword: float
) -> None:
    got = FOUR.with_alpha(alpha)
    assert (got.vector, got.context_vector, got.keyword, got.context_keyword) == pytest.approx(
        (vector, context_vector, keyword, context_keyword)
    )
