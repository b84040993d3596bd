"""The MiniLM ONNX graph: a valid opset-18 model with dynamic axes and its weights kept apart."""

from __future__ import annotations

import onnx
import pytest
from onnx import numpy_helper

from mnemo.embedders.minilm_weights import MiniLMWeights, default_model_dir, load_weights
from mnemo.embedders.onnx_graph import (
    ATTENTION_MASK,
    IN_MEMORY,
    INPUT_IDS,
    OPSET,
    SENTENCE_EMBEDDING,
    OnnxGraph,
    build_graph,
)


@pytest.fixture(scope="module")
def weights() -> MiniLMWeights:
    return load_weights(default_model_dir())


@pytest.fixture(scope="module")
def graph(weights: MiniLMWeights) -> OnnxGraph:
    return build_graph(weights)


def _with_weights_inlined(graph: OnnxGraph) -> onnx.ModelProto:
    model = onnx.ModelProto()
    model.CopyFrom(graph.model)
    for tensor in model.graph.initializer:
        if tensor.name in graph.external:
            tensor.CopyFrom(numpy_helper.from_array(graph.external[tensor.name], tensor.name))
    return model


def _dims(value: onnx.ValueInfoProto) -> list[str | int]:
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def test_graph_passes_the_onnx_checker_with_shape_inference(graph: OnnxGraph) -> None:
    onnx.checker.check_model(_with_weights_inlined(graph), full_check=True)
    assert [(o.domain, o.version) for o in graph.model.opset_import] == [("", OPSET)]


def test_batch_and_sequence_axes_are_dynamic(graph: OnnxGraph, weights: MiniLMWeights) -> None:
    inputs = {i.name: _dims(i) for i in graph.model.graph.input}
    assert inputs == {INPUT_IDS: ["batch", "seq"], ATTENTION_MASK: ["batch", "seq"]}
    (output,) = graph.model.graph.output
    assert (output.name, _dims(output)) == (SENTENCE_EMBEDDING, ["batch", weights.hidden])


def test_weights_stay_out_of_the_protobuf(graph: OnnxGraph, weights: MiniLMWeights) -> None:
    assert graph.model.ByteSize() < 200_000  # the weights alone are ~90 MB
    assert graph.external["word_embeddings"] is weights.word  # handed over without a copy
    external = [
        t.name
        for t in graph.model.graph.initializer
        if t.data_location == onnx.TensorProto.EXTERNAL
        and {(e.key, e.value) for e in t.external_data} == {("location", IN_MEMORY)}
    ]
    assert sorted(external) == sorted(graph.external)
    stored = sum(a.nbytes for a in graph.external.values())
    assert stored > 80_000_000
