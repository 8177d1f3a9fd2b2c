"""The two caches of an index folder, kept in step with the SQLite database that is the truth.

- ``vectors.faiss``: the FAISS index. The database records which generation it holds, its size
  and SHA-256; a stale or damaged file is rebuilt from the vectors stored in SQLite. Its layout
  (exact or IVF, see ``embeddings.index.choose_layout``) follows the index's size and is recorded
  in ``config.json``.
- ``keywords-N/``: the BM25 impact index of large indexes (``qa.stores.embedded.bm25``), named after
  the database generation it was built at; the database records the current one.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from embeddings import VectorIndex
from embeddings.index import KIND, choose_layout
from qa.config import IndexConfig, write_config
from qa.stores.embedded import bm25 as keyword_cache
from qa.stores.embedded.bm25 import KeywordIndex
from qa.stores.embedded.sqlite import Store

VECTORS_FILE = "vectors.faiss"


def load_vectors(
    index_dir: Path, store: Store, config: IndexConfig | None, dimension: int
) -> VectorIndex:
    """The FAISS index from disk if it holds the database's generation, else rebuilt from SQLite."""
    path = index_dir / VECTORS_FILE
    layout = config.vector_index if config else {"kind": KIND}
    fresh = (
        path.exists()
        and store.get_meta("faiss_generation") == str(store.generation)
        and store.get_meta("faiss_bytes") == str(path.stat().st_size)
    )
    if fresh:
        try:
            nprobe = layout.get("nprobe")
            index = VectorIndex.load(path, dimension, nprobe=int(nprobe) if nprobe else None)
            if len(index) == store.count_chunks() and index.kind == layout.get("kind"):
                return index
        except Exception:  # damaged file: fall through and rebuild from SQLite
            pass
    ids, vectors = store.all_vectors(dimension)
    return VectorIndex.build(dimension, ids, vectors, choose_layout(len(ids), layout))


def save_vectors(
    index_dir: Path, store: Store, config: IndexConfig, vectors: VectorIndex
) -> tuple[VectorIndex, IndexConfig]:
    """Write the FAISS file, then record which generation of the database it holds.

    An index that grew past (or shrank under) the exact-search threshold is rebuilt in the layout
    that fits its size first, and the config records the layout. Returns the index and config
    now in use (either may be new).
    """
    layout = choose_layout(len(vectors), config.vector_index)
    if layout["kind"] != vectors.kind or layout.get("nlist") != vectors.layout.get("nlist"):
        ids, stored = store.all_vectors(vectors.dimension)
        vectors = VectorIndex.build(vectors.dimension, ids, stored, layout)
    if layout != config.vector_index:
        config = replace(config, vector_index=layout)
        write_config(index_dir, config)
    generation = store.generation
    path = index_dir / VECTORS_FILE
    digest = vectors.save(path)
    with store.transaction():
        store.set_meta("faiss_generation", str(generation))
        store.set_meta("faiss_sha256", digest)
        store.set_meta("faiss_bytes", str(path.stat().st_size))
    return vectors, config


def open_keywords(index_dir: Path, store: Store) -> KeywordIndex | None:
    """The keyword cache the database points at, if any (and readable)."""
    name = store.get_meta("keywords_dir")
    if not name or not (index_dir / name).is_dir():
        return None
    try:
        return KeywordIndex(index_dir / name)
    except (OSError, ValueError, KeyError):  # damaged: FTS5 alone still answers
        return None


def refresh_keywords(
    index_dir: Path, store: Store, current: KeywordIndex | None
) -> KeywordIndex | None:
    """Build, rebuild or drop the keyword cache to fit the index's size and changes; return the
    cache now in use."""
    count = store.count_chunks()
    old = store.get_meta("keywords_dir")
    if count < keyword_cache.CACHE_FROM:
        if current is None and old is None:
            return None
        name = None  # small again: FTS5 alone is fast
        fresh = None
    elif current is not None and not keyword_cache.stale(current, store):
        return current
    else:
        name = f"keywords-{store.generation}"
        fresh = keyword_cache.build(store, index_dir / name)
    with store.transaction():
        if name is None:
            store.db.execute("DELETE FROM meta WHERE key = 'keywords_dir'")
        else:
            store.set_meta("keywords_dir", name)
    if old and old != name:
        shutil.rmtree(index_dir / old, ignore_errors=True)
    return fresh
