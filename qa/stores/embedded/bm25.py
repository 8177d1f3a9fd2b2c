"""A BM25 impact index for large indexes: keyword search in milliseconds at a million chunks.

SQLite FTS5 ranks every chunk that contains any query word with ``bm25()``, about 2 us per
matching row here: ~35 ms at 100k chunks, ~0.4 s at 1M. Its doclist merge alone is ten times
cheaper, so the cost is the ranking (benchmarks/README.md). Above ``CACHE_FROM`` chunks this module
keeps BM25 scores precomputed per (word, chunk) in a compressed sparse column matrix, memory-mapped
from .npy files: a query adds up a few columns with numpy and takes the top k.

FTS5 stays the source of truth. The matrix is a cache over the chunks that existed when it was
built: chunks added later (higher ids) are searched with FTS5 restricted to ``rowid > max_id``,
which seeks past the rest, and chunks deleted since are dropped from results. The cache is rebuilt
when that tail or the deletions pass ``REBUILD_SHARE`` of it. Scoring mirrors the FTS5 setup
(``qa.stores.keywords``: BM25, title words count half), with ``qa.lexical``'s terms.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qa.lexical import terms
from qa.stores.embedded.sqlite import Store
from qa.stores.keywords import K1, TITLE_WEIGHT, B

CACHE_FROM = 50_000  # chunks; below this FTS5 alone answers in a few milliseconds
REBUILD_SHARE = 0.02  # rebuild when chunks added or removed since exceed 2% of the cache
_READ_ROWS = 20_000


class KeywordIndex:
    """Precomputed BM25 impacts: ``search(query, limit)`` -> [(chunk id, score)], best first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        self.max_id = int(meta["max_id"])
        self.size = int(meta["chunks"])
        self.vocabulary: dict[str, int] = meta["vocabulary"]
        self.indptr = np.load(folder / "indptr.npy", mmap_mode="r")
        self.rows = np.load(folder / "rows.npy", mmap_mode="r")
        self.impacts = np.load(folder / "impacts.npy", mmap_mode="r")
        self.chunk_ids = np.load(folder / "chunk_ids.npy", mmap_mode="r")

    def search(
        self, query: str, limit: int, allowed: npt.NDArray[np.int64] | None = None
    ) -> list[tuple[int, float]]:
        columns = [self.vocabulary[t] for t in dict.fromkeys(terms(query)) if t in self.vocabulary]
        if not columns:
            return []
        scores = np.zeros(len(self.chunk_ids), dtype=np.float32)
        for column in columns:
            begin, end = int(self.indptr[column]), int(self.indptr[column + 1])
            # Rows are unique within a word's postings, so += adds each one once.
            scores[self.rows[begin:end]] += self.impacts[begin:end]
        if allowed is not None:
            rows = np.searchsorted(self.chunk_ids, allowed)
            rows = rows[(rows < len(self.chunk_ids))]
            rows = rows[np.isin(self.chunk_ids[rows], allowed)]
            mask = np.zeros(len(scores), dtype=bool)
            mask[rows] = True
            scores[~mask] = 0
        # Rank only rows some query word touched (a scan for non-zeros is cheaper than ranking
        # every row; np.unique over the postings was slower still).
        candidates = np.flatnonzero(scores)
        if len(candidates) == 0:
            return []
        top = min(limit, len(candidates))
        best = candidates[np.argpartition(-scores[candidates], top - 1)[:top]]
        best = best[np.lexsort((best, -scores[best]))]  # by score, ties by row (id order)
        return [(int(self.chunk_ids[r]), float(scores[r])) for r in best]


def build(store: Store, folder: Path) -> KeywordIndex:
    """Tokenise every chunk (title + text) and write the impact matrix to ``folder``."""
    vocabulary: dict[str, int] = {}
    chunk_ids: list[int] = []
    lengths: list[float] = []
    columns: list[npt.NDArray[np.int32]] = []
    counts: list[npt.NDArray[np.float32]] = []
    cursor = store.db.execute(
        "SELECT c.id, a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id "
        "ORDER BY c.id"
    )
    while rows := cursor.fetchmany(_READ_ROWS):
        for chunk_id, title, text in rows:
            title_terms, text_terms = terms(title), terms(text)
            weighted: dict[str, float] = dict(Counter(text_terms))
            for term in title_terms:
                weighted.setdefault(term, 0.0)
                weighted[term] += TITLE_WEIGHT
            chunk_ids.append(chunk_id)
            lengths.append(len(title_terms) + len(text_terms))
            columns.append(
                np.fromiter(
                    (vocabulary.setdefault(t, len(vocabulary)) for t in weighted),
                    dtype=np.int32,
                    count=len(weighted),
                )
            )
            counts.append(np.fromiter(weighted.values(), dtype=np.float32, count=len(weighted)))
    documents = len(chunk_ids)
    per_row = np.fromiter((len(c) for c in columns), dtype=np.int64, count=documents)
    row_of = np.repeat(np.arange(documents, dtype=np.int32), per_row)
    column_of = np.concatenate(columns) if columns else np.zeros(0, np.int32)
    tf = np.concatenate(counts) if counts else np.zeros(0, np.float32)
    del columns, counts
    length = np.asarray(lengths, dtype=np.float32)
    average = float(length.mean()) if documents else 1.0
    frequency = np.bincount(column_of, minlength=len(vocabulary)).astype(np.float64)
    # FTS5's idf, floored at a small positive value as FTS5 does for very common words.
    idf = np.log((documents - frequency + 0.5) / (frequency + 0.5))
    idf = np.maximum(idf, 1e-6).astype(np.float32)
    norm = K1 * (1 - B + B * length[row_of] / max(average, 1e-9))
    impacts = idf[column_of] * tf * (K1 + 1) / (tf + norm)
    order = np.argsort(column_of, kind="stable")  # group by word, rows stay in id order
    indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
    np.cumsum(np.bincount(column_of, minlength=len(vocabulary)), out=indptr[1:])

    # Written beside its final name, then renamed: readers see a whole cache or none.
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.save(tmp / "indptr.npy", indptr)
    np.save(tmp / "rows.npy", row_of[order])
    np.save(tmp / "impacts.npy", impacts[order].astype(np.float32))
    np.save(tmp / "chunk_ids.npy", np.asarray(chunk_ids, dtype=np.int64))
    meta = {"max_id": max(chunk_ids, default=0), "chunks": documents, "vocabulary": vocabulary}
    (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)  # a leftover of a crashed build of this generation
    os.replace(tmp, folder)
    return KeywordIndex(folder)


def stale(index: KeywordIndex, store: Store) -> bool:
    """Whether the chunks added or removed since ``index`` was built call for a rebuild."""
    newer = int(
        store.db.execute("SELECT count(*) FROM chunks WHERE id > ?", (index.max_id,)).fetchone()[0]
    )
    removed = index.size - (store.count_chunks() - newer)
    return newer + removed > REBUILD_SHARE * max(index.size, 1)
