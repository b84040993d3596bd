"""Table-driven tests of the forgetting policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mnemo.models import Memory
from mnemo.services.forgetting_policy import ForgetPolicy, select_for_forgetting

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def memory(mid: str, age: float, inactive: float) -> Memory:
    return Memory(id=mid, namespace="ns", text=mid, created_at=NOW - timedelta(days=age),
                  last_accessed_at=NOW - timedelta(days=inactive))  # fmt: skip


MEMORIES = [memory("new", 1, 1), memory("old-used", 40, 2), memory("old-idle", 40, 35),
            memory("ancient-used", 400, 1)]  # fmt: skip


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (ForgetPolicy(max_age_days=30), {"old-used", "old-idle", "ancient-used"}),
        (ForgetPolicy(max_inactive_days=30), {"old-idle"}),
        (ForgetPolicy(max_age_days=30, max_inactive_days=30), {"old-idle", "ancient-used"}),
        (ForgetPolicy(budget=2), {"old-idle", "ancient-used"}),
        (ForgetPolicy(max_inactive_days=30, budget=1), {"old-idle", "old-used", "ancient-used"}),
        (ForgetPolicy(), set()),
    ],
)
def test_policy_selects(policy: ForgetPolicy, expected: set[str]) -> None:
    assert set(select_for_forgetting(MEMORIES, policy, NOW)) == expected
