"""Offline all-MiniLM-L6-v2 embedder: tokenising, batching and threads around a forward pass.

The forward pass (token ids -> unit sentence vectors) runs on onnxruntime when it is
installed (onnx_forward.py, a graph built in memory from the packaged weights) and in pure
numpy otherwise (numpy_forward.py); both match sentence-transformers to float32 rounding.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray
from tokenizers import Encoding, Tokenizer

from mnemo.embedders.batching import EmbeddingBatcher
from mnemo.embedders.minilm_weights import F32, default_model_dir, load_weights
from mnemo.embedders.numpy_forward import NumpyForward
from mnemo.embedders.onnx_forward import OnnxForward, is_onnx_available
from mnemo.priority import in_background, low_priority_executor

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# sentence-transformers' max_seq_length for this model (sentence_bert_config.json).
MAX_SEQ_LENGTH = 256
DEFAULT_BATCH_SIZE = 32
# Each worker holds one batch's activations (~160 MB at 32 texts x 256 tokens), so the
# default stays modest even on many-core hosts.
MAX_DEFAULT_WORKERS = 4
# Calls of at most this many texts go through the batcher (a query, a turn or two, a few
# memories); it merges them into batches of up to batch_size texts.
SHARED_CALL_TEXTS = 4

Backend = Literal["auto", "onnx", "numpy"]
_I64 = NDArray[np.int64]


class Forward(Protocol):
    """A forward pass: padded (batch, tokens) ids and float mask -> (batch, hidden) unit rows."""

    def __call__(self, ids: _I64, mask: F32) -> F32: ...


def resolve_backend(backend: Backend) -> Literal["onnx", "numpy"]:
    """`auto` is onnx when both onnx and onnxruntime can be imported, else numpy.

    Measured on a shared 2-core host, interleaved (bench/embed_throughput.py): onnx embeds
    a short query 1.7-1.9x as fast as numpy (~4.9 vs ~8.5 ms p50) and batches at 1.9-2.2x
    the throughput; the vectors agree to cosine 0.9999995.
    """
    if backend == "auto":
        return "onnx" if is_onnx_available() else "numpy"
    return backend


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
    """all-MiniLM-L6-v2 sentence embeddings computed in-process, on onnxruntime or numpy.

    Texts are sorted by token count and cut into even batches of at most `batch_size` (at
    least one per worker), which `workers` threads encode in parallel (both forward passes
    release the GIL); a lone batch, such as a query, runs in the caller's thread.

    `backend` picks the forward pass: "onnx" (onnxruntime, one intra-op thread unless
    `onnx_threads` says otherwise), "numpy", or "auto" (onnx when importable). By default
    the constructor also pins numpy's BLAS to one thread for the whole process (see
    _pin_blas_to_one_thread; `blas_pinned` tells whether it could). A forward pass that
    may use several threads per call (unpinned BLAS, onnx_threads > 1) would be
    oversubscribed by worker threads, so `workers` then defaults to 1.

    Thread-safe: the weights are read-only, both forward passes may run concurrently, and
    both tokenizers are configured here once and afterwards only encoded with, which the
    Rust tokenizer allows concurrently (changing its padding/truncation while another
    thread encodes is what fails, and is never done).
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        workers: int | None = None,
        pin_blas: bool = True,
        backend: Backend = "auto",
        onnx_threads: int = 1,
    ) -> None:
        if min(batch_size, workers or 1, onnx_threads) < 1:
            raise ValueError(
                f"batch_size, workers and onnx_threads must be >= 1, got {batch_size}, "
                f"{workers}, {onnx_threads}"
            )
        directory = model_dir if model_dir is not None else default_model_dir()
        weights = load_weights(directory)
        self._dimension = weights.hidden
        self._backend = resolve_backend(backend)
        self._forward: Forward
        if self._backend == "onnx":
            self._forward = OnnxForward(weights, threads=onnx_threads)
        else:
            self._forward = NumpyForward(weights)
        self._tokenizer = _load_tokenizer(directory, truncate=True)
        self._counter = _load_tokenizer(directory, truncate=False)
        self._batch_size = batch_size
        self.blas_pinned = _pin_blas_to_one_thread() if pin_blas else False
        if workers is None:
            one_thread_per_call = onnx_threads == 1 if self._backend == "onnx" else self.blas_pinned
            workers = min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1) if one_thread_per_call else 1
        self._workers = workers
        self._pool = ThreadPoolExecutor(workers, "mnemo-embed") if workers > 1 else None
        self._background = low_priority_executor("mnemo-embed-background")
        # Concurrent small calls share forward passes, one batch per worker at a time.
        self._batcher = EmbeddingBatcher(self._embed_alone, lanes=workers, max_batch=batch_size)

    @property
    def backend(self) -> Literal["onnx", "numpy"]:
        """The forward pass in use."""
        return self._backend

    @property
    def model_name(self) -> str:
        return MODEL_NAME

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> F32:
        """Return (len(texts), 384) unit vectors, rows in the order of `texts`.

        Calls of up to SHARED_CALL_TEXTS texts (a request's own) made at the same time from
        several threads share forward passes (embedders/batching.py); larger calls are split
        over the workers, so that one big write is not run on a single core.
        Background work (mnemo.priority) is embedded on one low-priority thread, batch after
        batch, so that it never takes a core from a request."""
        if in_background():
            return self._background.submit(self._embed, texts, None).result()
        if len(texts) <= SHARED_CALL_TEXTS:
            return self._batcher.embed(texts)
        return self._embed(texts, self._pool)

    def _embed_alone(self, texts: list[str]) -> F32:
        return self._embed(texts, None)

    def _embed(self, texts: Sequence[str], pool: ThreadPoolExecutor | None) -> F32:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        # Longest first, so the biggest batches start early when workers share the load.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        chunks = _batches(order, self._batch_size, self._workers if pool is not None else 1)

        def run(chunk: list[int]) -> F32:
            return self._forward(*_pad([encodings[i] for i in chunk]))

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
        self._background.shutdown(wait=True)
        self._background = low_priority_executor("mnemo-embed-background")
