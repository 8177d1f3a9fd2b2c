"""Convert a sentence-transformers model folder to ONNX, once, into a local cache.

The exported graph is the transformer only (token ids in, token vectors out); tokenising, pooling
and normalising stay in :mod:`embeddings.onnx`, so the runtime needs neither torch nor
transformers. Three steps, measured on all-MiniLM-L6-v2 on 2 CPU cores (benchmarks/README.md):

1. ``torch.onnx.export`` with eager attention: the pattern ONNX Runtime's optimizer recognises;
2. ONNX Runtime's BERT optimizer fuses attention, LayerNorm and GELU (1.26x -> 1.39x of plain
   ``SentenceTransformer.encode`` in float32);
3. dynamic int8 quantisation with one scale per output channel. One scale per tensor was faster
   still but moved vectors too far (mean cosine to the float model .948); per channel keeps
   .994 at 2.7x the speed of plain encode.
   Weights are 7-bit (``reduce_range``) so no CPU's kernel saturates, and the result is checked
   on a few probe texts against the float model before it is kept (``quantize_checked``).

Conversion takes about 10 s and imports torch; the result is cached by the model's files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings.base import EmbeddingError
from embeddings.sentence import go_offline

log = logging.getLogger("article_qa")
# No usage telemetry from ONNX Runtime during the conversion either (see embeddings/onnx.py).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

CACHE_ENV = "QA_CACHE_DIR"
# Bump when the conversion recipe changes, so old caches are not reused.
RECIPE = "2"  # 2: 7-bit int8 weights (reduce_range) and the probe check below
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class Quantization:
    """One dynamic int8 setting for ``quantize_dynamic`` (activations are always uint8)."""

    name: str
    weight_type: str  # a ``QuantType`` name: "QInt8" or "QUInt8"
    reduce_range: bool


# Tried in turn; the first whose vectors agree with the float model on PROBES is kept, else the
# float model is used. Signed 8-bit weights times unsigned activations saturate on AVX2 CPUs
# without VNNI (vpmaddubsw adds two u8*s8 products in 16 bits: 2*255*127 > 32767); there the old
# recipe agreed with sentence-transformers at .976 on a Russian text. 7-bit weights cannot
# saturate (2*255*64 <= 32767) and unsigned weights use a kernel without the 16-bit step, so both
# give the same vectors on every x86-64 CPU. Figures and commands: docs/int8.md.
QUANTIZATIONS = (
    Quantization("s8-7bit", "QInt8", reduce_range=True),
    Quantization("u8", "QUInt8", reduce_range=False),
)
# Texts embedded with both models at conversion time; the non-English ones are where int8 loses
# most (English-only vocabulary: many short word pieces).
PROBES = (
    "The harbour reopened after the storm, and the first ships arrived on Monday.",
    "Warsaw\nThe Vistula River flows through Warsaw for 28 km.",
    "Der Hafen wurde nach dem Sturm wieder geöffnet.",
    "Москва — столица России, крупнейший по численности населения город страны.",
    "short",
)
# Lowest cosine to the float model on PROBES that an int8 model must reach: the bar of
# tests/test_integration.py (the float model is within 2e-4 of sentence-transformers). On an
# AVX-512 VNNI Xeon each setting reaches .986-.987 (docs/int8.md); saturation falls below it.
MIN_AGREEMENT = 0.98


def cache_dir() -> Path:
    """``$QA_CACHE_DIR``, else ``$XDG_CACHE_HOME/article-qa``, else ``~/.cache/article-qa``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "article-qa"


def model_fingerprint(model_dir: Path) -> str:
    """A hash of the model's weights and configs (names, sizes, and the small files' bytes)."""
    digest = hashlib.sha256(RECIPE.encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(model_dir)}:{stat.st_size}".encode())
        if stat.st_size < 4 * 2**20:  # configs and vocabularies; weights count by size above
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def onnx_path(model_dir: Path, quantized: bool, label: str | None = None) -> Path:
    """Where the converted model lives (it may not exist yet); ``label`` names its folder."""
    name = "model-int8.onnx" if quantized else "model.onnx"
    folder = f"{label or model_dir.name}-{model_fingerprint(model_dir)}"
    return cache_dir() / "onnx" / folder / name


