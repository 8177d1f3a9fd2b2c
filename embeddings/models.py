"""Turn a ``--model`` value into an embedder."""

from __future__ import annotations

from pathlib import Path

from embeddings.base import Embedder, EmbeddingError
from embeddings.hashing import HashEmbedder
from embeddings.onnx import BACKENDS, DEFAULT_BACKEND, OnnxEmbedder
from embeddings.sentence import DEFAULT_MODEL, SentenceTransformerEmbedder, default_model_path

HASH_PREFIX = "hash"


def load_embedder(spec: str | None = None, backend: str | None = None) -> Embedder:
    """Return the embedder named by ``spec`` (nothing heavy is loaded until it is used).

    ``backend`` runs a sentence-transformers model with ONNX Runtime, int8-quantised
    ("onnx-int8", the default: fastest, vectors within ~0.5% of float) or float ("onnx"), or
    with PyTorch ("torch", what sentence-transformers does).

    - ``None`` or ``"all-MiniLM-L6-v2"``: the bundled default model;
    - a folder path: any local sentence-transformers model;
    - ``"hash"`` or ``"hash-64"``: the deterministic test embedder (no meaning; for tests).
    """
    if spec is not None and (spec == HASH_PREFIX or spec.startswith(HASH_PREFIX + "-")):
        size = spec[len(HASH_PREFIX) + 1 :] or "64"
        if not size.isdigit():
            raise EmbeddingError(f"Unknown test model {spec!r}: use 'hash' or 'hash-DIMENSION'.")
        return HashEmbedder(dimension=int(size))
    backend = backend or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise EmbeddingError(f"Unknown backend {backend!r}: use one of {', '.join(BACKENDS)}.")
    if spec is None or spec == DEFAULT_MODEL:
        return _model(default_model_path(), DEFAULT_MODEL, backend)
    path = Path(spec).expanduser()
    if not path.exists():
        raise EmbeddingError(
            f"Model {spec!r} is not a local folder. article-qa never downloads models: pass the "
            "folder of a sentence-transformers model, or leave --model out to use the bundled "
            f"{DEFAULT_MODEL}."
        )
    return _model(path, None, backend)


def _model(path: Path, name: str | None, backend: str) -> Embedder:
    if backend == "torch":
        return SentenceTransformerEmbedder(path, name=name)
    SentenceTransformerEmbedder(path)  # checks the folder is a model, with a clear message
    return OnnxEmbedder(path, name=name, quantized=backend == "onnx-int8")
