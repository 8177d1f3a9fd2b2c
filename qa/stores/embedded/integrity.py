"""What ``qa check`` verifies in the rows of an index database, beyond SQLite's own checks.

- ``vector_faults``: stored vectors must decode to ``dimension`` finite numbers of unit length
  (every embedder L2-normalises). One function for every stored dtype: a new encoding (float16,
  int8 with a scale, ...) is one more entry in ``DTYPES``.
- ``RowsDigest``: a SHA-256 over an article's chunk and sentence rows (offsets, token counts,
  embedded-text hashes, vector bytes), recorded when the article is written and recomputed by
  ``qa check``. Article text is covered by its content hash and chunk text by the offsets check;
  this covers what neither sees: a vector whose bytes changed but still looks like a unit vector
  (a flipped sign), or a sentence whose offsets moved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class StoredDtype:
    """How vectors of one stored encoding decode, and how far from unit length they may be."""

    numpy: str
    norm_tolerance: float


# float32 vectors are normalised by the model and stored as is: their norm is 1 to ~1e-6.
DTYPES = {"float32": StoredDtype("<f4", 1e-3)}

# The columns each digest covers, in this order: the write path (``sqlite.Store.put_article``)
# and the check read the same ones, so a new column is added in one place.
CHUNK_DIGEST_COLUMNS = ("seq", "start", "end", "tokens", "embed_hash", "vector")
SENTENCE_DIGEST_COLUMNS = ("start", "end", "embed_hash", "vector")


def vector_bytes(dimension: int, dtype: str = "float32") -> int:
    """How many bytes a stored vector of ``dimension`` numbers takes."""
    return np.dtype(DTYPES[dtype].numpy).itemsize * dimension


def vector_faults(blobs: Sequence[object], dimension: int, dtype: str = "float32") -> list[int]:
    """Positions in ``blobs`` that are not ``dimension`` finite numbers of unit length."""
    kind = DTYPES[dtype]
    width = vector_bytes(dimension, dtype)
    faults = [
        n for n, blob in enumerate(blobs) if not isinstance(blob, bytes) or len(blob) != width
    ]
    whole = [n for n, blob in enumerate(blobs) if isinstance(blob, bytes) and len(blob) == width]
    if not whole:
        return faults
    packed = b"".join(blobs[n] for n in whole)  # type: ignore[misc]
    vectors: npt.NDArray[np.float64] = np.frombuffer(packed, dtype=kind.numpy).astype(np.float64)
    vectors = vectors.reshape(len(whole), dimension)
    finite = np.isfinite(vectors).all(axis=1)
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.linalg.norm(np.where(np.isfinite(vectors), vectors, 0.0), axis=1)
    bad = ~finite | (np.abs(norms - 1.0) > kind.norm_tolerance)
    faults.extend(whole[int(n)] for n in np.flatnonzero(bad))
    return sorted(faults)


class RowsDigest:
    """``digest.chunk(values)`` / ``digest.sentence(values)`` in row order, then ``hexdigest()``.

    Each value is tagged with its type and length, so an integer that became text, or bytes
    moved from one column to the next, change the digest."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()

    def chunk(self, values: Sequence[object]) -> None:
        self._add(b"C", values)

    def sentence(self, values: Sequence[object]) -> None:
        self._add(b"S", values)

    def _add(self, kind: bytes, values: Sequence[object]) -> None:
        self._sha.update(kind)
        for value in values:
            if isinstance(value, bytes | bytearray | memoryview):
                tag, data = b"b", bytes(value)
            elif isinstance(value, bool | int):
                tag, data = b"i", str(int(value)).encode()
            elif isinstance(value, str):
                tag, data = b"t", value.encode("utf-8", "surrogatepass")
            elif value is None:
                tag, data = b"n", b""
            else:  # a float (SQLite may hand one back from a damaged row)
                tag, data = b"f", repr(value).encode()
            self._sha.update(tag + len(data).to_bytes(8, "little") + data)

    def hexdigest(self) -> str:
        return self._sha.hexdigest()
