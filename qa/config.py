"""``config.json`` of an index folder: what the index was built with.

An index always answers with the model it was built with; opening it with another model is an
error, not silently wrong results. The config records the model's name, path, dimension and a
*probe*: the first coordinates of the vector of a fixed sentence, which tells two models apart
even when their names match.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from embeddings import DEFAULT_MODEL, Embedder, EmbeddingError, load_embedder
from qa.errors import IndexFormatError, ModelError, ModelMismatchError
from qa.layout import CONFIG_FILE

# 2: chunks follow paragraphs and headings (qa/pipeline/chunking.py); version-1 indexes must be
# rebuilt. 3: every sentence of every chunk has a stored vector (sentence evidence, issue 15).
FORMAT_VERSION = 3
PROBE_TEXT = "article-qa checks that an index is searched with the model that built it."
PROBE_DIMS = 8
PROBE_TOLERANCE = 1e-3


@dataclass(frozen=True)
class IndexConfig:
    model: str
    model_path: str | None
    dimension: int
    model_max_tokens: int
    probe: list[float]
    encoding: str
    chunk_tokens: int
    overlap_tokens: int
    format_version: int = FORMAT_VERSION
    # What ran the model: indexes from before backends existed were built with PyTorch.
    backend: str = "torch"
    vector_index: dict[str, Any] = field(default_factory=lambda: {"kind": "flat-ip"})
    # Where chunks live: None for the embedded store (SQLite + FAISS in the index folder), or a
    # Milvus URI (milvus:///abs/path.db for Milvus Lite, http://host:19530 for a server).
    store: str | None = None
    # How sentence vectors are made (qa/pipeline/ingest.py SENTENCE_VECTORS): "alone" (new
    # indexes since issue 26), "titled" (title-prefixed; what indexes that record nothing were
    # built with) or "late" (pooled from the chunk's own pass).
    sentence_vectors: str = "titled"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_config(folder: Path) -> IndexConfig | None:
    path = folder / CONFIG_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexFormatError(
                f"The index in {folder} has format version {version}; this article-qa reads "
                f"version {FORMAT_VERSION}. Re-ingest your articles into a new index folder."
            )
        return IndexConfig(**data)
    except (ValueError, TypeError) as error:
        raise IndexFormatError(
            f"{path} is damaged ({error}). Move the index folder away and ingest again."
        ) from error


def write_config(folder: Path, config: IndexConfig) -> None:
    """Write atomically: a crash leaves the old config or the new one, never half of one."""
    path = folder / CONFIG_FILE
    tmp = folder / f".{CONFIG_FILE}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(config.to_dict(), handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def load_model(spec: str | None, backend: str | None) -> Embedder:
    """The embedder for a ``--model`` value and backend, with errors as ``ModelError``."""
    try:
        return load_embedder(spec, backend)
    except EmbeddingError as error:
        raise ModelError(str(error)) from error


def model_spec(config: IndexConfig) -> str | None:
    """The model spec that reopens an index with the model it was built with."""
    if config.model == DEFAULT_MODEL:
        return None
    if config.model_path is None:
        return config.model  # a built-in test model such as "hash-64"
    if not Path(config.model_path).exists():
        raise ModelError(
            f"This index was built with the model in {config.model_path}, which is no longer "
            "there. Pass --model with that model's folder."
        )
    return config.model_path


def check_same_model(config: IndexConfig, embedder: Embedder, folder: Path) -> None:
    """Refuse a model other than the one the index was built with (by name or path)."""
    same_path = (
        embedder.path is not None
        and config.model_path is not None
        and Path(embedder.path).resolve() == Path(config.model_path).resolve()
    )
    if embedder.name != config.model and not same_path:
        raise ModelMismatchError(
            f"The index in {folder} was built with the model {config.model!r}, not "
            f"{embedder.name!r}. Leave --model out to use the index's model, or ingest into a "
            "new index folder (--index)."
        )
