"""Pure scoring maths: recency decay (seed 001's formula), clamping and rescaling of scores."""

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


def normalise_by_max(
    scores: dict[tuple[str, str], float], floor: float = 0.0
) -> dict[tuple[str, str], float]:
    """Divide positive scores by max(best, floor); an empty or non-positive set stays 0."""
    top = max(max(scores.values(), default=0.0), floor)
    if top <= 0:
        return dict.fromkeys(scores, 0.0)
    return {key: max(value, 0.0) / top for key, value in scores.items()}


def min_max(
    scores: dict[tuple[str, str], float], min_range: float = 0.0
) -> dict[tuple[str, str], float]:
    """Rescale so the best is 1 and the worst is 1 - spread / max(spread, min_range)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    spread = max(high - low, min_range)
    if spread < 1e-12:
        return dict.fromkeys(scores, 1.0)
    return {key: 1.0 - (high - value) / spread for key, value in scores.items()}
