"""A deterministic, dependency-free embedder for tests and dry runs.

Each word is hashed (BLAKE2b) to a signed coordinate, so texts sharing words get similar vectors:
enough for tests to exercise real search paths in milliseconds. It has no understanding of meaning.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from embeddings.base import Vectors

_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """``HashEmbedder(dimension=64, max_tokens=128)``: tokens are words, plus 2 special tokens."""

    def __init__(self, dimension: int = 64, max_tokens: int = 128) -> None:
        if dimension < 2:
            raise ValueError(f"dimension must be at least 2. Currently, dimension is {dimension}")
        if max_tokens < 4:
            raise ValueError(
                f"max_tokens must be at least 4. Currently, max_tokens is {max_tokens}"
            )
        self._dimension = dimension
        self._max_tokens = max_tokens
        self.calls = 0  # how many texts were embedded: lets tests check that no work was done
        self.embedded: list[str] = []

    @property
    def name(self) -> str:
        return f"hash-{self._dimension}"

    @property
    def path(self) -> str | None:
        return None

    @property
    def backend(self) -> str:
        return "hash"

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def count_tokens(self, texts: list[str]) -> list[int]:
        # Punctuation counts as a token too, so long unspaced strings still grow in tokens.
        return [len(_WORD.findall(text)) + len(re.findall(r"[^\w\s]", text)) + 2 for text in texts]

    def embed(self, texts: list[str]) -> Vectors:
        self.calls += len(texts)
        self.embedded.extend(texts)
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower()) or [""]
            for word in words:
                digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                sign = 1.0 if value & 1 else -1.0
                vectors[row, (value >> 1) % self._dimension] += sign
            norm = float(np.linalg.norm(vectors[row]))
            if norm == 0.0:
                vectors[row, 0] = 1.0
            else:
                vectors[row] /= norm
        return vectors
