"""``EmbeddedStore``: the default store, everything in the index folder, as one object.

``folder.IndexFolder`` is the catalog and the files derived from it; this adds the search over
them (``search.EmbeddedSearch``: FAISS + FTS5), ``check`` and ``repair`` (``check``,
``repair``), which work on the folder and so sit beside it, not under it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from qa.stores.base import CheckReport, Hits, Recover, Reindex, StoreStats, best_sentence_scores
from qa.stores.embedded.check import check_index
from qa.stores.embedded.folder import VECTORS_FILE, IndexFolder
from qa.stores.embedded.repair import repair_index
from qa.stores.embedded.search import EmbeddedSearch
from qa.types import Filters

__all__ = ["VECTORS_FILE", "EmbeddedStore"]


class EmbeddedStore(IndexFolder):
    """``EmbeddedStore.open(folder, dimension)``: catalog, search and upkeep of an index folder.

    ``dimension`` gives the vector size while the folder has no config yet (a new index).
    """

    def claim(self) -> None:
        """The database lives in this index's own folder: nobody else's chunks can be in it."""

    # -- checking -------------------------------------------------------------------------------

    def check(self) -> CheckReport:
        return check_index(self)

    def repair(self, reindex: Reindex, recover: Recover | None = None) -> CheckReport:
        return repair_index(self, reindex, recover)

    def stats(self) -> StoreStats:
        config = self.config
        return StoreStats(
            store="embedded",
            vector_index=config.vector_index.get("kind") if config else None,
            keyword_index="fts5 + bm25 impact index" if self.keywords is not None else "fts5",
        )

    # -- search ---------------------------------------------------------------------------------

    @property
    def search(self) -> EmbeddedSearch:
        """The search over the current vectors and keyword cache (made again when they change)."""
        vectors, keywords = self.vector_index, self.keywords
        if self._search is None:
            self._search = EmbeddedSearch(self, vectors, keywords)
        return self._search

    # These four pass to the search of the current vectors and keyword cache (see ``search``).

    def dense_search(
        self, vector: npt.NDArray[np.float32], k: int, filters: Filters | None
    ) -> Hits:
        return self.search.dense_search(vector, k, filters)

    def keyword_search_text(self, query: str, k: int, filters: Filters | None) -> Hits:
        return self.search.keyword_search_text(query, k, filters)

    def vectors(self, chunk_ids: Sequence[int]) -> npt.NDArray[np.float32]:
        return self.search.vectors(chunk_ids)

    def cosines(
        self, query_vector: npt.NDArray[np.float32], chunk_ids: Sequence[int]
    ) -> dict[int, float]:
        return self.search.cosines(query_vector, chunk_ids)

    def sentence_vectors(
        self, chunk_ids: list[int]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Every stored sentence vector of ``chunk_ids`` and its chunk id (``SentenceSearch``)."""
        rows = self.sentence_rows(chunk_ids)
        return rows.vectors, rows.chunk_ids

    def best_sentence_cosines(
        self, query_vector: npt.NDArray[np.float32], chunk_ids: list[int]
    ) -> dict[int, float]:
        # Any order does for a max per chunk: the leaner read (Store.sentence_vectors_unordered).
        return best_sentence_scores(query_vector, *self.sentence_vectors_unordered(chunk_ids))
