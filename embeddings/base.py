"""What an embedding model must offer article-qa."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class EmbeddingError(Exception):
    """A model could not be found or loaded; the message is written for users."""


class Embedder(Protocol):
    """A text embedding model.

    ``name`` identifies the model in the index config, ``backend`` what runs it ("torch",
    "onnx", "onnx-int8"; vectors differ slightly between them, so an index records it).
    ``max_tokens`` is the longest input, counted by ``count_tokens`` (the model's own tokenizer,
    special tokens included), that the model embeds without truncating. Vectors are float32
    and L2-normalised, so inner product = cosine.
    """

    @property
    def name(self) -> str: ...

    @property
    def path(self) -> str | None: ...

    @property
    def backend(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def embed(self, texts: list[str]) -> Vectors: ...
