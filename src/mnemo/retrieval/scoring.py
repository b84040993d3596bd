"""Pure scoring maths: recency decay (seed 001's formula), fusion of relevance signals."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class RecencyParams:
    """Seed 001's recency re-rank; every weight and half-life can be set per request."""

    semantic_weight: float = 0.8
    recency_weight: float = 0.2
    freshness_weight: float = 0.6
    novelty_weight: float = 0.4
    half_life_last_access_days: float = 7.0
    half_life_created_days: float = 30.0


@dataclass(frozen=True)
class FusionWeights:
    vector: float = 0.6
    keyword: float = 0.4


def decay(age_days: float, half_life_days: float) -> float:
    """exp(-ln2 / half_life * age): 1 now, 0.5 after one half-life; future ages count as 0."""
    if half_life_days <= 0:
        return 0.0
    return math.exp(-math.log(2) / half_life_days * max(age_days, 0.0))


def age_days(now: datetime, then: datetime) -> float:
    return (now - then).total_seconds() / SECONDS_PER_DAY


def recency_score(
    now: datetime, last_accessed_at: datetime, created_at: datetime, params: RecencyParams
) -> float:
    """freshness (last access) and novelty (creation) blended, clamped to [0, 1]."""
    freshness = decay(age_days(now, last_accessed_at), params.half_life_last_access_days)
    novelty = decay(age_days(now, created_at), params.half_life_created_days)
    return clamp01(params.freshness_weight * freshness + params.novelty_weight * novelty)


def combine(relevance: float, recency: float, params: RecencyParams) -> float:
    return params.semantic_weight * relevance + params.recency_weight * recency


def clamp01(value: float) -> float:
    return min(1.0, max(0.0, value))


def similarity_to_unit(cosine: float) -> float:
    """Cosine similarity as a 0..1 relevance (1 - cosine distance, floored at 0)."""
    return clamp01(cosine)


def normalise_by_max(scores: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    """Scale positive scores so the best is 1; an empty or non-positive set stays 0."""
    top = max(scores.values(), default=0.0)
    if top <= 0:
        return dict.fromkeys(scores, 0.0)
    return {key: max(value, 0.0) / top for key, value in scores.items()}


def fuse(
    cosine: dict[tuple[str, str], float],
    keyword: dict[tuple[str, str], float],
    weights: FusionWeights,
) -> dict[tuple[str, str], float]:
    """Weighted sum of cosine relevance and max-normalised keyword score, per candidate.

    With only one signal present the other's weight is given to it, so a pure semantic or
    pure keyword search still spans 0..1.
    """
    if not keyword:
        return {key: similarity_to_unit(value) for key, value in cosine.items()}
    keyword_unit = normalise_by_max(keyword)
    if not cosine:
        return keyword_unit
    total = weights.vector + weights.keyword
    wv, wk = weights.vector / total, weights.keyword / total
    keys = cosine.keys() | keyword_unit.keys()
    return {
        key: wv * similarity_to_unit(cosine.get(key, 0.0)) + wk * keyword_unit.get(key, 0.0)
        for key in keys
    }
