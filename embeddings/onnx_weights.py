"""A trained reader's weights read back from its int8 ONNX file, named as the torch model names
them (``embeddings.reader_training.build_model``), so that training can start from a reader we
shipped (``python -m qa.training --init DIR``): the torch weights are not kept, the file is.

Each int8 matrix becomes (value - zero point) * scale, per output column as the quantizer wrote
it: the read-back network differs from the torch one it came from by that rounding only. The word
embeddings are left out: training keeps the bundled model's (frozen, so they are the same, and
exact there).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

# The three matrices of a layer after its attention, by the name of their product's output.
_MATMULS = {
    "attention/output/dense": "attention.output.dense.weight",
    "intermediate/dense": "intermediate.dense.weight",
    "output/dense": "output.dense.weight",
}
_LAYER = re.compile(r"/encoder/encoder/layer\.(\d+)/(.+)/MatMul_output_0")
_HEADS = {"answer": "answer.weight_Transposed", "verify": "verify.weight_Transposed"}
_EMBEDDINGS = ("position_embeddings.weight", "token_type_embeddings.weight")


def _dequantized(tables: dict[str, Any], name: str) -> npt.NDArray[np.float32]:
    from onnx import numpy_helper

    values = numpy_helper.to_array(tables[f"{name}_quantized"]).astype(np.float32)
    zero = numpy_helper.to_array(tables[f"{name}_zero_point"]).astype(np.float32)
    scale = numpy_helper.to_array(tables[f"{name}_scale"]).astype(np.float32)
    return ((values - zero) * scale).astype(np.float32)


def read_weights(path: Path) -> dict[str, npt.NDArray[np.float32]]:
    """The weights of the reader in ``path`` (``reader.onnx``), by torch name, every layer
    numbered as in the file."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    tables = {t.name: t for t in graph.initializer}
    out: dict[str, npt.NDArray[np.float32]] = {}
    for name, table in tables.items():  # biases and layer norms, kept in float
        if (
            table.data_type == onnx.TensorProto.FLOAT
            and name.startswith(("encoder.", "answer.", "verify."))
            and not name.endswith("_scale")
        ):
            out[name] = numpy_helper.to_array(table).astype(np.float32)
    for part in _EMBEDDINGS:
        out[f"encoder.embeddings.{part}"] = _dequantized(tables, f"encoder.embeddings.{part}")
    for part in ("weight", "bias"):
        name = f"encoder.embeddings.LayerNorm.{part}"
        out[name] = _dequantized(tables, name)
    for node in graph.node:
        if node.op_type == "QAttention":
            layer = int(node.input[1].split("_")[1])  # Attention_<n>_qkv_weight_quantized
            weight = _dequantized(tables, f"Attention_{layer}_qkv_weight")  # [in, 3 * out]
            bias = numpy_helper.to_array(tables[f"Attention_{layer}_qkv_bias"])
            width = weight.shape[1] // 3
            for n, part in enumerate(("query", "key", "value")):
                at = f"encoder.encoder.layer.{layer}.attention.self.{part}"
                out[f"{at}.weight"] = weight[:, n * width : (n + 1) * width].T.copy()
                out[f"{at}.bias"] = bias[n * width : (n + 1) * width].astype(np.float32)
        elif node.op_type == "MatMulInteger" and (found := _LAYER.match(node.output[0])):
            layer, place = int(found[1]), found[2]
            matrix = node.input[1].removesuffix("_quantized")
            out[f"encoder.encoder.layer.{layer}.{_MATMULS[place]}"] = _dequantized(
                tables, matrix
            ).T.copy()
    for head, matrix in _HEADS.items():
        out[f"{head}.weight"] = _dequantized(tables, matrix).T.copy()
    return out


def kept(weights: dict[str, Any], layers: list[int]) -> dict[str, Any]:
    """``weights`` with only ``layers`` of the encoder, renumbered 0, 1, ... in that order (as
    ``build_model`` keeps them)."""
    number = {old: new for new, old in enumerate(layers)}
    out = {}
    for name, value in weights.items():
        found = re.match(r"encoder\.encoder\.layer\.(\d+)\.(.+)", name)
        if found is None:
            out[name] = value
        elif int(found[1]) in number:
            out[f"encoder.encoder.layer.{number[int(found[1])]}.{found[2]}"] = value
    return out