def ensure_onnx(
    model_dir: Path,
    quantized: bool = True,
    label: str | None = None,
    agreement: Callable[[Path, Path, Path], float] | None = None,
) -> Path:
    """The cached ONNX file for ``model_dir``, converting the model first if needed.

    ``agreement(model_dir, float_path, int8_path)`` scores an int8 candidate against the float
    model (``embeddings.onnx.probe_agreement``, passed in by the embedder that runs them, so this
    module never imports it); an int8 conversion needs it."""
    target = onnx_path(model_dir, quantized, label)
    if target.exists():
        return target
    log.info(
        "Converting %s to ONNX%s for fast CPU inference (once; cached in %s)...",
        label or model_dir.name,
        " int8" if quantized else "",
        target.parent,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Temp names unique to this process; renames make the result appear whole or not at all,
    # even when two processes convert at once.
    stem = target.parent / f".{os.getpid()}"
    exported, fused = Path(f"{stem}.export.onnx"), Path(f"{stem}.fused.onnx")
    try:
        quietly(_export, model_dir, exported)
        quietly(optimize_graph, model_dir, exported, fused)
        float_path = onnx_path(model_dir, quantized=False, label=label)
        if not float_path.exists():
            os.replace(fused, float_path)
        if quantized:
            if agreement is None:
                raise EmbeddingError("An int8 conversion needs an agreement check (agreement=).")
            quantize_checked(model_dir, float_path, target, stem, agreement=agreement)
    except EmbeddingError:
        raise
    except Exception as error:  # the model's architecture may not export; say what to do
        raise EmbeddingError(
            f"Could not convert the model in {model_dir} to ONNX ({error}). "
            "Use --backend torch to run it with PyTorch instead."
        ) from error
    finally:
        for leftover in target.parent.glob(f".{os.getpid()}.*"):
            leftover.unlink(missing_ok=True)
    return target


def quietly(step: Any, *args: Any) -> None:
    """Run a conversion step without its warnings (tracer notes, logging advice to root)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            step(*args)
        finally:
            logging.disable(logging.NOTSET)


def _export(model_dir: Path, out: Path) -> None:
    import torch

    go_offline()
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    # Eager attention exports as plain MatMul/Softmax, which ONNX Runtime fuses into one
    # Attention op; the default SDPA path exports in a shape the optimizer does not recognise.
    model = AutoModel.from_pretrained(
        str(model_dir), local_files_only=True, attn_implementation="eager"
    ).eval()
    names = [n for n in INPUTS if n != "token_type_ids" or _uses_token_types(model_dir)]

    class Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: Any) -> Any:
            return self.inner(**dict(zip(names, inputs, strict=True))).last_hidden_state

    sample = tuple(torch.ones(2, 16, dtype=torch.long) for _ in names)
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    with torch.no_grad():
        torch.onnx.export(
            Encoder(model),
            sample,
            str(out),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def _uses_token_types(model_dir: Path) -> bool:
    config = _model_config(model_dir)
    return int(config.get("type_vocab_size", 0)) > 1 or config.get("model_type") == "bert"


def _model_config(model_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def optimize_graph(model_dir: Path, source: Path, out: Path) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    config = _model_config(model_dir)
    heads, hidden = config.get("num_attention_heads"), config.get("hidden_size")
    if not isinstance(heads, int) or not isinstance(hidden, int):
        os.replace(source, out)  # unknown shape: run the plain graph
        return
    optimized = optimize_model(
        str(source), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1
    )
    optimized.save_model_to_file(str(out))


def quantize_checked(
    model_dir: Path,
    float_path: Path,
    target: Path,
    stem: Path,
    quantize: Callable[[Path, Path, Quantization], None] | None = None,
    agreement: Callable[[Path, Path, Path], float] | None = None,
) -> Quantization | None:
    """Write the first int8 model that agrees with the float one to ``target``; else the float.

    Returns the setting kept (None: the float model was copied). ``quantize`` and ``agreement``
    default to the real steps; tests pass fakes.
    """
    if agreement is None:
        raise EmbeddingError("quantize_checked needs agreement= (embeddings.onnx.probe_agreement).")
    quantize = quantize or quantize_model
    for setting in QUANTIZATIONS:
        candidate = Path(f"{stem}.{setting.name}.onnx")
        quietly(quantize, float_path, candidate, setting)
        score = agreement(model_dir, float_path, candidate)
        if score >= MIN_AGREEMENT:
            os.replace(candidate, target)
            log.debug("int8 setting %s: lowest probe cosine %.4f", setting.name, score)
            return setting
        log.info(
            "int8 setting %s agrees with the float model at only %.4f (< %s) on this CPU.",
            setting.name,
            score,
            MIN_AGREEMENT,
        )
        candidate.unlink(missing_ok=True)
    log.warning(
        "No int8 setting kept the model's quality on this CPU; using the float32 ONNX model "
        "instead (same vectors, about half the speed). Cached in %s.",
        target.parent,
    )
    copy = Path(f"{stem}.float-copy.onnx")
    shutil.copyfile(float_path, copy)
    os.replace(copy, target)
    return None


def quantize_model(source: Path, out: Path, setting: Quantization) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source),
        str(out),
        weight_type=QuantType[setting.weight_type],
        reduce_range=setting.reduce_range,
        per_channel=True,
        # The fused graph has ops shape inference cannot type; their outputs are float32.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
