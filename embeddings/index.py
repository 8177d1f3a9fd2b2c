"""A FAISS vector index keyed by chunk id, saved atomically.

Exact inner-product search (``IndexIDMap2`` over ``IndexFlatIP``): vectors are L2-normalised, so
scores are cosine similarities. ``IDMap2`` keeps an id -> vector map, so vectors can be removed
and read back by chunk id.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.base import Vectors

Ids = npt.NDArray[np.int64]
KIND = "flat-ip"


def _faiss() -> Any:
    import faiss  # imported here: `qa --help` and `qa list` must not pay for it

    return faiss


class VectorIndex:
    """``VectorIndex(dimension)``; ``add(ids, vectors)``, ``remove(ids)``, ``search(q, k)``."""

    def __init__(self, dimension: int, index: Any = None) -> None:
        if dimension < 1:
            raise ValueError(f"dimension must be positive. Currently, dimension is {dimension}")
        faiss = _faiss()
        self.dimension = dimension
        self.kind = KIND
        self._index = (
            index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        )

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: Ids, vectors: Vectors) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self.dimension):
            raise ValueError(
                f"expected {len(ids)} vectors of dimension {self.dimension}, got {vectors.shape}"
            )
        self._index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: Ids) -> int:
        if len(ids) == 0:
            return 0
        return int(self._index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64)))

    def ids(self) -> Ids:
        faiss = _faiss()
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def vector(self, chunk_id: int) -> Vectors:
        return np.asarray(self._index.reconstruct(int(chunk_id)), dtype=np.float32)

    def search(
        self, queries: Vectors, k: int, allowed: Ids | None = None
    ) -> tuple[npt.NDArray[np.float32], Ids]:
        """Top ``k`` (scores, ids) per query row, among ``allowed`` ids if given; missing slots
        have id -1."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, len(self))) if len(self) else 1
        if allowed is None:
            return self._index.search(queries, k)
        faiss = _faiss()
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        return self._index.search(queries, k, params=faiss.SearchParameters(sel=selector))

    def to_bytes(self) -> bytes:
        return bytes(_faiss().serialize_index(self._index))

    def save(self, path: Path) -> str:
        """Write to ``path`` atomically (temp file, fsync, rename); return the file's SHA-256."""
        data = self.to_bytes()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        return hashlib.sha256(data).hexdigest()

    @classmethod
    def load(cls, path: Path, dimension: int) -> VectorIndex:
        faiss = _faiss()
        data = np.fromfile(path, dtype=np.uint8)
        index = faiss.deserialize_index(data)
        if index.d != dimension:
            raise ValueError(f"{path} holds {index.d}-d vectors, expected {dimension}")
        return cls(dimension, index)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    # Make the rename itself durable; not every platform lets a directory be opened.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
