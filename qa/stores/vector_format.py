"""How stored vectors are laid out in bytes: the one place that knows (issue 26).

Sentence vectors are ~4.4 per chunk, so their size decides an index's size: 1,536 bytes each as
float32 (384-d), about 6.5 GB at a million chunks. They are only ever compared with a question
(the best-sentence score of the fusion, the answer's sentence cosines), where int8 with one scale
per vector changed no figure by more than .003 (benchmarks/README.md), so new indexes store them
so: 388 bytes each.

Formats, by name (the embedded store records its sentences' format in its database; an index
that records none is from before this module and holds float32):

- ``float32``: the numbers as they are (4 bytes each; chunk vectors always);
- ``float16``: half precision (2 bytes each);
- ``int8``: a float32 scale, then one signed byte per number: ``x ≈ scale * code`` with
  ``scale = max|x| / 127``. Decoding renormalises (stored vectors are unit length).

    blob = encode(vector, "int8")
    vectors = decode([blob, ...], "int8")     # float32, one row per blob
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FLOAT32 = "float32"
FLOAT16 = "float16"
INT8 = "int8"
FORMATS = (FLOAT32, FLOAT16, INT8)
DEFAULT_SENTENCE_FORMAT = INT8
# What an index that records no format holds (every index written before issue 26).
LEGACY_FORMAT = FLOAT32
SCALE_BYTES = 4


class UnknownFormatError(ValueError):
    """A format name this version does not know (an index written by a newer article-qa)."""


def _known(name: str) -> str:
    if name not in FORMATS:
        raise UnknownFormatError(
            f"unknown vector format {name!r} (this article-qa reads {', '.join(FORMATS)})"
        )
    return name


def blob_bytes(name: str, dimension: int) -> int:
    """The size of one stored vector of ``dimension`` numbers in format ``name``."""
    name = _known(name)
    if name == FLOAT32:
        return 4 * dimension
    if name == FLOAT16:
        return 2 * dimension
    return SCALE_BYTES + dimension


def encode(vector: npt.NDArray[np.floating], name: str) -> bytes:
    """One vector's bytes in format ``name``."""
    return encode_many(np.asarray(vector, dtype=np.float32)[None, :], name)[0]


def encode_many(vectors: npt.NDArray[np.floating], name: str) -> list[bytes]:
    """Each row's bytes in format ``name``."""
    name = _known(name)
    rows = np.ascontiguousarray(vectors, dtype=np.float32)
    if rows.ndim != 2:
        raise ValueError(f"vectors must be one row per vector. Currently, shape is {rows.shape}")
    if name == FLOAT32:
        return [row.tobytes() for row in rows]
    if name == FLOAT16:
        return [row.astype(np.float16).tobytes() for row in rows]
    peaks = np.abs(rows).max(axis=1) if rows.shape[1] else np.zeros(len(rows), np.float32)
    scales = np.where(peaks > 0, peaks / 127.0, 1.0).astype(np.float32)
    codes = np.clip(np.rint(rows / scales[:, None]), -127, 127).astype(np.int8)
    return [scale.tobytes() + code.tobytes() for scale, code in zip(scales, codes, strict=True)]


def dimension_of(name: str, size: int) -> int:
    """How many numbers a blob of ``size`` bytes in format ``name`` holds."""
    name = _known(name)
    if name == FLOAT32:
        return size // 4
    if name == FLOAT16:
        return size // 2
    return max(size - SCALE_BYTES, 0)


def decode(
    blobs: Sequence[bytes], name: str, dimension: int | None = None
) -> npt.NDArray[np.float32]:
    """The vectors of ``blobs`` as float32 rows. Every blob must have the size of ``dimension``
    numbers (default: as many as the first blob holds)."""
    if not blobs:
        return np.zeros((0, dimension or 0), dtype=np.float32)
    if dimension is None:
        dimension = dimension_of(name, len(blobs[0]))
    size = blob_bytes(name, dimension)
    wrong = next((len(blob) for blob in blobs if len(blob) != size), None)
    if wrong is not None:
        raise ValueError(
            f"a stored {name} vector has {wrong} bytes, not the {size} of {dimension} numbers"
        )
    raw = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), size)
    if name == FLOAT32:
        return raw.view(np.float32).copy()
    if name == FLOAT16:
        return raw.view(np.float16).astype(np.float32)
    # A positive scale cancels out when the row is renormalised, so the codes are normalised as
    # they are. Multiplying by the scales first took 0.46 of 0.53 ms for the ~330 sentences of
    # one question's candidates; this way the decode takes 0.07 ms. (The encoder's scales are
    # always positive; `qa check` reports any other as damage: integrity.vector_faults.)
    vectors = raw[:, SCALE_BYTES:].view(np.int8).astype(np.float32)
    vectors /= np.maximum(np.sqrt(np.einsum("ij,ij->i", vectors, vectors)), 1e-12)[:, None]
    return vectors
