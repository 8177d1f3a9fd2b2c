"""``IndexFolder``: the SQLite catalog of an index folder and the files derived from it.

It is the catalog (``sqlite.Store``, the truth: articles, chunks, sentences, FTS5), from which
it inherits the catalog and listing, plus the two caches beside the database (``caches``:
``vectors.faiss`` and the BM25 impact index of large indexes, ``bm25``) and the config. What it
adds is the bookkeeping between them: which database generation the loaded vectors hold, and
following other processes that write the same folder. ``check`` and ``repair`` work on it;
``store.EmbeddedStore`` adds them and the search on top.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Self

import numpy as np

from embeddings import VectorIndex
from embeddings.index import choose_layout
from qa.config import IndexConfig, config_from_dict, read_config, same_config
from qa.errors import IndexConfigError, IndexFormatError, QAError, translated_os_errors
from qa.layout import DB_FILE
from qa.stores.base import Reindex
from qa.stores.embedded import caches
from qa.stores.embedded.bm25 import KeywordIndex
from qa.stores.embedded.search import EmbeddedSearch
from qa.stores.embedded.sqlite import Store
from qa.types import Article

VECTORS_FILE = caches.VECTORS_FILE


class IndexFolder(Store):
    """``IndexFolder.open(folder, dimension)``: the catalog and the derived files of a folder.

    ``dimension`` gives the vector size while the folder has no config yet (a new index).
    """

    def __init__(self, folder: Path, dimension: Callable[[], int]) -> None:
        super().__init__(folder / DB_FILE)
        self.folder = folder
        self._dimension = dimension
        self._config: IndexConfig | None = None
        self._vectors: VectorIndex | None = None
        self._vectors_generation: int | None = None  # the database generation _vectors holds
        self._keywords: KeywordIndex | None = None
        self._keywords_loaded = False
        self._search: EmbeddedSearch | None = None

    @classmethod
    def open(cls, folder: Path, dimension: Callable[[], int]) -> Self:
        """Open (or create) the database in ``folder``; a damaged one is an ``IndexFormatError``."""
        try:
            with translated_os_errors(folder):
                return cls(folder, dimension)
        except IndexFormatError as translated:  # a sqlite3.DatabaseError SQLite could not open
            error = translated.__cause__ or translated
            raise IndexFormatError(
                f"{folder / DB_FILE} cannot be opened as an index database ({error}): it is "
                "damaged, or not an article-qa index. Move the folder away and ingest your "
                f"articles again into a new one: qa ingest PATH --index {folder}"
            ) from error

    @property
    def config(self) -> IndexConfig | None:
        """The folder's config, as this store last read it (the vector layout is recorded there).

        Where config.json is missing, damaged or differs from the copy the database keeps, the
        copy: ``qa check`` reports the difference and ``--repair`` writes the copy back (the
        facade refuses other work meanwhile)."""
        if self._config is None:
            try:
                on_disk = self.config_file()
            except IndexConfigError:
                on_disk = None
            recorded = self.recorded_config()
            if recorded is not None and (
                on_disk is None or not same_config(on_disk, recorded, layout=False)
            ):
                on_disk = recorded
            self._config = on_disk
        return self._config

    def config_file(self) -> IndexConfig | None:
        """config.json as it is on disk (an ``IndexConfigError`` when it is damaged)."""
        return read_config(self.folder)

    def recorded_config(self) -> IndexConfig | None:
        """The copy of config.json the database keeps (saved with each write of the vectors);
        None when there is none, or it is not readable."""
        text = self.get_meta(caches.CONFIG_COPY)
        if not text:
            return None
        try:
            return config_from_dict(json.loads(text), "the database's copy of config.json")
        except (ValueError, QAError):
            return None

    def forget_config(self) -> None:
        """Read the config again on next use (after ``repair`` wrote it)."""
        self._config = None

    @property
    def dimension(self) -> int:
        config = self.config
        return config.dimension if config else self._dimension()

    # -- the vector index and the keyword cache -------------------------------------------------

    @property
    def vector_index(self) -> VectorIndex:
        """The FAISS index, loaded from disk, or rebuilt from SQLite if the file is stale."""
        if self._vectors is None:
            self._vectors = caches.load_vectors(self.folder, self, self.config, self.dimension)
            self._search = None
        return self._vectors

    @property
    def keywords(self) -> KeywordIndex | None:
        """The BM25 impact index, if the index is large enough for one (stores.embedded.bm25)."""
        if not self._keywords_loaded:
            self._keywords_loaded = True
            self._keywords = caches.open_keywords(self.folder, self)
            self._search = None
        return self._keywords

    @property
    def loaded_generation(self) -> int | None:
        """The database generation the loaded vectors hold (None: none loaded yet)."""
        return self._vectors_generation

    def live_vectors(self) -> VectorIndex | None:
        return self.vector_index

    def _save_vectors(self) -> None:
        """Save the vector file (in the layout its size calls for) and refresh the keyword cache."""
        config = self.config
        assert config is not None
        vectors, self._config = caches.save_vectors(self.folder, self, config, self.vector_index)
        if vectors is not self._vectors:
            self._vectors, self._search = vectors, None
        keywords = caches.refresh_keywords(self.folder, self, self.keywords)
        if keywords is not self._keywords:
            self._keywords, self._search = keywords, None

    def _vectors_saved(self) -> bool:
        return self.get_meta("faiss_generation") == str(self.generation)

    def after_write(self, changed: bool, removed_ids: Sequence[int] = ()) -> None:
        if self.config is None:  # nothing was ever written
            return
        if removed_ids:
            self.vector_index.remove(np.asarray(removed_ids, dtype=np.int64))
        if changed or not self._vectors_saved():
            self._save_vectors()
        self._vectors_generation = self.generation
        self._search = None  # its filter cache may name deleted chunks

    def rebuild_vectors(self, keywords: bool = False) -> int:
        """Rebuild ``vectors.faiss`` from the vectors stored in SQLite and save it (``keywords``:
        the keyword cache of a large index too); return how many vectors it holds."""
        with self.transaction():
            self.set_meta("faiss_generation", "")  # not current: loading rebuilds it
        self._vectors = None
        self._search = None
        if keywords:
            self._keywords, self._keywords_loaded = None, True  # none: refreshing builds one
        self._save_vectors()
        self._vectors_generation = self.generation
        return len(self.vector_index)

    # -- other processes ------------------------------------------------------------------------

    def follow_writers(self) -> None:
        """Each write bumps the database generation; when it moved, the vectors are loaded
        again, and checked against this snapshot's chunk ids: a FAISS file saved by a writer
        after the snapshot began is not used, the snapshot's own vectors are (from SQLite)."""
        generation = self.generation
        if self._vectors is not None and generation == self._vectors_generation:
            return
        self._vectors = None
        self._search = None
        self._keywords, self._keywords_loaded = None, False  # the writer may have rebuilt it
        self._vectors_generation = generation
        # A writer may have moved the vector index to another layout (see choose_layout).
        self._config = None
        if self.config is None or self.count_chunks() == 0:
            return
        loaded = self.vector_index
        rows = self.db.execute("SELECT id FROM chunks ORDER BY id")
        chunk_ids = np.fromiter((row[0] for row in rows), dtype=np.int64)
        if not np.array_equal(np.sort(loaded.ids()), chunk_ids):
            dimension = self.dimension
            ids, vectors = self.all_vectors(dimension)
            layout = choose_layout(len(ids), self.config.vector_index)
            self._vectors = VectorIndex.build(dimension, ids, vectors, layout)

    def reindex_articles(
        self, article_ids: list[str], reindex: Reindex, restored: Sequence[Article] = ()
    ) -> int:
        """Clear the chunks of stored articles, and of ``restored`` ones (articles read again
        from their source), so no damaged vector is reused; have ``reindex`` chunk and embed
        them all again (writing the restored text). The vector file is left stale."""
        articles = [*self.articles_by_id(article_ids), *restored]
        with self.transaction():
            for article in articles:
                self.clear_chunks(article.id)
        return reindex(articles)
