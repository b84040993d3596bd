"""MiniLM's forward pass in pure numpy: padded token ids in, unit sentence vectors out."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from mnemo.embedders.minilm_weights import F32, MiniLMLayer, MiniLMWeights

I64 = NDArray[np.int64]
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


def gelu_inplace(h: F32) -> None:
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


def _linear(x: F32, w: F32, b: F32) -> F32:
    """x @ w + b as a single 2-D GEMM over all (batch*tokens) rows at once."""
    out: F32 = np.matmul(x, w)
    out += b
    return out


def softmax_inplace(scores: F32, key_mask: F32, key_bias: F32) -> F32:
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


def _attention(x: F32, layer: MiniLMLayer, key_mask: F32, key_bias: F32, heads: int) -> F32:
    """Multi-head self-attention block on (batch*tokens, hidden) rows, residual + LayerNorm."""
    batch, tokens = key_mask.shape[0], key_mask.shape[-1]
    hidden = x.shape[1]
    qkv = _linear(x, layer.qkv_w, layer.qkv_b)
    # (b*t, 3*hidden) -> 3 x (b, heads, t, head_dim) views; matmul copes with the strides.
    q, k, v = qkv.reshape(batch, tokens, 3, heads, hidden // heads).transpose(2, 0, 3, 1, 4)
    probs = softmax_inplace(q @ k.transpose(0, 1, 3, 2), key_mask, key_bias)
    context = (probs @ v).transpose(0, 2, 1, 3).reshape(-1, hidden)
    out = _linear(context, layer.out_w, layer.out_b)
    out += x
    return _layer_norm(out, layer.ln1_g, layer.ln1_b)


def _feed_forward(x: F32, layer: MiniLMLayer) -> F32:
    """Position-wise GELU MLP block with residual + LayerNorm."""
    h = _linear(x, layer.up_w, layer.up_b)
    gelu_inplace(h)
    out = _linear(h, layer.down_w, layer.down_b)
    out += x
    return _layer_norm(out, layer.ln2_g, layer.ln2_b)


class NumpyForward:
    """The encoder as numpy calls; safe to call from several threads at once.

    Parallel calls only pay off when BLAS runs one thread per call, which the embedder
    arranges (see local._pin_blas_to_one_thread).
    """

    def __init__(self, weights: MiniLMWeights) -> None:
        self._w = weights

    def __call__(self, ids: I64, mask: F32) -> F32:
        """Forward one padded batch; return mean-pooled, L2-normalised sentence vectors."""
        w = self._w
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
