"""The four test texts and the probes against each int8 setting (docs/int8.md table).

Needs the files benchmarks/int8_agreement.py writes first (the "benchmark" folder beside the
float ONNX model in the cache). Run: QA_CACHE_DIR=/tmp/int8-cache PYTHONPATH=. python
benchmarks/int8_quick.py
"""

from __future__ import annotations

import numpy as np

from benchmarks.int8_agreement import TEST_TEXTS
from embeddings.export import ensure_onnx
from embeddings.onnx import OnnxEmbedder, probe_agreement
from embeddings.sentence import SentenceTransformerEmbedder, default_model_path

m = default_model_path()
ref = SentenceTransformerEmbedder(m).embed(TEST_TEXTS)
f = ensure_onnx(m, quantized=False)
for name in ["s8", "s8-7bit", "u8"]:
    q = f.parent / "benchmark" / f"{name}.onnx"
    c = np.sum(OnnxEmbedder(m, model_file=q).embed(TEST_TEXTS) * ref, axis=1)
    print(
        name,
        " ".join(f"{x:.4f}" for x in c),
        f"probes min {probe_agreement(m, f, q):.4f}",
        flush=True,
    )
