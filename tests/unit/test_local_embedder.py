"""The local MiniLM embedder, on both forward passes (onnxruntime and numpy), against
sentence-transformers reference vectors, on the real model."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from mnemo.config import EmbedderConfig, Settings
from mnemo.embedders.base import Embedder
from mnemo.embedders.local import (
    MAX_SEQ_LENGTH,
    MODEL_NAME,
    Backend,
    LocalEmbedder,
    _batches,
    resolve_backend,
)
from mnemo.embedders.minilm_weights import ModelFilesError, default_model_dir
from mnemo.embedders.numpy_forward import gelu_inplace, softmax_inplace
from mnemo.embedders.onnx_forward import is_onnx_available
from mnemo.wiring import build_embedder

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "minilm_reference.json"
MIXED = [
    "ok",
    "A considerably longer sentence about the quarterly budget review and its many delays.",
    "Short one.",
    "Medium length: the agent stored a note about flights to Zürich.",
    "",
    "Another fairly long line, with punctuation; numbers like 3.14 and 2024-05-17 — and more!",
    "x",
]


# onnx and onnxruntime are main dependencies: a missing one fails here rather than skipping.
BACKENDS: list[Backend] = ["onnx", "numpy"]


@pytest.fixture(scope="module", params=BACKENDS)
def local(request: pytest.FixtureRequest) -> Iterator[LocalEmbedder]:
    embedder = LocalEmbedder(backend=request.param)
    assert embedder.backend == request.param
    yield embedder
    embedder.close()


@pytest.fixture(scope="module", params=BACKENDS)
def small_batches(request: pytest.FixtureRequest) -> Iterator[LocalEmbedder]:
    """Two texts per batch and two workers: every multi-text call spans several batches."""
    embedder = LocalEmbedder(batch_size=2, workers=2, backend=request.param)
    yield embedder
    embedder.close()


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def _cosines(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.float64]:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    norms = np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1)
    cosines: NDArray[np.float64] = np.sum(a64 * b64, axis=1) / norms
    return cosines


def test_is_an_embedder_named_after_the_model(local: LocalEmbedder) -> None:
    port: Embedder = local
    assert port.model_name == MODEL_NAME == "sentence-transformers/all-MiniLM-L6-v2"
    assert port.dimension == 384


def test_matches_sentence_transformers_on_every_reference_sentence(
    local: LocalEmbedder, reference: dict[str, Any]
) -> None:
    vectors = local.embed(reference["sentences"])
    expected = np.array(reference["vectors"], dtype=np.float64)
    cosines = _cosines(vectors, expected)
    # Measured ~0.9999999 (the fixture is rounded to 7 decimals); 0.9999 still catches
    # subtle slips such as truncating at 128 tokens or a tanh GELU.
    assert cosines.min() >= 0.9999, dict(zip(reference["sentences"], cosines, strict=True))
    assert np.abs(vectors - expected).max() < 1e-5


def test_onnx_and_numpy_backends_agree_on_padded_batches() -> None:
    onnx, numpy = (LocalEmbedder(batch_size=3, workers=1, backend=b) for b in BACKENDS)
    try:
        np.testing.assert_allclose(onnx.embed(MIXED), numpy.embed(MIXED), atol=2e-6)
    finally:
        onnx.close()
        numpy.close()


def test_auto_backend_is_onnx_when_installed_and_explicit_choices_stand() -> None:
    assert is_onnx_available()
    assert resolve_backend("auto") == "onnx"
    assert [resolve_backend(b) for b in BACKENDS] == BACKENDS


def test_environment_chooses_the_local_backend(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MNEMO_EMBEDDER__BACKEND", "numpy")
    embedder = build_embedder(Settings(data_dir=tmp_path))
    assert isinstance(embedder, LocalEmbedder)
    assert embedder.backend == "numpy"
    embedder.close()
    assert EmbedderConfig().backend == "auto"


def test_reference_covers_truncation_beyond_128_and_at_256(
    local: LocalEmbedder, reference: dict[str, Any]
) -> None:
    counts = [local.count_tokens(s) + 2 for s in reference["sentences"]]  # + [CLS], [SEP]
    assert any(128 < c <= MAX_SEQ_LENGTH for c in counts)
    assert any(c > MAX_SEQ_LENGTH for c in counts)


def test_single_text_equals_its_row_in_a_batch(
    local: LocalEmbedder, reference: dict[str, Any]
) -> None:
    batch = local.embed(reference["sentences"])
    singles = np.vstack([local.embed([s]) for s in reference["sentences"]])
    assert _cosines(batch, singles).min() > 0.99999


def test_rows_keep_input_order_when_lengths_differ(small_batches: LocalEmbedder) -> None:
    forward = small_batches.embed(MIXED)
    backward = small_batches.embed(MIXED[::-1])
    np.testing.assert_allclose(forward, backward[::-1], atol=2e-6)
    singles = np.vstack([small_batches.embed([t]) for t in MIXED])
    assert _cosines(forward, singles).min() > 0.99999


def test_rows_are_unit_length_float32(local: LocalEmbedder) -> None:
    vectors = local.embed(MIXED)
    assert vectors.shape == (len(MIXED), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_empty_input_gives_an_empty_matrix(local: LocalEmbedder) -> None:
    assert local.embed([]).shape == (0, 384)


def test_worker_threads_and_sequential_agree(small_batches: LocalEmbedder) -> None:
    sequential = LocalEmbedder(batch_size=2, workers=1, backend=small_batches.backend)
    try:
        np.testing.assert_allclose(small_batches.embed(MIXED), sequential.embed(MIXED), atol=2e-6)
    finally:
        sequential.close()


def test_concurrent_callers_get_the_same_vectors(small_batches: LocalEmbedder) -> None:
    expected = small_batches.embed(MIXED)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: small_batches.embed(MIXED), range(3)))
    for got in results:
        np.testing.assert_allclose(got, expected, atol=2e-6)


def test_text_beyond_256_tokens_is_ignored_like_sentence_transformers(
    local: LocalEmbedder,
) -> None:
    long_text = "memory " * 300
    assert local.count_tokens(long_text) == 300
    a, b = local.embed([long_text, long_text + " but a completely different ending"])
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_count_tokens_counts_wordpieces_without_truncation(local: LocalEmbedder) -> None:
    assert local.count_tokens("") == 0
    assert local.count_tokens("hello world") == 2
    assert local.count_tokens("Hello, world!") == 4
    assert local.count_tokens("word " * 1000) == 1000


@pytest.mark.parametrize(
    ("n", "size", "lanes", "expected"),
    [
        (512, 32, 2, [32] * 16),
        (33, 32, 2, [17, 16]),  # even cuts, not 32 + 1
        (100, 32, 1, [25] * 4),
        (32, 32, 2, [16, 16]),  # one full batch still feeds both workers
        (3, 32, 4, [1, 1, 1]),
        (1, 32, 4, [1]),
    ],
)
def test_batches_are_even_and_feed_every_worker(
    n: int, size: int, lanes: int, expected: list[int]
) -> None:
    chunks = _batches(list(range(n)), size, lanes)
    assert [len(c) for c in chunks] == expected
    assert [i for c in chunks for i in c] == list(range(n))


def test_gelu_matches_the_erf_definition() -> None:
    xs = np.concatenate([np.linspace(-12, 12, 240_001), [-1e4, -50.0, 50.0, 1e4, 0.0]])
    xs = xs.astype(np.float32)
    got = xs.copy()
    gelu_inplace(got)
    exact = np.array([float(x) * 0.5 * math.erfc(-float(x) / math.sqrt(2)) for x in xs])
    # x * Phi(x) with Phi off by < 1.2e-7 including float32 rounding of the result (torch's
    # own float32 GELU is off by up to 3.6e-7 * |x|); below x = -6 the result is 0 (< 6e-9).
    error = np.abs(got.astype(np.float64) - exact)
    assert np.all(error <= 1.2e-7 * np.abs(xs) + 1e-8)
    far = np.abs(xs) >= 50
    np.testing.assert_array_equal(got[far], np.where(xs[far] > 0, xs[far], 0.0))


def test_softmax_stays_finite_when_scores_leave_exps_range() -> None:
    rng = np.random.default_rng(0)
    scores = (rng.standard_normal((2, 3, 4, 5)) * 150).astype(np.float32)
    mask = np.ones((2, 1, 1, 5), dtype=np.float32)
    mask[1, ..., 3:] = 0.0
    bias = (1.0 - mask) * np.float32(-1e9)
    shifted = scores + bias - (scores + bias).max(axis=-1, keepdims=True)
    expected = np.exp(shifted.astype(np.float64))
    expected /= expected.sum(axis=-1, keepdims=True)
    got = softmax_inplace(scores.copy(), mask, bias)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_model_dir_is_found_in_the_installed_package_and_can_be_overridden(
    tmp_path: Path,
) -> None:
    assert (default_model_dir() / "model.safetensors").is_file()
    with pytest.raises(ModelFilesError, match="model.safetensors"):
        LocalEmbedder(model_dir=tmp_path)
