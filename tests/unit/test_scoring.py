"""Table-driven tests of the pure scoring maths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mnemo.retrieval.scoring import (
    RecencyParams,
    clamp01,
    combine,
    decay,
    min_max,
    normalise_by_max,
    recency_score,
)

NOW = datetime(2025, 1, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "half_life", "expected"),
    [(0, 7, 1.0), (7, 7, 0.5), (14, 7, 0.25), (30, 30, 0.5), (-3, 7, 1.0), (5, 0, 0.0)],
)
def test_decay_halves_every_half_life(age: float, half_life: float, expected: float) -> None:
    assert decay(age, half_life) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("accessed_days_ago", "created_days_ago", "expected"),
    [
        (0, 0, 1.0),  # brand new: 0.6 * 1 + 0.4 * 1
        (7, 30, 0.5),  # both one half-life old: 0.6 * .5 + 0.4 * .5
        (0, 30, 0.8),  # fresh access, one novelty half-life: 0.6 + 0.2
        (7, 0, 0.7),  # 0.3 + 0.4
    ],
)
def test_recency_follows_seed_formula(
    accessed_days_ago: float, created_days_ago: float, expected: float
) -> None:
    score = recency_score(
        NOW,
        NOW - timedelta(days=accessed_days_ago),
        NOW - timedelta(days=created_days_ago),
        RecencyParams(),
    )
    assert score == pytest.approx(expected)


def test_recency_uses_request_overrides() -> None:
    params = RecencyParams(freshness_weight=1.0, novelty_weight=0.0, half_life_last_access_days=1.0)
    assert recency_score(NOW, NOW - timedelta(days=1), NOW, params) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("relevance", "recency", "expected"), [(1.0, 0.0, 0.8), (0.0, 1.0, 0.2), (0.5, 0.5, 0.5)]
)
def test_combine_weights_relevance_and_recency(
    relevance: float, recency: float, expected: float
) -> None:
    assert combine(relevance, recency, RecencyParams()) == pytest.approx(expected)


@pytest.mark.parametrize(("value", "expected"), [(-0.2, 0.0), (0.4, 0.4), (1.7, 1.0)])
def test_clamp(value: float, expected: float) -> None:
    assert clamp01(value) == expected


A, B, C = ("ns", "a"), ("ns", "b"), ("ns", "c")


def test_normalise_by_max() -> None:
    assert normalise_by_max({A: 4.0, B: 2.0, C: -1.0}) == {A: 1.0, B: 0.5, C: 0.0}
    assert normalise_by_max({A: 2.0}, floor=8.0) == {A: 0.25}
    assert normalise_by_max({}) == {}


def test_min_max() -> None:
    assert min_max({A: 0.2, B: 0.6, C: 1.0}) == pytest.approx({A: 0.0, B: 0.5, C: 1.0})
    assert min_max({A: 0.3, B: 0.3}) == {A: 1.0, B: 1.0}
    assert min_max({A: 0.9, B: 0.85}, min_range=0.25) == pytest.approx({A: 1.0, B: 0.8})
