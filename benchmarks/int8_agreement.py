"""Agreement, speed and AVX2 saturation of each dynamic int8 setting (docs/int8.md).

    QA_CACHE_DIR=/tmp/int8-cache python benchmarks/int8_agreement.py [--paragraphs 200] \\
        [--squad ../shared/data/squad-dev-v1.1.json.gz]

For the old setting (signed 8-bit weights) and each of ``embeddings.export.QUANTIZATIONS``:
the cosine to sentence-transformers on the four texts of
``tests/test_integration.py::test_onnx_backends_match_sentence_transformers`` and on the first
SQuAD dev paragraphs; the lowest probe cosine to the float ONNX model (what conversion checks);
embedding speed on those paragraphs (best of 3 rounds, interleaved); and an emulation of the
AVX2 kernel without VNNI: every uint8 activation pair times its weight pair, summed in 16 bits as
``vpmaddubsw`` does, counting the sums that saturate and the error they would add to each layer.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from embeddings.export import (
    QUANTIZATIONS,
    Quantization,
    ensure_onnx,
    quantize_model,
)
from embeddings.onnx import OnnxEmbedder, probe_agreement
from embeddings.sentence import SentenceTransformerEmbedder, default_model_path

SQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "squad-dev-v1.1.json.gz"
TEST_TEXTS = [
    "Super Bowl 50 was an American football game.",
    "Warsaw\nThe Vistula River flows through Warsaw for 28 km.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "short",
]
OLD = Quantization("s8 (recipe 1)", "QInt8", reduce_range=False)


def paragraphs(squad: Path, count: int) -> list[str]:
    with gzip.open(squad, "rt", encoding="utf-8") as file:
        data = json.load(file)["data"]
    texts = [p["context"] for article in data for p in article["paragraphs"]]
    return texts[:count]


def saturation(model_dir: Path, model_file: Path, texts: list[str]) -> tuple[float, float]:
    """(share of u8*s8 pair sums outside int16, worst relative error of a layer's output)."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(model_file))
    weights = {w.name: onnx.numpy_helper.to_array(w) for w in model.graph.initializer}
    quantized = {n.output[0] for n in model.graph.node if n.op_type == "DynamicQuantizeLinear"}
    pairs = [
        (node.input[0], node.input[1])
        for node in model.graph.node
        if len(node.input) > 1 and node.input[0] in quantized and node.input[1] in weights
    ]
    for name in {a for a, _ in pairs}:
        model.graph.output.append(
            onnx.helper.make_tensor_value_info(name, onnx.TensorProto.UINT8, None)
        )
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    tokenizer = OnnxEmbedder(model_dir).tokenizer
    names = [o.name for o in session.get_outputs()]
    saturated = total = 0
    worst = 0.0
    for text in texts:
        ids = np.array([tokenizer.encode(text).ids[:256]], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in {i.name for i in session.get_inputs()}:
            feed["token_type_ids"] = np.zeros_like(ids)
        values = dict(zip(names, session.run(None, feed), strict=True))
        for act_name, weight_name in pairs:
            a = values[act_name].reshape(-1, values[act_name].shape[-1]).astype(np.int32)
            w = weights[weight_name].astype(np.int32)
            if weights[weight_name].dtype != np.int8:
                continue  # unsigned weights: the u8u8 kernel widens to 16 bits first, no pair sums
            a, w = a[:, : a.shape[1] // 2 * 2], w[: w.shape[0] // 2 * 2]
            sums = a[:, 0::2, None] * w[None, 0::2, :] + a[:, 1::2, None] * w[None, 1::2, :]
            clipped = np.clip(sums, -32768, 32767)
            saturated += int((clipped != sums).sum())
            total += sums.size
            exact = sums.sum(axis=1).astype(np.float64)
            error = (clipped - sums).sum(axis=1).astype(np.float64)
            worst = max(worst, float(np.linalg.norm(error) / max(np.linalg.norm(exact), 1.0)))
    return saturated / max(total, 1), worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paragraphs", type=int, default=200)
    parser.add_argument("--squad", type=Path, default=SQUAD)
    args = parser.parse_args()
    model_dir = default_model_path()
    texts = paragraphs(args.squad, args.paragraphs)
    reference = SentenceTransformerEmbedder(model_dir)
    expected_tests, expected = reference.embed(TEST_TEXTS), reference.embed(texts)
    float_path = ensure_onnx(model_dir, quantized=False)
    out = float_path.parent / "benchmark"
    out.mkdir(exist_ok=True)
    settings = [OLD, *QUANTIZATIONS]
    files = {}
    for setting in settings:
        files[setting.name] = out / f"{setting.name.split()[0]}.onnx"
        if not files[setting.name].exists():
            quantize_model(float_path, files[setting.name], setting)
    embedders = {s.name: OnnxEmbedder(model_dir, model_file=files[s.name]) for s in settings}
    embedders["float"] = OnnxEmbedder(model_dir, model_file=float_path)
    best = dict.fromkeys(embedders, float("inf"))
    for _ in range(3):
        for name, embedder in embedders.items():
            started = time.perf_counter()
            embedder.embed(texts)
            best[name] = min(best[name], time.perf_counter() - started)
    for name, embedder in embedders.items():
        tests = np.sum(embedder.embed(TEST_TEXTS) * expected_tests, axis=1)
        squad = np.sum(embedder.embed(texts) * expected, axis=1)
        line = (
            f"{name:14} tests {' '.join(f'{c:.4f}' for c in tests)}  "
            f"squad mean {squad.mean():.4f} min {squad.min():.4f}  "
            f"{len(texts) / best[name]:.1f} texts/s"
        )
        if name != "float":
            share, worst = saturation(model_dir, files[name], [*TEST_TEXTS, *texts[:20]])
            probe = probe_agreement(model_dir, float_path, files[name])
            line += f"  probes min {probe:.4f}  AVX2 saturated pairs {share:.2e}"
            line += f", worst layer error {worst:.3f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
