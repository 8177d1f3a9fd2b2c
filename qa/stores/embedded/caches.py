"""The two caches of an index folder, kept in step with the SQLite database that is the truth.

- ``vectors.faiss``: the FAISS index. The database records which generation it holds and its
  fingerprint (size, modification time, sampled and full SHA-256: ``fingerprint``), checked each
  time it is loaded; a stale or damaged file is rebuilt from the vectors stored in SQLite (a
  damaged one with a warning). Its layout (exact or IVF, see ``embeddings.index.choose_layout``)
  follows the index's size and is recorded in ``config.json``.
- ``keywords-N/``: the BM25 impact index of large indexes (``qa.stores.embedded.bm25``), named after
  the database generation it was built at; the database records the current one and the
  fingerprints of its files. A damaged cache is not used (FTS5 alone answers).

Each save also records a copy of ``config.json`` in the database, so a lost or damaged config can
be rebuilt (``qa check --repair``).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import replace
from pathlib import Path

from embeddings import VectorIndex
from embeddings.index import KIND, choose_layout
from qa.config import IndexConfig, config_json, write_config
from qa.stores.embedded import bm25 as keyword_cache
from qa.stores.embedded import fingerprint
from qa.stores.embedded.bm25 import KeywordIndex
from qa.stores.embedded.fingerprint import Fingerprint
from qa.stores.embedded.sqlite import Store

VECTORS_FILE = "vectors.faiss"
# Meta keys: the FAISS file's fingerprint, the keyword cache's (file name -> fingerprint), and
# the copy of config.json.
VECTORS_FINGERPRINT = "faiss_fingerprint"
KEYWORDS_FINGERPRINTS = "keywords_fingerprints"
CONFIG_COPY = "config"
# What a keyword cache folder may be called: the database names it, and it is deleted by name.
KEYWORDS_NAME = re.compile(r"keywords-[0-9]+")
log = logging.getLogger("article_qa")


def vector_file_intact(index_dir: Path, store: Store, full: bool = False) -> bool:
    """Whether ``vectors.faiss`` is the file recorded when it was saved: the cheap check of
    ``fingerprint.quick_ok`` (``full``: the whole file's SHA-256, as ``qa check`` does)."""
    path = index_dir / VECTORS_FILE
    recorded = Fingerprint.from_json(store.get_meta(VECTORS_FINGERPRINT))
    if recorded is None:  # saved by an older article-qa: its size and SHA-256 only
        expected = store.get_meta("faiss_sha256")
        try:
            if store.get_meta("faiss_bytes") != str(path.stat().st_size):
                return False
        except OSError:
            return False
        return not full or expected is None or fingerprint.file_sha256(path) == expected
    return fingerprint.full_ok(path, recorded) if full else fingerprint.quick_ok(path, recorded)


def load_vectors(
    index_dir: Path, store: Store, config: IndexConfig | None, dimension: int
) -> VectorIndex:
    """The FAISS index from disk if it holds the database's generation, else rebuilt from SQLite."""
    path = index_dir / VECTORS_FILE
    layout = config.vector_index if config else {"kind": KIND}
    if path.exists() and store.get_meta("faiss_generation") == str(store.generation):
        if not vector_file_intact(index_dir, store):
            log.warning(
                "%s does not match the checksum recorded when it was saved (damaged, or changed "
                "by another program): searching with vectors rebuilt from the database instead. "
                "Run `qa check --repair` to save a good copy.",
                path,
            )
        else:
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
    taken = fingerprint.take(path, digest)
    with store.transaction():
        store.set_meta("faiss_generation", str(generation))
        store.set_meta("faiss_sha256", digest)
        store.set_meta("faiss_bytes", str(taken.size))
        store.set_meta(VECTORS_FINGERPRINT, taken.to_json())
        store.set_meta(CONFIG_COPY, config_json(config))
    return vectors, config


def keyword_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_file())


def keywords_intact(index_dir: Path, store: Store, name: str, full: bool = False) -> bool:
    """Whether the keyword cache ``name`` holds the files recorded when it was built."""
    folder = index_dir / name
    try:
        recorded = json.loads(store.get_meta(KEYWORDS_FINGERPRINTS) or "null")
    except ValueError:
        return False
    if recorded is None:  # built by an older article-qa, before fingerprints
        return True
    if not isinstance(recorded, dict) or recorded.get("name") != name:
        return False
    files = recorded.get("files")
    if not isinstance(files, dict):
        return False
    try:
        present = {path.name for path in keyword_files(folder)}
    except OSError:
        return False
    if present != set(files):
        return False
    check = fingerprint.full_ok if full else fingerprint.quick_ok
    for file_name, text in files.items():
        expected = Fingerprint.from_json(text if isinstance(text, str) else None)
        if expected is None or not check(folder / file_name, expected):
            return False
    return True


def keywords_name(store: Store) -> str | None:
    """The keyword cache the database names, if the name is one this module writes (the folder
    is deleted by that name: a damaged value must never point elsewhere)."""
    name = store.get_meta("keywords_dir")
    return name if name and KEYWORDS_NAME.fullmatch(name) else None


def open_keywords(index_dir: Path, store: Store) -> KeywordIndex | None:
    """The keyword cache the database points at, if any (and readable)."""
    name = keywords_name(store)
    if not name or not (index_dir / name).is_dir():
        return None
    if not keywords_intact(index_dir, store, name):
        log.warning(
            "The keyword cache %s does not match the checksums recorded when it was built: "
            "searching keywords with SQLite alone. Run `qa check --repair` to rebuild it.",
            index_dir / name,
        )
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
    old = keywords_name(store)
    if count < keyword_cache.CACHE_FROM:
        store.compact_keywords()  # FTS5 alone answers: keep its index in one segment
        if current is None and old is None:
            return None
        name = None  # small again: FTS5 alone is fast
        fresh = None
    elif current is not None and not keyword_cache.stale(current, store):
        return current
    else:
        name = f"keywords-{store.generation}"
        fresh = keyword_cache.build(store, index_dir / name)
    recorded = None
    if name is not None:
        files = {
            path.name: fingerprint.take(path).to_json() for path in keyword_files(index_dir / name)
        }
        recorded = json.dumps({"name": name, "files": files}, sort_keys=True)
    with store.transaction():
        if name is None or recorded is None:
            store.db.execute(
                "DELETE FROM meta WHERE key IN ('keywords_dir', ?)", (KEYWORDS_FINGERPRINTS,)
            )
        else:
            store.set_meta("keywords_dir", name)
            store.set_meta(KEYWORDS_FINGERPRINTS, recorded)
    if old and old != name:
        shutil.rmtree(index_dir / old, ignore_errors=True)
    return fresh
