"""Which memories a forgetting policy selects (seed 001's rules): pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mnemo.models import Memory
from mnemo.retrieval.scoring import RecencyParams, age_days, recency_score


@dataclass(frozen=True)
class ForgetPolicy:
    max_age_days: float | None = None
    max_inactive_days: float | None = None
    budget: int | None = None  # keep only the N most recent (by recency score)
    memory_type_allowlist: tuple[str, ...] | None = None
    hard_age_multiplier: float = 12.0


def select_for_forgetting(
    memories: Sequence[Memory], policy: ForgetPolicy, now: datetime
) -> list[str]:
    """Ids to forget. With both limits, a memory goes when it is older than max_age x 12,
    or older than max_age AND inactive longer than max_inactive; with one limit, when it
    passes it. A budget then keeps only the N most recent of the rest."""
    chosen = [m.id for m in memories if _too_old(m, policy, now)]
    if policy.budget is not None:
        gone = set(chosen)
        rest = [m for m in memories if m.id not in gone]
        params = RecencyParams(semantic_weight=0.0, recency_weight=1.0)
        rest.sort(
            key=lambda m: recency_score(now, m.last_accessed_at, m.created_at, params),
            reverse=True,
        )
        chosen += [m.id for m in rest[policy.budget :]]
    return chosen


def _too_old(memory: Memory, policy: ForgetPolicy, now: datetime) -> bool:
    age = age_days(now, memory.created_at)
    inactive = age_days(now, memory.last_accessed_at)
    max_age, max_inactive = policy.max_age_days, policy.max_inactive_days
    if max_age is not None and max_inactive is not None:
        return age > max_age * policy.hard_age_multiplier or (
            age > max_age and inactive > max_inactive
        )
    if max_age is not None:
        return age > max_age
    return max_inactive is not None and inactive > max_inactive
