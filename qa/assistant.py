"""``Assistant``: the one entry object behind the CLI, the web UI and the Python API.

    from qa import Assistant
    assistant = Assistant.open("index")          # creates the folder if missing
    report = assistant.ingest(["corpus/articles"])
    print(report.summary(), assistant.stats())

An index folder holds ``config.json`` (model, chunking and store), ``index.sqlite`` (articles,
chunks, vectors, keyword index) and ``vectors.faiss`` (the vector index, rebuilt from SQLite when
stale). With a Milvus store (``store="milvus:///path.db"`` or ``"http://host:19530"``) the
articles, chunks and vectors live in Milvus instead, and the folder keeps the config and the
write lock (docs/scaling-out.md). Models load lazily, once, on first use.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np

from embeddings import Embedder, EmbeddingError, VectorIndex
from embeddings.batching import GroupEmbedder
from embeddings.distributed import RayError, RayGroups  # Ray itself loads only when used
from embeddings.index import choose_layout
from qa.config import (
    PROBE_DIMS,
    PROBE_TEXT,
    PROBE_TOLERANCE,
    IndexConfig,
    check_same_model,
    load_model,
    model_spec,
    read_config,
    write_config,
)
from qa.errors import (
    ArticleNotFoundError,
    IndexEmptyError,
    IndexFormatError,
    IndexNotFoundError,
    ModelError,
    ModelMismatchError,
    QAError,
    WorkersError,
    translated_os_errors,
)
from qa.layout import CONFIG_FILE, DB_FILE, DEFAULT_INDEX, INDEX_ENV
from qa.locking import WriteLock
from qa.pipeline.answer import PASSAGES_READ, answer
from qa.pipeline.chunking import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS, Chunker
from qa.pipeline.conversation import contextual_query
from qa.pipeline.corpus import DEFAULT_MAX_FILE_MB
from qa.pipeline.evidence import stored_sentence_vectors
from qa.pipeline.ingest import Ingestor, Progress
from qa.pipeline.retrieval import FusionWeights, Retriever
from qa.pipeline.tokens import DEFAULT_ENCODING, token_counter
from qa.stores.base import Catalog
from qa.stores.embedded import caches
from qa.stores.embedded.bm25 import KeywordIndex
from qa.stores.embedded.check import CheckReport, check_index, repair_index
from qa.stores.embedded.search import EmbeddedSearch
from qa.stores.embedded.sqlite import Store
from qa.stores.milvus.check import check_milvus, repair_milvus
from qa.stores.milvus.store import LOCAL_SCHEME, MilvusStore, client_uri, normalize_store
from qa.types import Answer, ArticleInfo, Filters, IndexStats, IngestReport, Passage, Turn

VECTORS_FILE = caches.VECTORS_FILE


def default_index_dir() -> Path:
    return Path(os.environ.get(INDEX_ENV) or DEFAULT_INDEX)


class Assistant:
    """Question answering over one index folder. Create with ``Assistant.open(...)``."""

    def __init__(
        self,
        index_dir: Path,
        store: Store | None,
        config: IndexConfig | None,
        embedder: Embedder,
        chunk_tokens: int,
        overlap_tokens: int,
        store_uri: str | None = None,
    ) -> None:
        self.index_dir = index_dir
        self._store = store  # None: a Milvus store
        self.store_uri = store_uri  # None: the embedded store
        self._milvus: MilvusStore | None = None
        self.config = config
        self.embedder = embedder
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self._model_checked = False
        self._vectors: VectorIndex | None = None
        self._chunker: Chunker | None = None
        self._retriever: Retriever | None = None
        # Fusion weights of hybrid search; `qa eval --split` sets tuned ones here.
        # None: the retriever's default (docs/evidence.md); `qa eval --split` sets its own.
        self.fusion: FusionWeights | None = None
        self._keywords: KeywordIndex | None = None
        self._keywords_loaded = False
        self._vectors_generation: int | None = None  # the database generation _vectors holds

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        index_dir: str | Path | None = None,
        *,
        model: str | None = None,
        backend: str | None = None,
        embedder: Embedder | None = None,
        chunk_tokens: int | None = None,
        overlap_tokens: int | None = None,
        create: bool = True,
        store: str | None = None,
    ) -> Assistant:
        """Open the index in ``index_dir`` (default ``$QA_INDEX`` or ``./index``).

        ``model`` is a local sentence-transformers folder (default: the bundled
        all-MiniLM-L6-v2); an existing index uses the model it was built with, and naming
        another is a ``ModelMismatchError``. ``backend`` picks what runs it for a new index
        ("onnx-int8", the default, "onnx" or "torch"); an existing index uses its own.
        ``embedder`` passes a model object instead (tests).
        ``store`` picks where a new index keeps its chunks: "embedded" (the default: SQLite +
        FAISS in the folder), "milvus" (a Milvus Lite file in the folder),
        "milvus:///path/to/file.db" or "http://host:19530" (a Milvus server; its token, if any,
        from ``$QA_MILVUS_TOKEN``). An existing index uses its own; naming another is an error.
        With ``create=False`` a missing index is an ``IndexNotFoundError``.
        """
        folder = Path(index_dir) if index_dir is not None else default_index_dir()
        folder = folder.expanduser()
        asked_store = normalize_store(store, folder)  # a bad --store fails before any write
        if not folder.exists():
            if not create:
                raise IndexNotFoundError(
                    f"No index at {folder}. Create one with: qa ingest PATH --index {folder}"
                )
            with translated_os_errors(folder):
                folder.mkdir(parents=True, exist_ok=True)  # another process may race us
        elif not folder.is_dir():
            raise IndexFormatError(f"{folder} is a file, not an index folder.")
        # Look for files first, then for the database: another process creating this index
        # makes the database before anything else, so this order cannot race with it.
        elif (
            any(folder.iterdir())
            and not (folder / DB_FILE).exists()
            and not (folder / CONFIG_FILE).exists()
        ):
            raise IndexFormatError(
                f"{folder} is not an article-qa index (it has files but no {DB_FILE}). "
                "Pick an empty or new folder for --index."
            )
        config = read_config(folder)
        if config is not None and store is not None and asked_store != config.store:
            raise IndexFormatError(
                f"The index in {folder} keeps its chunks in {config.store or 'the embedded store'}"
                f", not {asked_store or 'the embedded store'}. Leave --store out, or ingest into "
                "a new index folder (--index)."
            )
        store_uri = config.store if config is not None else asked_store
        if config is None:
            chosen = embedder or load_model(model, backend)
            chunks = chunk_tokens or DEFAULT_CHUNK_TOKENS
            overlap = DEFAULT_OVERLAP_TOKENS if overlap_tokens is None else overlap_tokens
            Chunker(len, chunks, overlap)  # validates the pair now, with a clear message
        else:
            if backend is not None and backend != config.backend:
                raise ModelMismatchError(
                    f"The index in {folder} was built with the {config.backend} backend, not "
                    f"{backend}. Leave --backend out, or ingest into a new index folder (--index)."
                )
            spec = model if model is not None else model_spec(config)
            chosen = embedder or load_model(spec, config.backend)
            check_same_model(config, chosen, folder)
            for name, asked, built in (
                ("chunk_tokens", chunk_tokens, config.chunk_tokens),
                ("overlap_tokens", overlap_tokens, config.overlap_tokens),
            ):
                if asked is not None and asked != built:
                    raise IndexFormatError(
                        f"The index in {folder} was built with {name}={built}. To use {asked}, "
                        "ingest into a new index folder (--index)."
                    )
            chunks, overlap = config.chunk_tokens, config.overlap_tokens
        if store_uri is not None:
            return cls(folder, None, config, chosen, chunks, overlap, store_uri)
        try:
            with translated_os_errors(folder):
                opened = Store(folder / DB_FILE)
        except QAError:
            raise
        except Exception as error:  # sqlite3.DatabaseError and friends
            raise IndexFormatError(
                f"{folder / DB_FILE} cannot be opened as an index database ({error}): it is "
                "damaged, or not an article-qa index. Move the folder away and ingest your "
                f"articles again into a new one: qa ingest PATH --index {folder}"
            ) from error
        return cls(folder, opened, config, chosen, chunks, overlap)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        if self._milvus is not None:
            self._milvus.close()
            self._milvus = None

    # -- the store ------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The embedded store's SQLite database (not there for a Milvus store)."""
        if self._store is None:
            raise QAError(
                f"The index in {self.index_dir} keeps its chunks in Milvus ({self.store_uri}); "
                "this needs the embedded store."
            )
        return self._store

    @property
    def catalog(self) -> Catalog:
        """Articles and chunks, in SQLite or in Milvus (opened on first use)."""
        if self._store is not None:
            return self._store
        return self._milvus_store()

    def _milvus_store(self, dimension: int | None = None) -> MilvusStore:
        if self._milvus is None:
            assert self.store_uri is not None
            if dimension is None:
                dimension = self.config.dimension if self.config else self._ready_model().dimension
            self._milvus = MilvusStore(self.store_uri, dimension)
        return self._milvus

    def _snapshot(self) -> AbstractContextManager[None]:
        return self._store.snapshot() if self._store is not None else nullcontext()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- model and config -----------------------------------------------------------------------

    def _ready_model(self) -> Embedder:
        """Load the model (once) and check it is the one the index was built with."""
        if self._model_checked:
            return self.embedder
        try:
            probe = [round(float(x), 6) for x in self.embedder.embed([PROBE_TEXT])[0][:PROBE_DIMS]]
            dimension, max_tokens = self.embedder.dimension, self.embedder.max_tokens
        except EmbeddingError as error:
            raise ModelError(str(error)) from error
        if self.config is None:
            if self.store_uri is not None and self._milvus_store(dimension).has_chunks():
                raise IndexFormatError(
                    f"The Milvus store {self.store_uri} already holds another index's chunks. "
                    "Open that index's folder, or give this index its own collections with "
                    "#name after the store (e.g. --store http://host:19530#news)."
                )
            self.config = IndexConfig(
                model=self.embedder.name,
                model_path=self.embedder.path,
                dimension=dimension,
                model_max_tokens=max_tokens,
                probe=probe,
                encoding=DEFAULT_ENCODING,
                chunk_tokens=self.chunk_tokens,
                overlap_tokens=self.overlap_tokens,
                backend=self.embedder.backend,
                store=self.store_uri,
            )
            write_config(self.index_dir, self.config)
        elif dimension != self.config.dimension or any(
            abs(a - b) > PROBE_TOLERANCE for a, b in zip(probe, self.config.probe, strict=False)
        ):
            raise ModelMismatchError(
                f"The model {self.embedder.name!r} gives different vectors than the model "
                f"{self.config.model!r} this index was built with. Use that model, or ingest "
                "into a new index folder (--index)."
            )
        self._model_checked = True
        return self.embedder

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            embedder = self._ready_model()
            encoding = self.config.encoding if self.config else DEFAULT_ENCODING
            self._chunker = Chunker(
                token_counter(encoding),
                self.chunk_tokens,
                self.overlap_tokens,
                model_tokens=embedder.count_tokens,
                model_max_tokens=embedder.max_tokens,
            )
        return self._chunker

    # -- the vector index -----------------------------------------------------------------------

    @property
    def vectors(self) -> VectorIndex:
        """The FAISS index, loaded from disk, or rebuilt from SQLite if the file is stale."""
        if self._vectors is None:
            self._vectors = self._load_vectors()
        return self._vectors

    def _load_vectors(self) -> VectorIndex:
        dimension = self.config.dimension if self.config else self._ready_model().dimension
        return caches.load_vectors(self.index_dir, self.store, self.config, dimension)

    def _save_vectors(self) -> None:
        """Save the vector file (in the layout its size calls for) and refresh the keyword cache."""
        assert self.config is not None
        vectors, self.config = caches.save_vectors(
            self.index_dir, self.store, self.config, self.vectors
        )
        if vectors is not self._vectors:
            self._vectors, self._retriever = vectors, None
        keywords = caches.refresh_keywords(self.index_dir, self.store, self.keywords)
        if keywords is not self._keywords:
            self._keywords, self._retriever = keywords, None

    # -- the keyword cache (large indexes only) -------------------------------------------------

    @property
    def keywords(self) -> KeywordIndex | None:
        """The BM25 impact index, if the index is large enough for one (stores.embedded.bm25)."""
        if not self._keywords_loaded:
            self._keywords_loaded = True
            self._keywords = caches.open_keywords(self.index_dir, self.store)
        return self._keywords

    # -- writing --------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | Path],
        *,
        prune: bool = False,
        max_file_mb: float = DEFAULT_MAX_FILE_MB,
        progress: Progress | None = None,
        workers: str | None = None,
    ) -> IngestReport:
        """Add or update the articles in ``paths`` (files or folders); skip unchanged ones.

        Records that disappeared from a file that was read whole are removed. ``prune=True``
        also removes articles whose files were deleted from the folders given. Bad files are
        listed in ``report.failed``; the rest is ingested.
        ``workers`` embeds on a Ray cluster instead of in this process: ``"ray"`` starts a local
        one, ``"ray://host:10001"`` uses a running one (needs ``pip install 'article-qa[ray]'``);
        the vectors are the same either way. Failures there raise ``WorkersError``.
        """
        with translated_os_errors(self.index_dir), WriteLock(self.index_dir):
            self._follow_writers()
            self._ready_model()
            embed_groups = self._workers(workers)
            if self._store is None:
                milvus = self._milvus_store()
                ingestor = Ingestor(
                    milvus, None, self.embedder, self.chunker, progress, embed_groups
                )
                report = _run_ingest(ingestor, paths, prune, max_file_mb, self.index_dir)
                milvus.flush()
                return report
            ingestor = Ingestor(
                self.store, self.vectors, self.embedder, self.chunker, progress, embed_groups
            )
            report = _run_ingest(ingestor, paths, prune, max_file_mb, self.index_dir)
            if report.added or report.updated or report.removed or not self._vectors_saved():
                self._save_vectors()
            self._vectors_generation = self.store.generation
        return report

    def _workers(self, workers: str | None) -> GroupEmbedder | None:
        """Where ``--workers`` embeds (``None``: in this process)."""
        if workers is None:
            return None
        assert self.config is not None  # _ready_model made it
        try:
            return RayGroups(workers, model_spec(self.config), self.config.backend)
        except RayError as error:
            raise WorkersError(str(error)) from error

    def _vectors_saved(self) -> bool:
        return self.store.get_meta("faiss_generation") == str(self.store.generation)

    def remove(self, targets: Iterable[str]) -> list[str]:
        """Remove articles by id, or every article read from a file or folder path.

        Returns the removed ids; raises ``ArticleNotFoundError`` if a target matches nothing
        (and then removes nothing).
        """
        targets = list(targets)
        with translated_os_errors(self.index_dir), WriteLock(self.index_dir):
            self._follow_writers()
            chosen: list[str] = []
            unknown: list[str] = []
            for target in targets:
                ids = self._match(target)
                if not ids:
                    unknown.append(target)
                chosen.extend(i for i in ids if i not in chosen)
            if unknown:
                raise ArticleNotFoundError(
                    f"No article matches {', '.join(map(repr, unknown))} (by id or source path). "
                    "See `qa list` for ids."
                )
            removed: list[int] = []
            with self.catalog.transaction():
                for article_id in chosen:
                    removed.extend(self.catalog.delete_article(article_id))
            if self._milvus is not None:
                self._milvus.flush()
            elif self.config is not None:
                self.vectors.remove(np.asarray(removed, dtype=np.int64))
                self._save_vectors()
                self._vectors_generation = self.store.generation
        return chosen

    def _match(self, target: str) -> list[str]:
        if self.config is None:  # nothing was ever ingested (and a Milvus store is not open)
            return []
        if self.catalog.has_article(target):
            return [target]
        path = str(Path(target).expanduser().resolve())
        ids = self.catalog.ids_by_source(path)
        ids.extend(article_id for article_id, _ in self.catalog.ids_under(path))
        return ids

    # -- asking ---------------------------------------------------------------------------------

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            if self._store is None:
                milvus = self._milvus_store()
                self._retriever = Retriever(milvus, self._ready_model(), sentences=milvus)
            else:
                search = EmbeddedSearch(self.store, self.vectors, self.keywords)
                self._retriever = Retriever(search, self._ready_model(), sentences=search)
        self._retriever.weights = self.fusion or self._retriever.default_weights
        return self._retriever

    def _require_articles(self) -> None:
        if self.config is None or not self.catalog.has_chunks():
            raise IndexEmptyError(
                f"The index in {self.index_dir} has no articles yet. Add some with: "
                f"qa ingest PATH --index {self.index_dir}"
            )

    def search(
        self, query: str, k: int = 5, filters: Filters | None = None, mode: str = "hybrid"
    ) -> list[Passage]:
        """The ``k`` passages most relevant to ``query``, best first.

        ``mode`` is "hybrid" (dense + keyword, the default), or "dense" or "keyword" alone.
        """
        query = _clean_question(query)
        with self._snapshot():  # one state of the index, even while another process writes
            self._follow_writers()
            self._require_articles()
            return self.retriever.search(query, k, filters, mode=mode)

    def ask(
        self,
        question: str,
        history: Sequence[Turn | tuple[str, str]] | None = None,
        k: int = 5,
        filters: Filters | None = None,
        *,
        abstain_below: float | None = None,
    ) -> Answer:
        """Answer ``question`` with quoted, cited sentences, or say the articles don't answer it.

        ``history`` holds earlier turns (``Turn`` or ``(question, answer)`` pairs), oldest first;
        a short follow-up such as "Who founded it?" is searched with the last turn's context.
        ``abstain_below`` overrides the calibrated abstain threshold (for evaluation).
        """
        question = _clean_question(question)
        turns = [t if isinstance(t, Turn) else Turn(*t) for t in history or []]
        query = contextual_query(question, turns)
        with self._snapshot():  # one state of the index, even while another process writes
            self._follow_writers()
            self._require_articles()
            vector = self._ready_model().embed([query])[0]
            passages = self.retriever.search(query, max(k, PASSAGES_READ), filters, vector)
            stored = stored_sentence_vectors(self.retriever.sentences, passages)
        if query != question:
            # A follow-up: the earlier turn found the passages; the new question picks the
            # sentence, and sentences the user was already shown are not repeated.
            own_vector = self.embedder.embed([question])[0]
            shown = " ".join(turn.answer for turn in turns)
            reply = answer(
                question, passages, self.embedder, own_vector, shown, abstain_below,
                sentence_vectors=stored,
            )  # fmt: skip
        else:
            reply = answer(
                question, passages, self.embedder, vector, "", abstain_below,
                sentence_vectors=stored,
            )  # fmt: skip
        return replace(reply, passages=reply.passages[:k])

    # -- reading --------------------------------------------------------------------------------

    def articles(self) -> list[ArticleInfo]:
        if self.config is None:  # nothing was ever ingested (and a Milvus store is not open)
            return []
        return self.catalog.list_articles()

    def stats(self) -> IndexStats:
        config = self.config
        size = _size(self.index_dir)
        if self.store_uri is not None and self.store_uri.startswith(LOCAL_SCHEME):
            lite = Path(client_uri(self.store_uri))
            if not lite.is_relative_to(self.index_dir.resolve()):  # else counted above
                size += _size(lite)
        catalog = self.catalog if config is not None else None
        milvus = self.store_uri is not None
        return IndexStats(
            index_dir=str(self.index_dir),
            articles=catalog.count_articles() if catalog else 0,
            chunks=catalog.count_chunks() if catalog else 0,
            tokens=catalog.count_tokens() if catalog else 0,
            model=config.model if config else None,
            dimension=config.dimension if config else None,
            encoding=config.encoding if config else DEFAULT_ENCODING,
            chunk_tokens=self.chunk_tokens,
            overlap_tokens=self.overlap_tokens,
            vector_index=(
                "milvus flat-ip" if milvus else config.vector_index.get("kind") if config else None
            ),
            size_bytes=size,
            updated_at=catalog.get_meta("updated_at") if catalog else None,
            backend=config.backend if config else None,
            keyword_index=(
                "milvus bm25"
                if milvus
                else "fts5 + bm25 impact index"
                if self.keywords is not None
                else "fts5"
            ),
            store=self.store_uri or "embedded",
        )

    # -- other processes ------------------------------------------------------------------------

    def _follow_writers(self) -> None:
        """Pick up what other processes wrote since this index was last read (call inside
        ``store.snapshot()``, or holding the write lock).

        Each write bumps the database generation; when it moved, the vectors are loaded again,
        and checked against this snapshot's chunk ids: a FAISS file saved by a writer after the
        snapshot began is not used, the snapshot's own vectors are (from SQLite).
        """
        if self.config is None:
            self._adopt_config()
        if self._store is None:  # Milvus: searches always see what was written
            return
        generation = self.store.generation
        if self._vectors is not None and generation == self._vectors_generation:
            return
        self._vectors = None
        self._retriever = None
        self._keywords, self._keywords_loaded = None, False  # the writer may have rebuilt it
        self._vectors_generation = generation
        if self.config is None or self.store.count_chunks() == 0:
            return
        # A writer may have moved the vector index to another layout (see choose_layout).
        self.config = read_config(self.index_dir) or self.config
        loaded = self.vectors
        rows = self.store.db.execute("SELECT id FROM chunks ORDER BY id")
        chunk_ids = np.fromiter((row[0] for row in rows), dtype=np.int64)
        if not np.array_equal(np.sort(loaded.ids()), chunk_ids):
            ids, vectors = self.store.all_vectors(self.config.dimension)
            layout = choose_layout(len(ids), self.config.vector_index)
            self._vectors = VectorIndex.build(self.config.dimension, ids, vectors, layout)

    def _adopt_config(self) -> None:
        """An index that was empty when opened may have been created by another process since."""
        config = read_config(self.index_dir)
        if config is None:
            return
        check_same_model(config, self.embedder, self.index_dir)
        if config.store != self.store_uri:
            raise IndexFormatError(
                f"The index in {self.index_dir} was created meanwhile by another process, with "
                f"its chunks in {config.store or 'the embedded store'}. Open it again."
            )
        self.config = config
        self.chunk_tokens, self.overlap_tokens = config.chunk_tokens, config.overlap_tokens
        self._model_checked = False
        self._chunker = None

    # -- checking and repair --------------------------------------------------------------------

    def check(self) -> CheckReport:
        """Verify the index (database, vectors, keyword index, offsets).

        Read-only, but it holds the write lock so no ingest changes the files under it.
        """
        with translated_os_errors(self.index_dir), WriteLock(self.index_dir):
            if self._store is None:
                return check_milvus(self) if self.config else self._empty_report()
            return check_index(self)

    def repair(self) -> CheckReport:
        """Rebuild what ``check`` finds broken from the database, then check again."""
        with translated_os_errors(self.index_dir), WriteLock(self.index_dir):
            self._follow_writers()
            if self._store is None:
                return repair_milvus(self) if self.config else self._empty_report()
            return repair_index(self)

    def _empty_report(self) -> CheckReport:
        return CheckReport(index_dir=str(self.index_dir), articles=0, chunks=0)

    def rebuild_vectors(self) -> int:
        """Rebuild ``vectors.faiss`` from the vectors stored in SQLite and save it; return how
        many vectors it holds."""
        self._embedded_only("Rebuilding the vector file")
        with translated_os_errors(self.index_dir), WriteLock(self.index_dir):
            return self._rebuild_vectors()

    def _embedded_only(self, what: str) -> None:
        if self._store is None:
            raise QAError(
                f"{what} works on the embedded store (SQLite + FAISS); the index in "
                f"{self.index_dir} keeps its chunks and vectors in Milvus ({self.store_uri})."
            )

    def _rebuild_vectors(self) -> int:
        with self.store.transaction():
            self.store.set_meta("faiss_generation", "")  # not current: loading rebuilds it
        self._vectors = None
        self._retriever = None
        self._save_vectors()
        self._vectors_generation = self.store.generation
        return len(self.vectors)

    def _reindex_articles(self, article_ids: list[str]) -> int:
        """Re-chunk and re-embed stored articles from their text; return the chunks written.
        The vector file is left stale: rebuild it afterwards."""
        articles = self.store.articles_by_id(article_ids)
        with self.store.transaction():
            for article in articles:
                self.store.clear_chunks(article.id)  # so no damaged vector is reused
        self._ready_model()
        assert self.config is not None
        scratch = VectorIndex(self.config.dimension)
        ingestor = Ingestor(self.store, scratch, self.embedder, self.chunker)
        return ingestor.reindex(articles)


def _size(path: Path) -> int:
    """Bytes in a file, or in the files of a folder (Milvus Lite's .db may be either)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _clean_question(question: str) -> str:
    question = " ".join(question.split())
    if not question:
        raise QAError('The question is empty. Ask something, e.g.: qa ask "Who won Super Bowl 50?"')
    return question


def _run_ingest(
    ingestor: Ingestor,
    paths: Iterable[str | Path],
    prune: bool,
    max_file_mb: float,
    index_dir: Path,
) -> IngestReport:
    try:
        return ingestor.run(paths, prune=prune, max_file_mb=max_file_mb, exclude=[index_dir])
    except RayError as error:  # Ray missing, unreachable, or its workers failed
        raise WorkersError(str(error)) from error
