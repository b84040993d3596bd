"""Group commit for embeddings: concurrent calls share batches, each gets its own rows."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from mnemo.embedders.batching import EmbeddingBatcher
from mnemo.embedders.local import LocalEmbedder
from mnemo.embedders.minilm_weights import F32

TEXTS = [f"note {i}: Ana keeps {i} bees in Porto" for i in range(48)]


class Recorder:
    """A compute step that records its batches and how many ran at once."""

    def __init__(self, embedder: LocalEmbedder, pause_s: float = 0.02) -> None:
        self.embedder = embedder
        self.pause_s = pause_s
        self.batches: list[list[str]] = []
        self.running = 0
        self.most_at_once = 0
        self.lock = threading.Lock()

    def __call__(self, texts: list[str]) -> F32:
        with self.lock:
            self.batches.append(texts)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            time.sleep(self.pause_s)  # long enough for the other callers to queue up
            return self.embedder.embed(texts)
        finally:
            with self.lock:
                self.running -= 1


def test_a_lone_call_is_computed_at_once_by_itself(embedder: LocalEmbedder) -> None:
    recorder = Recorder(embedder, pause_s=0)
    batcher = EmbeddingBatcher(recorder, lanes=2, max_batch=32)
    np.testing.assert_allclose(batcher.embed(TEXTS[:2]), embedder.embed(TEXTS[:2]), atol=1e-5)
    assert recorder.batches == [TEXTS[:2]]


def test_concurrent_calls_share_batches_and_each_gets_its_own_rows(
    embedder: LocalEmbedder,
) -> None:
    recorder = Recorder(embedder)
    batcher = EmbeddingBatcher(recorder, lanes=2, max_batch=8)
    calls = [TEXTS[i : i + 1 + i % 2] for i in range(24)]
    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(batcher.embed, calls))
    for texts, vectors in zip(calls, results, strict=True):
        np.testing.assert_allclose(vectors, embedder.embed(texts), atol=1e-5)
    assert len(recorder.batches) < len(calls)  # shared
    assert max(len(batch) for batch in recorder.batches) <= 8
    assert recorder.most_at_once <= 2  # never more batches at once than lanes
    assert (batcher.calls, batcher.batches) == (len(calls), len(recorder.batches))


def test_a_failing_batch_fails_its_callers_and_frees_its_lane(embedder: LocalEmbedder) -> None:
    healthy = Recorder(embedder, pause_s=0)

    def compute(texts: list[str]) -> F32:
        if any("poison" in t for t in texts):
            raise RuntimeError("forward pass failed")
        return healthy(texts)

    batcher = EmbeddingBatcher(compute, lanes=1, max_batch=32)
    with pytest.raises(RuntimeError, match="forward pass failed"):
        batcher.embed(["poison"])
    assert batcher.embed(TEXTS[:1]).shape == (1, 384)  # the lane came back


def test_the_local_embedder_batches_concurrent_small_calls(embedder: LocalEmbedder) -> None:
    local = LocalEmbedder(workers=1)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda t: local.embed([t]), TEXTS))
    np.testing.assert_allclose(np.vstack(results), embedder.embed(TEXTS), atol=1e-5)
    local.close()
