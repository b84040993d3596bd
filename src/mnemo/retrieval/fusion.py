"""Weighted fusion of a candidate's relevance signals, then smoothing over neighbouring turns.

Four signals per candidate: the cosine of its own vector, the cosine of its context
window's vector, and BM25 over its own terms and over its window's terms (a memory without
a window is its own window). With keyword hits, cosines are min-max rescaled over the
candidates and BM25 scores divided by max(best, floor), then averaged with the weights:
measured on LoCoMo to beat reciprocal-rank fusion. Without keyword hits the relevance is
the weighted mean of the raw cosines, so a semantic score stays an absolute similarity.
Last, each candidate takes a share of its best-scoring neighbouring turn (the question's
topic is often set up in the turn before its answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from mnemo.retrieval.scoring import clamp01, min_max, normalise_by_max

Key = tuple[str, str]
Scores = dict[Key, float]


@dataclass(frozen=True)
class FusionWeights:
    """Weights of the signals (any scale: they are divided by their sum) and the rescaling.

    Defaults were tuned on LoCoMo's development split only (bench/locomo_offline.py).
    """

    vector: float = 0.4
    keyword: float = 0.2
    # BM25 scores are divided by max(best score, this floor): in a small or unrelated
    # candidate set a lone weak term match must not count as a perfect keyword match.
    keyword_floor: float = 5.0
    # Cosines are rescaled over at least this spread, so near-ties stay near-ties.
    cosine_min_range: float = 0.25
    context_vector: float = 0.25
    context_keyword: float = 0.3
    # The share of its best neighbouring turn's relevance a candidate adds to its own.
    neighbours: float = 0.1

    def with_alpha(self, alpha: float) -> FusionWeights:
        """Vector signals together weigh `alpha`, keyword signals 1 - alpha (each family
        keeps its own proportions): the hybrid_alpha of seed 001's search request."""
        alpha = clamp01(alpha)
        vectors, keywords = self.vector + self.context_vector, self.keyword + self.context_keyword
        v = alpha / vectors if vectors > 0 else 0.0
        k = (1.0 - alpha) / keywords if keywords > 0 else 0.0
        return replace(
            self,
            vector=self.vector * v,
            context_vector=self.context_vector * v,
            keyword=self.keyword * k,
            context_keyword=self.context_keyword * k,
        )


@dataclass
class Signals:
    """Raw relevance signals by candidate key; a missing entry means no signal.

    A candidate missing from `context_vector` is scored with its own cosine there (a memory
    without a context window is its own window; the keyword side is built that way by
    `keyword_signals`). `neighbours` holds the keys of each candidate's adjacent turns.
    """

    vector: Scores = field(default_factory=dict)
    keyword: Scores = field(default_factory=dict)
    context_vector: Scores = field(default_factory=dict)
    context_keyword: Scores = field(default_factory=dict)
    neighbours: Mapping[Key, tuple[Key, ...]] = field(default_factory=dict)

    def candidates(self) -> set[Key]:
        return set(self.vector) | set(self.keyword) | set(self.context_keyword)


def fuse_signals(signals: Signals, weights: FusionWeights) -> Scores:
    """Relevance in 0..1 of every candidate (see the module docstring)."""
    keys = signals.candidates()
    cosine = signals.vector
    context_cosine = {k: signals.context_vector.get(k, v) for k, v in cosine.items()}
    keyword, context_keyword = signals.keyword, signals.context_keyword
    has_keywords = bool(keyword or context_keyword)
    parts: list[tuple[float, Scores]] = []
    if cosine and not has_keywords:
        parts = [
            (weights.vector, {k: clamp01(v) for k, v in cosine.items()}),
            (weights.context_vector, {k: clamp01(v) for k, v in context_cosine.items()}),
        ]
    elif cosine:
        parts = [
            (weights.vector, min_max(cosine, weights.cosine_min_range)),
            (weights.context_vector, min_max(context_cosine, weights.cosine_min_range)),
        ]
    if has_keywords:
        floor = weights.keyword_floor if cosine else 0.0
        parts += [
            (weights.keyword, normalise_by_max(keyword, floor)),
            (weights.context_keyword, normalise_by_max(context_keyword, floor)),
        ]
    parts = [(w, scores) for w, scores in parts if w > 0]
    total = sum(w for w, _ in parts)
    if total <= 0:
        return dict.fromkeys(keys, 0.0)
    fused = {k: sum(w * scores.get(k, 0.0) for w, scores in parts) / total for k in keys}
    return smooth_over_neighbours(fused, signals.neighbours, weights.neighbours)


def smooth_over_neighbours(
    relevance: Scores, neighbours: Mapping[Key, tuple[Key, ...]], weight: float
) -> Scores:
    """(own + weight * best neighbour's) / (1 + weight); a neighbour that is no candidate
    counts 0. Computed from the unsmoothed scores, so the order of keys does not matter."""
    if weight <= 0 or not neighbours:
        return relevance
    smoothed = {}
    for key, own in relevance.items():
        best = max((relevance.get(n, 0.0) for n in neighbours.get(key, ())), default=0.0)
        smoothed[key] = (own + weight * best) / (1.0 + weight)
    return smoothed
