"""Background work runs on threads the kernel serves after the request threads."""

from __future__ import annotations

import threading

import numpy as np

from mnemo.embedders.local import LocalEmbedder
from mnemo.priority import (
    BACKGROUND_NICENESS,
    background_work,
    in_background,
    low_priority_executor,
    thread_niceness,
)


def test_a_low_priority_thread_runs_niced_below_the_caller() -> None:
    pool = low_priority_executor("test-low")
    try:
        assert pool.submit(thread_niceness).result() == thread_niceness() + BACKGROUND_NICENESS
    finally:
        pool.shutdown()


def test_background_work_is_marked_only_inside_its_block() -> None:
    assert not in_background()
    with background_work():
        assert in_background()
    assert not in_background()


def test_background_embeddings_run_on_a_niced_thread_and_equal_the_foreground_ones(
    embedder: LocalEmbedder,
) -> None:
    texts = ["Alice moved to Lisbon last spring", "Bob prefers tea", "the kayak in Dublin"]
    foreground = embedder.embed(texts)
    with background_work():
        background = embedder.embed(texts)
    np.testing.assert_allclose(background, foreground, atol=1e-6)
    [thread] = [t for t in threading.enumerate() if t.name.startswith("mnemo-embed-background")]
    assert thread.native_id is not None
    with open(f"/proc/self/task/{thread.native_id}/stat") as stat:
        niceness = int(stat.read().rsplit(")", 1)[1].split()[16])
    assert niceness == thread_niceness() + BACKGROUND_NICENESS
