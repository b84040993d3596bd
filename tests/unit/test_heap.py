"""A process freezes its start-up heap once, out of the collector's reach."""

from __future__ import annotations

import gc

from mnemo.heap import settle_heap


def test_the_start_up_heap_is_frozen_once() -> None:
    settle_heap()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    garbage = [object() for _ in range(1000)]  # noqa: F841 - allocated after the freeze
    settle_heap()  # a second app in the same process freezes nothing more
    assert gc.get_freeze_count() == frozen
