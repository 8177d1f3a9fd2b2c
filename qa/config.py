"""``config.json`` of an index folder: what the index was built with.

An index always answers with the model it was built with; opening it with another model is an
error, not silently wrong results. The config records the model's name, path, dimension and a
*probe*: the first coordinates of the vector of a fixed sentence, which tells two models apart
even when their names match.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from embeddings import DEFAULT_MODEL, Embedder, EmbeddingError, load_embedder
from qa.errors import IndexConfigError, IndexFormatError, ModelError, ModelMismatchError
from qa.layout import CONFIG_FILE

# 2: chunks follow paragraphs and headings (qa/pipeline/chunking.py); version-1 indexes must be
# rebuilt. 3: every sentence of every chunk has a stored vector (sentence evidence, issue 15).
FORMAT_VERSION = 3
PROBE_TEXT = "article-qa checks that an index is searched with the model that built it."
PROBE_DIMS = 8
PROBE_TOLERANCE = 1e-3

# How sentence vectors are made (recorded in config.json, so every later ingest of an index makes
# them the same way):
# - "alone": each sentence embedded on its own text;
# - "titled": each sentence embedded on its own, title-prefixed like its chunk (issue 15; the
#   indexes written before issue 26 record nothing and were made this way). On news the repeated
#   titles made the sentences' tokens 1.84x the chunks';
# - "late": pooled from the chunk's own pass over each sentence's tokens (embeddings/spans.py):
#   one forward pass per chunk gives the chunk's vector and all its sentences';
# - "pooled": sentences made as "titled"; each chunk's vector is then the mean of its sentences'
#   vectors, weighted by their length, so the model never reads the chunk itself. Where a chunk
#   has no sentence, the chunk is embedded.
# Measured on both dev files (benchmarks/README.md, issue 26), a new default had to lose no more
# than .005 on any figure. Late chunking halves what the model reads but lost .013 R@1 and .019
# answer hit on SQuAD (with the trained reader; .017 and .021 before it). "alone" reads 36% fewer
# tokens on news and gains there (+.014 R@1), but on SQuAD it lost .008 R@1 and .008 answer hit
# (its short titles cost only 2% of the tokens). "pooled" reads 48% fewer tokens on SQuAD and 35%
# fewer on news. On 1,000 held-out questions a file it lost .009 of SQuAD's answer hit
# (benchmarks/sentence_vectors.py --variants titled-int8 pooled-int8, the trained reader on);
# on every held-out question (qa eval --half odd, 5,173 SQuAD and 2,230 NYT) SQuAD lost .001-.004
# and news .006 of answer hit and .005 of citation precision. With a share of the context line's
# vector taken off each pooled chunk vector (qa.pipeline.ingest.POOLED_CONTEXT_SHARE, 2026-12-05)
# it is within .004 of "titled" on every figure of both files (measured the same day: SQuAD R@1
# .856 / .859, answer hit .826 / .829; NYT .810 / .808, .739 / .739), and so is the plain
# "pooled" in today's code (NYT answer hit .739; its R@5 -.003). So "pooled" meets the rule, and
# new indexes make it (2026-12-05; ingest of SQuAD dev in the side-by-side run with txtai:
# README "Speed"). An index keeps the way it was made: those from before record "titled".
ALONE = "alone"
TITLED = "titled"
LATE = "late"
POOLED = "pooled"
SENTENCE_VECTORS = (ALONE, TITLED, LATE, POOLED)
DEFAULT_SENTENCE_VECTORS = POOLED


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
    # How sentence vectors are made (SENTENCE_VECTORS): "titled" (title-prefixed: the default,
    # and what indexes that record nothing were built with), "alone" or "late" (pooled from the
    # chunk's own pass).
    sentence_vectors: str = TITLED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Each field's JSON type(s): a config that parses but holds other types is damaged.
_TYPES: dict[str, tuple[type, ...]] = {
    "model": (str,),
    "model_path": (str, type(None)),
    "dimension": (int,),
    "model_max_tokens": (int,),
    "probe": (list,),
    "encoding": (str,),
    "chunk_tokens": (int,),
    "overlap_tokens": (int,),
    "format_version": (int,),
    "backend": (str,),
    "vector_index": (dict,),
    "store": (str, type(None)),
    "sentence_vectors": (str,),
}
_KINDS = {str: "text", int: "a whole number", list: "a list", dict: "an object"}
_REQUIRED = ("model", "model_path", "dimension", "model_max_tokens", "probe", "encoding",
             "chunk_tokens", "overlap_tokens")  # fmt: skip


def missing_config(folder: Path) -> IndexConfigError:
    return IndexConfigError(
        f"The index in {folder} has no {CONFIG_FILE}, so nobody knows which model built its "
        "vectors."
    )


def config_from_dict(data: Any, where: str) -> IndexConfig:
    """An ``IndexConfig`` from parsed JSON; anything else than the fields with their types is an
    ``IndexConfigError`` (``where`` names the file in the message)."""
    if not isinstance(data, dict):
        raise IndexConfigError(
            f"{where} is damaged (it holds a JSON {type(data).__name__}, not an object)."
        )
    version = data.get("format_version", FORMAT_VERSION)
    if isinstance(version, int) and version != FORMAT_VERSION:
        raise IndexFormatError(
            f"The index with {where} has format version {version}; this article-qa reads "
            f"version {FORMAT_VERSION}. Re-ingest your articles into a new index folder."
        )
    unknown = sorted(set(data) - set(_TYPES))
    missing = [name for name in _REQUIRED if name not in data]
    wrong = [
        name
        for name, value in data.items()
        if name in _TYPES
        and (
            not isinstance(value, _TYPES[name]) or (isinstance(value, bool) and int in _TYPES[name])
        )
    ]
    problems = (
        [f"unknown field {name!r}" for name in unknown[:3]]
        + [f"no {name!r}" for name in missing[:3]]
        + [f"{name!r} is {data[name]!r:.40}, not {_KINDS[_TYPES[name][0]]}" for name in wrong[:3]]
    )
    if not problems:
        if data["dimension"] < 1 or data["chunk_tokens"] < 1 or data["overlap_tokens"] < 0:
            problems.append("a size is out of range")
        elif not all(isinstance(x, int | float) and not isinstance(x, bool) for x in data["probe"]):
            problems.append("'probe' holds something other than numbers")
        elif data.get("sentence_vectors", TITLED) not in SENTENCE_VECTORS:
            problems.append(
                f"'sentence_vectors' is {data['sentence_vectors']!r:.40}, not one of "
                f"{', '.join(SENTENCE_VECTORS)}"
            )
    if problems:
        raise IndexConfigError(f"{where} is damaged ({'; '.join(problems)}).")
    return IndexConfig(**data)


def read_config(folder: Path) -> IndexConfig | None:
    """The folder's config; None when it has none. A config that cannot be read, or holds
    something else than a config, is an ``IndexConfigError`` whose message says what to do."""
    path = folder / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise IndexConfigError(f"{path} is a folder, not a file.") from None
    except UnicodeDecodeError as error:
        raise IndexConfigError(f"{path} is damaged (not UTF-8 text: {error.reason}).") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise IndexConfigError(f"{path} is damaged (not JSON: {error}).") from None
    return config_from_dict(data, str(path))


def config_json(config: IndexConfig) -> str:
    """The config as the index database keeps its copy (compared field by field, not as text)."""
    return json.dumps(config.to_dict(), sort_keys=True)


def same_config(a: IndexConfig, b: IndexConfig, layout: bool = True) -> bool:
    """Whether two configs agree (``layout=False``: except the vector index layout, which a
    writer updates a moment before it records the database's copy)."""
    if layout:
        return a == b
    return replace(a, vector_index={}) == replace(b, vector_index={})


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
