"""MiniLM's forward pass on onnxruntime (CPU), over the graph onnx_graph builds in memory."""

from __future__ import annotations

import importlib.util

import numpy as np
from numpy.typing import NDArray

from mnemo.embedders.minilm_weights import F32, MiniLMWeights

I64 = NDArray[np.int64]


def is_onnx_available() -> bool:
    """Whether both `onnx` (to build the graph) and `onnxruntime` (to run it) can be imported."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


class OnnxForward:
    """The encoder as one onnxruntime InferenceSession; safe to call from several threads.

    `threads` is the session's intra-op thread count. The default 1 matches the numpy path's
    one-BLAS-thread design: parallelism comes from the embedder's worker threads, each in its
    own run() (which releases the GIL), instead of a thread pool per call that stalls when
    another process holds a core.
    """

    def __init__(self, weights: MiniLMWeights, threads: int = 1) -> None:
        import onnxruntime as ort

        from mnemo.embedders.onnx_graph import ATTENTION_MASK, INPUT_IDS, build_graph

        graph = build_graph(weights)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # With threads > 1, idle pool threads would otherwise spin on a core after each run,
        # which on a busy host starves the other work.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        names = list(graph.external)
        values = [ort.OrtValue.ortvalue_from_numpy(graph.external[n]) for n in names]
        options.add_external_initializers(names, values)
        # The OrtValues wrap the arrays without copying and the session reads its weights
        # from them, so both must live as long as the session.
        self._weights = (graph.external, values)
        self._session = ort.InferenceSession(
            graph.model.SerializeToString(),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        self._inputs = (INPUT_IDS, ATTENTION_MASK)
        self.threads = threads

    def __call__(self, ids: I64, mask: F32) -> F32:
        """Forward one padded batch; return mean-pooled, L2-normalised sentence vectors."""
        feeds = dict(zip(self._inputs, (ids, mask), strict=True))
        (vectors,) = self._session.run(None, feeds)
        return np.asarray(vectors, dtype=np.float32)
