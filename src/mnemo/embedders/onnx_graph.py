"""MiniLM's BERT encoder as an ONNX graph, built in memory from the loaded weights."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from mnemo.embedders.minilm_weights import F32, MiniLMLayer, MiniLMWeights

# LayerNormalization arrived in opset 17; reductions take their axes as an input from 18.
OPSET = 18
INPUT_IDS = "input_ids"
ATTENTION_MASK = "attention_mask"
SENTENCE_EMBEDDING = "sentence_embedding"
# The location the model gives its large weights; the runtime gets them as arrays instead.
IN_MEMORY = "in-memory"
# Float tensors with at least this many elements stay out of the protobuf (see OnnxGraph).
_EXTERNAL_MIN_SIZE = 1024
_LN_EPS = 1e-12
# Added to the scores of padded keys; Softmax subtracts the row max, so exp() of it is 0.
_MASK_NEG = -1e9
# Small constants every layer shares, created once under these names.
_SHARED: dict[str, NDArray[np.float32] | NDArray[np.int64]] = {
    "one": np.array(1.0, dtype=np.float32),
    "half": np.array(0.5, dtype=np.float32),
    "sqrt2": np.array(math.sqrt(2.0), dtype=np.float32),
    "mask_neg": np.array(_MASK_NEG, dtype=np.float32),
    # The same floors as sentence-transformers' pooling and torch's normalize.
    "count_floor": np.array(1e-9, dtype=np.float32),
    "norm_floor": np.array(1e-12, dtype=np.float32),
    "axis0": np.array([0], dtype=np.int64),
    "axis1": np.array([1], dtype=np.int64),
    "axes12": np.array([1, 2], dtype=np.int64),
    "axis_last": np.array([-1], dtype=np.int64),
}


@dataclass(frozen=True)
class OnnxGraph:
    """The model, with its large weights beside it as arrays instead of inside the protobuf.

    Those initializers are marked as external data at IN_MEMORY: hand `external` to
    onnxruntime's SessionOptions.add_external_initializers. Serialising the ~90 MB of
    weights into the model and parsing them back instead took 0.6 s and raised the
    start-up peak memory from ~270 MB to ~490 MB.
    """

    model: onnx.ModelProto
    external: dict[str, F32]


@dataclass
class _GraphBuilder:
    """Collects nodes and initializers; each helper returns the name of its output."""

    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    external: dict[str, F32] = field(default_factory=dict)

    def const(self, name: str, value: NDArray[np.float32] | NDArray[np.int64]) -> str:
        """Add an initializer; large float tensors are only referenced (see OnnxGraph)."""
        if value.dtype != np.float32 or value.size < _EXTERNAL_MIN_SIZE:
            self.initializers.append(numpy_helper.from_array(value, name))
            return name
        proto = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=value.shape)
        proto.data_location = TensorProto.EXTERNAL
        proto.external_data.add(key="location", value=IN_MEMORY)
        self.initializers.append(proto)
        self.external[name] = np.ascontiguousarray(value, dtype=np.float32)
        return name

    def op(self, op_type: str, *inputs: str, output: str | None = None, **attrs: object) -> str:
        out = output or f"{op_type.lower()}_{len(self.nodes)}"
        node = helper.make_node(op_type, list(inputs), [out])
        node.attribute.extend(helper.make_attribute(k, v) for k, v in attrs.items())
        self.nodes.append(node)
        return out

    def linear(self, x: str, name: str, w: F32, b: F32) -> str:
        """x @ w + b."""
        product = self.op("MatMul", x, self.const(name + ".w", w))
        return self.op("Add", product, self.const(name + ".b", b))

    def layer_norm(self, x: str, name: str, gamma: F32, beta: F32) -> str:
        g, b = self.const(name + ".g", gamma), self.const(name + ".b", beta)
        return self.op("LayerNormalization", x, g, b, axis=-1, epsilon=_LN_EPS)


def _embeddings(g: _GraphBuilder, w: MiniLMWeights) -> str:
    """Word + position + token-type-0 embeddings, then LayerNorm: (batch, seq, hidden)."""
    words = g.op("Gather", g.const("word_embeddings", w.word), INPUT_IDS, axis=0)
    # Token type is always 0, so its row is folded into the position table once.
    positions = g.const("position_embeddings", w.position + w.token_type0)
    seq = g.op("Shape", INPUT_IDS, start=1, end=2)
    sliced = g.op("Slice", positions, "axis0", seq, "axis0")  # rows [0, seq)
    return g.layer_norm(g.op("Add", words, sliced), "embeddings.ln", w.ln_g, w.ln_b)


def _key_bias(g: _GraphBuilder) -> str:
    """(batch, seq) mask -> (batch, 1, 1, seq) additive bias: 0 for tokens, -1e9 for padding."""
    padding = g.op("Sub", "one", ATTENTION_MASK)
    return g.op("Mul", g.op("Unsqueeze", padding, "axes12"), "mask_neg")


def _attention(g: _GraphBuilder, h: str, p: str, layer: MiniLMLayer, key_bias: str) -> str:
    """Self-attention from one fused QKV projection (Q pre-scaled), residual, LayerNorm."""
    qkv = g.linear(h, p + "qkv", layer.qkv_w, layer.qkv_b)
    q, k, v = (p + name for name in ("q", "k", "v"))
    g.nodes.append(helper.make_node("Split", [qkv], [q, k, v], axis=-1, num_outputs=3))

    def heads(x: str, perm: list[int]) -> str:  # (b, s, hidden) -> (b, s, heads, dim), permuted
        return g.op("Transpose", g.op("Reshape", x, "heads_shape"), perm=perm)

    scores = g.op("MatMul", heads(q, [0, 2, 1, 3]), heads(k, [0, 2, 3, 1]))  # (b, heads, s, s)
    probs = g.op("Softmax", g.op("Add", scores, key_bias), axis=-1)
    context = g.op("MatMul", probs, heads(v, [0, 2, 1, 3]))  # (b, heads, s, dim)
    merged = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), "hidden_shape")
    out = g.linear(merged, p + "attention.out", layer.out_w, layer.out_b)
    return g.layer_norm(g.op("Add", out, h), p + "attention.ln", layer.ln1_g, layer.ln1_b)


def _feed_forward(g: _GraphBuilder, h: str, p: str, layer: MiniLMLayer) -> str:
    """GELU MLP with residual and LayerNorm. The GELU is the exact one, written as
    x * (1 + erf(x / sqrt(2))) * 0.5, which onnxruntime fuses with the bias into BiasGelu."""
    up = g.linear(h, p + "up", layer.up_w, layer.up_b)
    erf = g.op("Erf", g.op("Div", up, "sqrt2"))
    gelu = g.op("Mul", g.op("Mul", up, g.op("Add", erf, "one")), "half")
    down = g.linear(gelu, p + "down", layer.down_w, layer.down_b)
    return g.layer_norm(g.op("Add", down, h), p + "ffn.ln", layer.ln2_g, layer.ln2_b)


def _pool_and_normalise(g: _GraphBuilder, h: str) -> str:
    """Mean over real tokens (a (b, 1, s) @ (b, s, hidden) product), then unit length."""
    summed = g.op("MatMul", g.op("Unsqueeze", ATTENTION_MASK, "axis1"), h)
    counts = g.op("ReduceSum", ATTENTION_MASK, "axis1", keepdims=1)  # (b, 1)
    pooled = g.op("Div", g.op("Squeeze", summed, "axis1"), g.op("Max", counts, "count_floor"))
    norms = g.op("ReduceL2", pooled, "axis_last", keepdims=1)
    norms = g.op("Max", norms, "norm_floor")
    return g.op("Div", pooled, norms, output=SENTENCE_EMBEDDING)


def build_graph(w: MiniLMWeights) -> OnnxGraph:
    """The whole encoder as an ONNX model with dynamic batch and sequence axes.

    Inputs: `input_ids` int64 (batch, seq) and `attention_mask` float32 (batch, seq), 1.0
    for real tokens and 0.0 for padding. Output: `sentence_embedding` float32
    (batch, hidden), the masked mean of the last hidden states, L2-normalised.
    """
    g = _GraphBuilder()
    for name, value in _SHARED.items():
        g.const(name, value)
    # Reshape's 0 keeps that input dimension: (b, s, hidden) <-> (b, s, heads, head_dim).
    g.const("heads_shape", np.array([0, 0, w.num_heads, w.hidden // w.num_heads], np.int64))
    g.const("hidden_shape", np.array([0, 0, w.hidden], dtype=np.int64))
    key_bias = _key_bias(g)
    h = _embeddings(g, w)
    for i, layer in enumerate(w.layers):
        p = f"layer{i}."
        h = _feed_forward(g, _attention(g, h, p, layer, key_bias), p, layer)
    _pool_and_normalise(g, h)
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info(INPUT_IDS, TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info(ATTENTION_MASK, TensorProto.FLOAT, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info(SENTENCE_EMBEDDING, TensorProto.FLOAT, ["batch", w.hidden])],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # the first IR version with opset 18; older runtimes can load it
    return OnnxGraph(model, g.external)
