"""The search side of the embedded store: FAISS for vectors, SQLite FTS5 (plus the BM25 impact
index of large indexes, ``qa.stores.embedded.bm25``) for keywords, over one SQLite database."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from embeddings import VectorIndex
from qa.errors import IndexFormatError
from qa.lexical import content_words, fts_query
from qa.stores.base import Hits
from qa.stores.embedded.bm25 import KeywordIndex
from qa.stores.embedded.sqlite import Store
from qa.types import Filters, PassageRow


class EmbeddedSearch:
    """``SearchIndex`` over an index folder's database, FAISS index and keyword cache.

    Made for one state of the vectors and the keyword cache: ``EmbeddedStore`` makes a new one
    when either changes (the filter cache below may name deleted chunks by then)."""

    def __init__(
        self, store: Store, vectors: VectorIndex, keywords: KeywordIndex | None = None
    ) -> None:
        self.store = store
        self.index = vectors
        self.keywords = keywords
        # FAISS filters by id list: both searches of one question share the list (one query).
        self._allowed_for: Filters | None = None
        self._allowed: list[int] | None = None

    def _allowed_ids(self, filters: Filters | None) -> list[int] | None:
        if filters is None or filters.empty:
            return None
        if filters != self._allowed_for:
            self._allowed, self._allowed_for = self.store.chunk_ids_where(filters), filters
        return self._allowed

    def dense_search(
        self, vector: npt.NDArray[np.float32], k: int, filters: Filters | None
    ) -> Hits:
        allowed = self._allowed_ids(filters)
        if allowed == [] or len(self.index) == 0:
            return []
        allowed_array = None if allowed is None else np.asarray(allowed, dtype=np.int64)
        scores, ids = self.index.search(vector, k, allowed_array)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def keyword_search_text(self, query: str, k: int, filters: Filters | None) -> Hits:
        allowed = self._allowed_ids(filters)
        match = fts_query(content_words(query))
        if not match or allowed == []:
            return []
        if self.keywords is None:
            return self.store.keyword_search(match, k, filters)
        # The impact index covers chunks up to its max_id; FTS5 covers those added since.
        allowed_array = None if allowed is None else np.asarray(allowed, dtype=np.int64)
        cached = self.keywords.search(query, 2 * k, allowed_array)
        newer = self.store.keyword_search(match, k, filters, after=self.keywords.max_id)
        hits = sorted(cached + newer, key=lambda hit: -hit[1])
        alive = self.store.existing([chunk_id for chunk_id, _ in hits])  # drop deleted chunks
        return [hit for hit in hits if hit[0] in alive][:k]

    def vectors(self, chunk_ids: Sequence[int]) -> npt.NDArray[np.float32]:
        try:
            return self.index.vectors(np.asarray(chunk_ids, dtype=np.int64))
        except RuntimeError as error:  # FAISS: "key N not found"
            raise IndexFormatError(
                "The vector index holds no vector for a chunk the database has (the database "
                f"or vectors.faiss was damaged: {' '.join(str(error).split())[-60:]}). Run "
                "`qa check` to see what is wrong and `qa check --repair` to fix it."
            ) from error

    def cosines(
        self, query_vector: npt.NDArray[np.float32], chunk_ids: Sequence[int]
    ) -> dict[int, float]:
        if not chunk_ids:
            return {}
        scores = self.vectors(chunk_ids) @ query_vector
        return {int(i): float(score) for i, score in zip(chunk_ids, scores, strict=True)}

    def passage_rows(self, chunk_ids: Sequence[int]) -> dict[int, PassageRow]:
        return self.store.passage_rows(chunk_ids)
