"""A FAISS vector index keyed by chunk id: exact when small, approximate when large.

Vectors are L2-normalised, so inner product = cosine. Two layouts, chosen by size
(``choose_layout``) and recorded in the index config:

- ``flat-ip``: ``IndexIDMap2`` over ``IndexFlatIP``, exact. One query scans every vector: about
  0.4 ms per 10k vectors (one thread, see ``_threads_for``), too slow past a few tens of
  thousands.
- ``ivf-flat``: ``IndexIVFFlat`` (inner product), vectors grouped around ``nlist`` k-means
  centroids; a query scans the ``nprobe`` nearest groups. Chosen over HNSW by measurement
  (benchmarks/README.md): both answer in about a millisecond at recall@10 >= .95, but IVF builds
  a million vectors in under a minute where HNSW takes many, and IVF removes vectors natively,
  which incremental re-ingest needs (HNSW cannot delete).

Both keep an id -> vector map, so vectors can be removed and read back by chunk id.
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.base import Vectors

Ids = npt.NDArray[np.int64]
FLAT = "flat-ip"
IVF = "ivf-flat"
KIND = FLAT  # the layout of a new, empty index
# From this many vectors on, use the approximate layout. Below it, exact search is fast enough
# (under 1 ms for one query) and needs no training.
APPROXIMATE_FROM = 20_000
# k-means needs enough points per centroid (FAISS warns under 39); train on this many per list.
TRAIN_PER_LIST = 64
# Rebuild the IVF layout when the index has grown this many times past what it was trained on,
# so lists stay short; go back to exact search when it shrinks well under the threshold.
REGROW_FACTOR = 4
# With a filter that leaves at most this many vectors, score them all exactly instead.
EXACT_FILTER_MAX = 50_000


def _faiss() -> Any:
    import faiss  # imported here: `qa --help` and `qa list` must not pay for it

    return faiss


@contextmanager
def _threads_for(rows: int) -> Iterator[None]:
    """One OpenMP thread while FAISS answers a single query (more for batches).

    With one query FAISS still opens an OpenMP team, whose woken thread has next to nothing to
    do, then spins on and takes a core from the next question's embedding. One query, 2 cores:
    exact search of 20k vectors 0.8 ms in one thread against 2.2-2.8 in two; 2k vectors, and
    IVF at 200k and 1M, alike in both. With ONNX Runtime's threads spinning within a run
    (``embeddings.onnx.session_options``), the whole hybrid search's p95 was 7-8 ms without this
    and ~4 ms with it. The setting is the calling thread's own (OpenMP's per-thread ICV),
    restored after."""
    if rows != 1:
        yield
        return
    faiss = _faiss()
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def choose_layout(count: int, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The layout an index of ``count`` vectors should have (``current`` if it still fits)."""
    current = current or {"kind": FLAT}
    if count < APPROXIMATE_FROM:
        if current.get("kind") == IVF and count >= APPROXIMATE_FROM // 2:
            return current  # hysteresis: don't flip layouts around the threshold
        return {"kind": FLAT}
    trained = int(current.get("trained_on", 0))
    if current.get("kind") == IVF and trained and count <= REGROW_FACTOR * trained:
        return current
    # nlist ~ sqrt(count), a power of two: 128 lists at 20k vectors, 1,024 at 1M.
    nlist = 2 ** round(math.log2(math.sqrt(count)))
    # Scan 1/16 of the lists (at least 16): recall@10 >= .95 against exact search on real
    # embeddings and on the synthetic million (benchmarks/scale.py).
    nprobe = max(16, nlist // 16)
    return {"kind": IVF, "nlist": nlist, "nprobe": nprobe, "trained_on": count}


class VectorIndex:
    """``VectorIndex(dimension)``; ``add(ids, vectors)``, ``remove(ids)``, ``search(q, k)``."""

    def __init__(self, dimension: int, index: Any = None, nprobe: int | None = None) -> None:
        if dimension < 1:
            raise ValueError(f"dimension must be positive. Currently, dimension is {dimension}")
        faiss = _faiss()
        self.dimension = dimension
        self._index = (
            index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        )
        self._ivf = faiss.try_extract_index_ivf(self._index) if index is not None else None
        if self._ivf is not None:
            self.nprobe = int(nprobe or self._ivf.nprobe)
            # A hash map from chunk id to list position: needed to remove and read back by id.
            if self._ivf.direct_map.type != faiss.DirectMap.Hashtable:
                self._ivf.set_direct_map_type(faiss.DirectMap.Hashtable)

    @classmethod
    def build(
        cls, dimension: int, ids: Ids, vectors: Vectors, layout: dict[str, Any] | None = None
    ) -> VectorIndex:
        """An index holding ``vectors`` in ``layout`` (default: the one that fits their count)."""
        layout = layout or choose_layout(len(ids))
        if layout.get("kind") != IVF:
            index = cls(dimension)
            index.add(ids, vectors)
            return index
        faiss = _faiss()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        nlist = int(layout["nlist"])
        # index_factory owns its coarse quantizer (no Python object to keep alive).
        ivf = faiss.index_factory(dimension, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        # Train on a fixed-seed sample: k-means on every vector would cost minutes at 1M.
        rng = np.random.default_rng(0)
        sample = min(len(vectors), nlist * TRAIN_PER_LIST)
        rows = np.sort(rng.choice(len(vectors), sample, replace=False))
        ivf.cp.seed = 1234
        ivf.train(vectors[rows])
        index = cls(dimension, ivf, nprobe=int(layout["nprobe"]))
        index.add(ids, vectors)
        return index

    @property
    def layout(self) -> dict[str, Any]:
        if self._ivf is None:
            return {"kind": FLAT}
        return {"kind": IVF, "nlist": int(self._ivf.nlist), "nprobe": self.nprobe}

    @property
    def kind(self) -> str:
        return str(self.layout["kind"])

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
        if self._ivf is None:
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        lists = self._ivf.invlists
        parts = [
            faiss.rev_swig_ptr(lists.get_ids(n), lists.list_size(n)).copy()
            for n in range(self._ivf.nlist)
            if lists.list_size(n)
        ]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def vector(self, chunk_id: int) -> Vectors:
        return np.asarray(self._index.reconstruct(int(chunk_id)), dtype=np.float32)

    def vectors(self, chunk_ids: Ids) -> Vectors:
        ids = np.ascontiguousarray(chunk_ids, dtype=np.int64)
        if len(ids) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(ids), dtype=np.float32)

    def search(
        self, queries: Vectors, k: int, allowed: Ids | None = None
    ) -> tuple[npt.NDArray[np.float32], Ids]:
        """Top ``k`` (scores, ids) per query row, among ``allowed`` ids if given; missing slots
        have id -1."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, len(self))) if len(self) else 1
        with _threads_for(len(queries)):
            return self._search(queries, k, allowed)

    def _search(
        self, queries: Vectors, k: int, allowed: Ids | None
    ) -> tuple[npt.NDArray[np.float32], Ids]:
        faiss = _faiss()
        if self._ivf is None:
            if allowed is None:
                return self._index.search(queries, k)
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            return self._index.search(queries, k, params=faiss.SearchParameters(sel=selector))
        if allowed is None:
            params = faiss.SearchParametersIVF(nprobe=self.nprobe)
            return self._index.search(queries, k, params=params)
        if len(allowed) <= EXACT_FILTER_MAX:
            return self._exact_among(queries, k, np.asarray(allowed, dtype=np.int64))
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        params = faiss.SearchParametersIVF(nprobe=self.nprobe, sel=selector)
        return self._index.search(queries, k, params=params)

    def _exact_among(
        self, queries: Vectors, k: int, allowed: Ids
    ) -> tuple[npt.NDArray[np.float32], Ids]:
        """Exact top ``k`` among a few ids: a filter to one article must not depend on which
        IVF lists happen to be probed."""
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        found = np.full((len(queries), k), -1, dtype=np.int64)
        if len(allowed) == 0:
            return scores, found
        sims = queries @ self.vectors(allowed).T
        top = min(k, len(allowed))
        for row in range(len(queries)):
            best = np.argsort(-sims[row], kind="stable")[:top]
            scores[row, :top] = sims[row, best]
            found[row, :top] = allowed[best]
        return scores, found

    def save(self, path: Path) -> str:
        """Write to ``path`` atomically (temp file, fsync, rename); return the file's SHA-256."""
        faiss = _faiss()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            try:
                faiss.write_index(self._index, str(tmp))
            except RuntimeError as error:
                # FAISS reports a failed write as RuntimeError("... 28 (No space left on
                # device)"): make it the OSError it is, so callers can say what happened.
                if "No space left" in str(error):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp)) from error
                raise
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)  # the old file stays whole; leave no half-written copy
            raise
        _fsync_dir(path.parent)
        return file_sha256(path)

    @classmethod
    def load(cls, path: Path, dimension: int, nprobe: int | None = None) -> VectorIndex:
        # Read from the file directly: no second in-memory copy of a large index.
        index = _faiss().read_index(str(path))
        if index.d != dimension:
            raise ValueError(f"{path} holds {index.d}-d vectors, expected {dimension}")
        return cls(dimension, index, nprobe=nprobe)


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
