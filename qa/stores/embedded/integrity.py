"""What ``qa check`` verifies in the rows of an index database, beyond SQLite's own checks.

- ``vector_faults``: stored vectors must decode to ``dimension`` finite numbers of unit length
  (every embedder L2-normalises). One function for every stored format of
  ``qa.stores.vector_format``, each with its own rule: float32 and float16 within their rounding
  of unit length; int8 (a scale, then one byte per number) with a positive finite scale, no code
  -128, a largest code of exactly ±127 (the encoder sets the scale so) and ``scale * |codes|``
  within the rounding bound of 1 (each code is off by at most half a scale step).
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

from qa.stores import vector_format


@dataclass(frozen=True)
class StoredDtype:
    """How vectors of one plain float encoding decode, and how far from unit length they may be."""

    numpy: str
    norm_tolerance: float


# float32 vectors are normalised by the model and stored as is: their norm is 1 to ~1e-6.
# float16 rounds each number to 11 significant bits (relative error <= 2**-11 ~ 5e-4).
DTYPES = {
    vector_format.FLOAT32: StoredDtype("<f4", 1e-3),
    vector_format.FLOAT16: StoredDtype("<f2", 2e-3),
}
# int8: the tolerance on top of the rounding bound (the float32 vector it came from).
INT8_SLACK = 1e-3
INT8_PEAK = 127

# The columns each digest covers, in this order: the write path (``sqlite.Store.put_article``)
# and the check read the same ones, so a new column is added in one place.
CHUNK_DIGEST_COLUMNS = ("seq", "start", "end", "tokens", "embed_hash", "vector")
SENTENCE_DIGEST_COLUMNS = ("start", "end", "embed_hash", "vector")


def vector_bytes(dimension: int, dtype: str = vector_format.FLOAT32) -> int:
    """How many bytes a stored vector of ``dimension`` numbers takes in format ``dtype``."""
    return vector_format.blob_bytes(dtype, dimension)


def vector_faults(
    blobs: Sequence[object], dimension: int, dtype: str = vector_format.FLOAT32
) -> list[int]:
    """Positions in ``blobs`` that are not ``dimension`` finite numbers of unit length, stored
    in format ``dtype`` (a name of ``vector_format.FORMATS``)."""
    width = vector_bytes(dimension, dtype)
    faults = [
        n for n, blob in enumerate(blobs) if not isinstance(blob, bytes) or len(blob) != width
    ]
    whole = [n for n, blob in enumerate(blobs) if isinstance(blob, bytes) and len(blob) == width]
    if not whole:
        return faults
    packed = b"".join(blobs[n] for n in whole)  # type: ignore[misc]
    if dtype == vector_format.INT8:
        bad = _int8_faults(packed, len(whole), dimension)
    else:
        kind = DTYPES[dtype]
        vectors = np.frombuffer(packed, dtype=kind.numpy).astype(np.float64)
        norms, finite = _norms(vectors.reshape(len(whole), dimension))
        bad = ~finite | (np.abs(norms - 1.0) > kind.norm_tolerance)
    faults.extend(whole[int(n)] for n in np.flatnonzero(bad))
    return sorted(faults)


def _norms(
    vectors: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Each row's norm (non-finite numbers counted as 0) and whether the row is all finite."""
    finite = np.asarray(np.isfinite(vectors).all(axis=1), dtype=np.bool_)
    with np.errstate(over="ignore", invalid="ignore"):
        norms: npt.NDArray[np.float64] = np.linalg.norm(
            np.where(np.isfinite(vectors), vectors, 0.0), axis=1
        )
    return norms, finite


def _int8_faults(packed: bytes, count: int, dimension: int) -> npt.NDArray[np.bool_]:
    """Which of ``count`` int8 vectors break the encoder's rule (see the module's docstring).
    Decoding renormalises, so without this rule damage to a scale would never show."""
    scale_bytes = vector_format.SCALE_BYTES
    raw = np.frombuffer(packed, dtype=np.uint8).reshape(count, scale_bytes + dimension)
    scales = raw[:, :scale_bytes].copy().view("<f4")[:, 0].astype(np.float64)
    codes = raw[:, scale_bytes:].view(np.int8).astype(np.int64)
    peaks = np.abs(codes).max(axis=1) if dimension else np.zeros(count, np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        norms = scales * np.linalg.norm(codes, axis=1)
        bound = 0.5 * np.abs(scales) * np.sqrt(dimension) + INT8_SLACK
        good = (
            np.isfinite(scales)
            & (scales > 0)
            & (peaks == INT8_PEAK)
            & (codes.min(axis=1, initial=0) > -128)
            & np.isfinite(norms)
            & (np.abs(norms - 1.0) <= bound)
        )
    return ~good


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
