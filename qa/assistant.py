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

``Assistant`` is a facade: the pipeline (``qa.pipeline``) on one store object
(``qa.stores.base.IndexStore``, picked once by ``qa.stores.factory.open_store``); nothing here
depends on which store it is.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embeddings import Embedder, EmbeddingError
from embeddings.batching import GroupEmbedder
from embeddings.distributed import RayError, RayGroups  # Ray itself loads only when used
from qa.config import (
    DEFAULT_SENTENCE_VECTORS,
    PROBE_DIMS,
    PROBE_TEXT,
    PROBE_TOLERANCE,
    IndexConfig,
    check_same_model,
    model_spec,
    read_config,
    write_config,
)
from qa.errors import (
    ArticleNotFoundError,
    IndexConfigError,
    IndexEmptyError,
    IndexFormatError,
    ModelError,
    ModelMismatchError,
    QAError,
    SearchOptionError,
    WorkersError,
    translated_os_errors,
)
from qa.layout import CONFIG_FILE, DB_FILE, DEFAULT_INDEX, INDEX_ENV, disk_bytes
from qa.limits import check_k, check_question, has_words
from qa.locking import WriteLock
from qa.opening import file_identity, open_folder
from qa.pipeline.answer import offered
from qa.pipeline.chunking import Chunker
from qa.pipeline.conversation import retrieve
from qa.pipeline.corpus import DEFAULT_MAX_FILE_MB
from qa.pipeline.courtesy import accepted, courtesy_reply, is_courtesy
from qa.pipeline.definitions import lead_answer, lead_passage
from qa.pipeline.evidence import stored_sentence_vectors
from qa.pipeline.formats import is_paged
from qa.pipeline.ingest import Ingestor, Progress
from qa.pipeline.pages import with_pages
from qa.pipeline.question_form import as_question
from qa.pipeline.reader import (
    READ_PASSAGES,
    AnswerModel,
    names,
    read,
    scored_passages,
)
from qa.pipeline.readers.pdf import page_at
from qa.pipeline.readers.web import Fetcher, WebIngest, WebState, is_address
from qa.pipeline.recover import reread
from qa.pipeline.retrieval import SEARCH_MODES, FusionWeights, Retriever
from qa.pipeline.spelling import Titles
from qa.pipeline.stages import ANSWER_STAGES, AnswerStage, Found
from qa.pipeline.tokens import DEFAULT_ENCODING, token_counter
from qa.scope import Scope, matches, scope_of
from qa.stores.base import Catalog, CheckReport, IndexStore
from qa.types import (
    Answer,
    Article,
    ArticleInfo,
    Excerpt,
    Filters,
    IndexStats,
    IngestReport,
    Passage,
    Turn,
)

if TYPE_CHECKING:  # qa.llm imports httpx: loaded only when a language model is used
    from qa.llm import LLMConfig, Token, Verdict
    from qa.llm.check import VerifyModel


# The longest text ``Assistant.excerpt`` returns (a few passages; whole articles via qa list).
MAX_EXCERPT_CHARS = 20_000


def default_index_dir() -> Path:
    return Path(os.environ.get(INDEX_ENV) or DEFAULT_INDEX)


class Assistant:
    """Question answering over one index folder. Create with ``Assistant.open(...)``."""

    def __init__(
        self,
        index_dir: Path,
        store: IndexStore,
        config: IndexConfig | None,
        embedder: Embedder,
        chunk_tokens: int,
        overlap_tokens: int,
        store_uri: str | None = None,
        reader: bool | AnswerModel = True,
        reader_dir: Path | None = None,
        sentence_vectors: str = DEFAULT_SENTENCE_VECTORS,
    ) -> None:
        self.index_dir = index_dir
        self.store = store
        self.store_uri = store_uri  # as config.json records it (None: the embedded store)
        self.config = config
        self.embedder = embedder
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self.sentence_vectors = sentence_vectors  # how ingest makes them (config.json keeps it)
        self._model_checked = False
        self._chunker: Chunker | None = None
        self._retriever: Retriever | None = None
        # What is wrong with config.json (lost, damaged, or not the copy the store keeps):
        # while set, everything but check and repair refuses with this error's message.
        self.config_problem: IndexConfigError | None = None
        # Fusion weights of hybrid search; `qa eval --split` sets tuned ones here.
        # None: the retriever's default (docs/evidence.md); `qa eval --split` sets its own.
        self.fusion: FusionWeights | None = None
        # The trained reader (qa.pipeline.reader): on by default; off answers as before it.
        self.reader_enabled = reader is not False
        self.reader_dir = reader_dir  # None: the model shipped with the package
        self._reader: AnswerModel | None = None if isinstance(reader, bool) else reader
        # A model object given for the reader (tests) verifies too; else verifier.onnx.
        self._verifier: Any = None if isinstance(reader, bool) else reader
        self._database = file_identity(index_dir / DB_FILE)  # see replaced()
        self._closed = False

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
        reader: bool | AnswerModel = True,
        reader_dir: str | Path | None = None,
        sentence_vectors: str | None = None,
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
        ``reader`` (default on) answers with the trained reader (``qa.pipeline.reader``);
        ``reader=False`` keeps the answer path from before it; a model object is used instead
        of the shipped one (tests). ``reader_dir`` loads another
        trained reader (a folder with reader.onnx and tokenizer.json) instead of the shipped one.
        Any index works with the reader: it reads sentences as text, nothing is re-embedded.
        ``sentence_vectors`` says how a new index makes its vectors: "pooled" (the default:
        each sentence embedded title-prefixed, each chunk's vector pooled from its sentences'),
        "titled" (the chunk embedded too, as indexes from before 2026-12-05 were made), "alone"
        (each sentence on its own text) or "late" (pooled from each chunk's own pass); an
        existing index keeps its own (naming another is an ``IndexFormatError``).
        """
        folder = (Path(index_dir) if index_dir is not None else default_index_dir()).expanduser()
        opened = open_folder(
            folder,
            model=model,
            backend=backend,
            embedder=embedder,
            chunk_tokens=chunk_tokens,
            overlap_tokens=overlap_tokens,
            create=create,
            store=store,
            sentence_vectors=sentence_vectors,
        )
        assistant = cls(
            folder,
            opened.store,
            opened.config,
            opened.embedder,
            opened.chunk_tokens,
            opened.overlap_tokens,
            opened.store_uri,
            reader=reader,
            reader_dir=Path(reader_dir) if reader_dir is not None else None,
            sentence_vectors=opened.sentence_vectors,
        )
        assistant.config_problem = opened.problem
        return assistant

    def close(self) -> None:
        self._closed = True
        self.store.close()

    def _open(self) -> None:
        """Refuse to work after ``close()``: the closed database would read as a damaged one,
        and a user would repair an index that has nothing wrong with it."""
        if self._closed:
            raise QAError(
                f"This Assistant for {self.index_dir} is closed (close() was called, or its "
                "with block ended): open the index again with Assistant.open(...)."
            )

    # -- the store ------------------------------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        """Articles and chunks as records (the store, as ingest and removal see it)."""
        return self.store

    def _snapshot(self) -> AbstractContextManager[None]:
        return self.store.snapshot()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _usable(self) -> None:
        """Refuse to work on an index whose config.json is lost or damaged (``repair`` first):
        writing would replace it silently, reading would use vectors nobody can vouch for."""
        self._open()
        if self.config_problem is not None:
            raise self.config_problem

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
            self.store.claim()  # a shared store may hold another index's chunks
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
                sentence_vectors=self.sentence_vectors,
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

    # -- writing --------------------------------------------------------------------------------

    def ingest(
        self,
        paths: str | Path | Iterable[str | Path],
        *,
        prune: bool = False,
        max_file_mb: float = DEFAULT_MAX_FILE_MB,
        progress: Progress | None = None,
        workers: str | None = None,
        allow_private_urls: bool = True,
    ) -> IngestReport:
        """Add or update the articles in ``paths`` (files or folders); skip unchanged ones.

        Records that disappeared from a file that was read whole are removed. ``prune=True``
        also removes articles whose files were deleted from the folders given. Bad files are
        listed in ``report.failed``; the rest is ingested.
        ``workers`` embeds on a Ray cluster instead of in this process: ``"ray"`` starts a local
        one, ``"ray://host:10001"`` uses a running one (needs ``pip install 'article-qa[ray]'``);
        the vectors are the same either way. Failures there raise ``WorkersError``.
        ``paths`` may hold web addresses (a page or an RSS/Atom feed, qa/pipeline/readers/web.py);
        ``allow_private_urls=False`` refuses loopback, private and link-local destinations
        (the web UI's default), ``True`` is for a user fetching on their own behalf.
        A single path or address may be given alone (not read as a list of its letters, the
        first of which, "/", is the whole disk).
        """
        if isinstance(paths, str | Path):
            paths = [paths]
        self._usable()
        with translated_os_errors(self.index_dir), WriteLock(self.index_dir):
            self._follow_writers()
            self._ready_model()
            embed_groups = self._workers(workers)
            web = WebIngest(Fetcher(allow_private=allow_private_urls), WebState(self.index_dir))
            vectors = self.store.live_vectors()
            ingestor = Ingestor(
                self.store,
                vectors,
                self.embedder,
                self.chunker,
                progress,
                embed_groups,
                web,
                self.sentence_vectors,
            )
            report = _run_ingest(ingestor, paths, prune, max_file_mb, self.index_dir)
            self.store.after_write(bool(report.added or report.updated or report.removed))
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

    def remove(self, targets: str | Path | Iterable[str | Path]) -> list[str]:
        """Remove articles by id, or every article read from a file or folder path (one target
        may be given alone).

        Returns the removed ids; raises ``ArticleNotFoundError`` if a target matches nothing
        (and then removes nothing).
        """
        wanted = [str(t) for t in ([targets] if isinstance(targets, str | Path) else targets)]
        self._usable()
        with translated_os_errors(self.index_dir), WriteLock(self.index_dir):
            self._follow_writers()
            chosen: list[str] = []
            unknown: list[str] = []
            for target in wanted:
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
            if self.config is not None:
                self.store.after_write(True, removed)
        return chosen

    def _match(self, target: str) -> list[str]:
        if self.config is None:  # nothing was ever ingested
            return []
        if self.catalog.has_article(target):
            return [target]
        if is_address(target):  # articles fetched from a web address keep it as their source
            return self.catalog.ids_by_source(target.strip())
        path = str(Path(target).expanduser().resolve())
        ids = self.catalog.ids_by_source(path)
        ids.extend(article_id for article_id, _ in self.catalog.ids_under(path))
        return ids

    # -- asking ---------------------------------------------------------------------------------

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            index = self.store
            self._retriever = Retriever(index, self._ready_model(), sentences=index)
        self._retriever.weights = self.fusion or self._retriever.default_weights
        return self._retriever

    def _require_articles(self) -> None:
        if self.config is None or not self.store.has_chunks():
            raise IndexEmptyError(
                f"The index in {self.index_dir} has no articles yet. Add some with: "
                f"qa ingest PATH --index {self.index_dir}"
            )

    def _require_scope(self, filters: Filters | None, found: Sequence[Passage]) -> None:
        """Refuse filters that leave no article ("No article is named 'Nope' (the index has
        12)"): searching nothing would abstain, or say that no article mentions the question's
        names, which is not true of the index. Asked only when the search ``found`` nothing,
        since counting lists every article: 2.1 s a question at 200,000 articles (1M chunks),
        measured 2026-12-06 on a synthetic index with the machine's two cores busy."""
        if not found and filters is not None and not filters.empty:
            self.scope(filters).require()

    @property
    def default_mode(self) -> str:
        """The search mode of ``search`` and ``qa search``: "reader" when the reader is on."""
        return "reader" if self.reader_enabled else "hybrid"

    def search(
        self, query: str, k: int = 5, filters: Filters | None = None, mode: str | None = None
    ) -> list[Passage]:
        """The ``k`` passages most relevant to ``query``, best first.

        ``mode`` is "reader" (hybrid, then re-ranked by the reader, with each passage's
        ``reader_score``: the default when the reader is on), "hybrid" (dense + keyword fused,
        the default without the reader), or "dense" or "keyword" alone.
        """
        query = as_question(_clean_question(query, "query"))  # read as a question: "?" too
        k = check_k(k, most=None)  # k=0 would return nothing, and say nothing about it
        mode = mode or self.default_mode
        if mode not in SEARCH_MODES:
            raise SearchOptionError(
                f"mode must be one of {', '.join(SEARCH_MODES)}. Currently, mode is {mode!r}"
            )
        self._usable()
        with translated_os_errors(self.index_dir), self._snapshot():
            # One state of the index, even while another process writes.
            self._follow_writers()
            self._require_articles()
            if mode != "reader":
                found = self.retriever.search(query, k, filters, mode=mode)
                self._require_scope(filters, found)
                return found
            reader = self._reader_model()
            if reader is None:
                raise SearchOptionError(
                    "Search mode 'reader' needs the reader, which is off (--no-reader)."
                )
            model = self._ready_model()
            vector = model.embed([query])[0]
            passages = self.retriever.search(query, max(k, READ_PASSAGES), filters, vector)
            self._require_scope(filters, passages)
            stored = stored_sentence_vectors(self.retriever.sentences, passages, READ_PASSAGES)
        return scored_passages(read(reader, query, passages, model, vector, stored))[:k]

    def _answer_stage(self) -> AnswerStage:
        """The answer stage (qa.pipeline.stages): the reader's, or the one from before it."""
        return ANSWER_STAGES["reader" if self.reader_enabled else "overlap"](self._trained_model)

    def _reader_model(self) -> AnswerModel | None:
        """The reader model, loaded once (None when the reader is off)."""
        if not self.reader_enabled:
            return None
        return self._trained_model()

    def _trained_model(self) -> Any:
        """The model trained here (reader and verifier heads), loaded once."""
        if self._reader is None:
            from embeddings.reader import ReaderModel

            model = ReaderModel(self.reader_dir)
            try:
                model.session  # noqa: B018 (load now: a missing file fails here, clearly)
            except EmbeddingError as error:
                raise ModelError(str(error)) from error
            self._reader = model
        return self._reader

    def _verifier_model(self) -> Any:
        """The verifier of generated sentences, loaded once: ``verifier.onnx``, trained apart
        (embeddings/trained/README.md), from the reader folder if it has one, else the shipped
        one (a reader's own verify head is not trained); the model object given as ``reader``,
        if one was."""
        if self._verifier is None:
            from embeddings.reader import TRAINED_DIR, VERIFIER_FILE, ReaderModel

            folder = self.reader_dir or TRAINED_DIR
            if not (folder / VERIFIER_FILE).is_file():
                folder = TRAINED_DIR
            model = ReaderModel(folder, VERIFIER_FILE)
            try:
                model.session  # noqa: B018 (load now: a damaged file fails here, clearly)
            except EmbeddingError as error:
                raise ModelError(str(error)) from error
            self._verifier = model
        return self._verifier

    def ask(
        self,
        question: str,
        history: Sequence[Turn | tuple[str, str]] | None = None,
        k: int = 5,
        filters: Filters | None = None,
        *,
        abstain_below: float | None = None,
        llm: LLMConfig | None = None,
    ) -> Answer:
        """Answer ``question`` with quoted, cited sentences, or say the articles don't answer it.

        ``history`` holds earlier turns (``Turn.of(reply)`` of each earlier answer, or
        ``(question, answer)`` pairs), oldest first; a follow-up such as "Who founded it?" stays
        on the article the conversation is about or the one the last answer quoted (see
        ``qa.pipeline.conversation``; a pair does not say which article it quoted); a question
        that stands on its own is answered as if asked alone unless a passage of those articles
        is at least as close to it.
        ``abstain_below`` overrides the calibrated abstain threshold (for evaluation).
        ``llm`` has a language model write the answer (checked sentence by sentence; see
        ``ask_stream``); without it, or when the model fails, the answer is extractive.
        """
        question, turns = _asked(question, history)
        if llm is None:
            return self._extractive(question, turns, k, filters, abstain_below)
        final: Answer | None = None
        for event in self._stream(question, turns, k, filters, llm, abstain_below):
            if isinstance(event, Answer):
                final = event
        assert final is not None  # the stream always ends with the Answer
        return final

    def _extractive(
        self,
        question: str,
        turns: list[Turn],
        k: int,
        filters: Filters | None,
        abstain_below: float | None,
    ) -> Answer:
        """The quoted answer (the reader's when it is on), ``question`` already cleaned."""
        k = check_k(k, most=None)  # k=0 would cite a passage it does not return
        self._usable()
        if is_courtesy(question):  # "Thank you!" is no question (qa.pipeline.courtesy)
            return courtesy_reply(question)
        # Searched and read with its "?" (qa.pipeline.question_form); answered as typed.
        typed, question = question, as_question(question)
        # One state of the index, even while another process writes.
        with translated_os_errors(self.index_dir), self._snapshot():
            self._follow_writers()
            self._require_articles()
            model = self._ready_model()
            stage = self._answer_stage()
            count = max(k, stage.passages_read)
            vector = model.embed([question])[0]
            # With history, the conversation's subject may choose the passages
            # (qa.pipeline.conversation).
            conversation = (
                retrieve(question, turns, self.retriever, model, count, filters, vector)
                if turns
                else None
            )
            passages = (
                conversation.passages
                if conversation is not None
                else (self.retriever.search(question, count, filters, vector))
            )
            self._require_scope(filters, passages)
            # "Who was Tesla?" is answered by the article's first sentence
            # (qa.pipeline.definitions); a question that stands on its own is searched alone.
            follow_up = conversation is not None and conversation.follow_up
            alone_found = conversation.alone if conversation and follow_up else passages
            lead = lead_passage(
                question, alone_found, self.catalog.chunk_ids, self.retriever.index, vector
            )
            sentences, reads = self.retriever.sentences, stage.passages_read
            alone = None
            if conversation is not None and follow_up and stage.reads_alone:
                alone = stored_sentence_vectors(sentences, conversation.alone, reads)
            asked_names = names(question) if stage.weighs_names else []
            unmentioned = self.retriever.unmentioned(asked_names, filters)
            found = Found(
                question=question,
                vector=vector,
                passages=passages,
                stored=stored_sentence_vectors(sentences, passages, reads),
                turns=turns,
                conversation=conversation,
                alone_stored=alone,
                unmentioned=unmentioned,
                lacking=self._lacking if asked_names else None,
                titles=self._titles(filters) if unmentioned else None,
            )
        reply = (lead_answer(question, lead, alone_found) if lead is not None else None) or (
            stage.answer(found, model, abstain_below)
        )
        if reply.citations:
            with self._snapshot():
                reply = with_pages(self.catalog, reply)
        return replace(reply, question=typed, passages=reply.passages[:k])

    def _lacking(self, article_id: str, asked: Sequence[str]) -> tuple[str, ...]:
        """Which of ``asked`` (names) the article never mentions: read in a snapshot of its
        own, as the answer stage asks it after the search's is closed."""
        with self._snapshot():
            return self.retriever.unmentioned(asked, Filters(article_ids=(article_id,)))

    def _titles(self, filters: Filters | None) -> Titles:
        """The titles of the articles ``filters`` leave, read in a snapshot of their own when
        asked (only for a name no passage found spells alike: qa.pipeline.spelling)."""

        @functools.cache  # asked at most twice per question: to answer, then to respell
        def titles() -> tuple[str, ...]:
            with self._snapshot():
                if filters is None or filters.empty:  # titles alone: no article's text is read
                    return tuple(self.store.titles())
                listed = self.store.list_articles()
            return tuple(a.title for a in listed if matches(a, filters))

        return titles

    def ask_stream(
        self,
        question: str,
        history: Sequence[Turn | tuple[str, str]] | None = None,
        k: int = 5,
        filters: Filters | None = None,
        *,
        llm: LLMConfig | None = None,
        abstain_below: float | None = None,
    ) -> Iterator[Token | Verdict | Answer]:
        """Yield the model's text as ``Token``s while it writes, then the checked ``Answer``
        (without ``llm``: the quoted answer alone, so one loop serves both).

        Each sentence is checked as soon as it is complete: a ``Verdict`` (supported or not,
        and by which passage) comes before the token that completed it, for marking it while
        the model writes on; the final ``Answer`` is checked again from the whole text.

        No model is called when the extractive answer abstains (the articles don't cover the
        question). A fault of the server (not running, timeout, unknown model, prompt too long,
        an error mid-answer) ends the stream with the extractive answer, ``notice`` saying why.
        Closing the generator early (a stop button) closes the connection. The passages given
        to the model are the reader's re-ranked ones (when the reader is on).
        """
        question, turns = _asked(question, history)
        if llm is None:
            return iter([self._extractive(question, turns, k, filters, abstain_below)])
        return self._stream(question, turns, k, filters, llm, abstain_below)

    def _stream(
        self,
        question: str,
        turns: list[Turn],
        k: int,
        filters: Filters | None,
        llm: LLMConfig,
        abstain_below: float | None,
    ) -> Iterator[Token | Verdict | Answer]:
        from qa.llm import generate

        reply = self._extractive(question, turns, k, filters, abstain_below)
        verifier = self.verifier(llm)
        yield from generate(question, reply.passages, reply, self.embedder, llm, turns, verifier)

    def verifier(self, llm: LLMConfig) -> VerifyModel | None:
        """What checks a generated answer's sentences for ``llm.check``: the trained verifier
        (``_verifier_model``, loaded once; with the reader on or off), or None for the cosine
        check. For a caller that streams ``qa.llm.generate`` itself, outside its own lock
        (``qa serve``)."""
        if llm.check != "verifier":
            return None
        model: VerifyModel = self._verifier_model()
        return model

    # -- reading --------------------------------------------------------------------------------

    def articles(self) -> list[ArticleInfo]:
        self._usable()
        if self.config is None:  # nothing was ever ingested
            return []
        with translated_os_errors(self.index_dir):
            return self.store.list_articles()

    def article(self, key: str) -> ArticleInfo | None:
        """The article whose id is ``key``, else the first (by id) whose title is exactly
        ``key``; None when the index has neither. One lookup, not a listing of every article."""
        found = self._find_articles(key)
        return found[0] if found else None

    def titled(self, title: str) -> list[ArticleInfo]:
        """The articles whose title is exactly ``title``, by id (one lookup)."""
        found = self._find_articles(title)
        return sorted((info for info in found if info.title == title), key=lambda info: info.id)

    def _find_articles(self, key: str) -> list[ArticleInfo]:
        self._usable()
        if self.config is None:  # nothing was ever ingested
            return []
        with translated_os_errors(self.index_dir):
            return self.store.find_articles(key)

    def excerpt(self, article: str, start: int, end: int) -> Excerpt:
        """``text[start:end]`` of an article (by id or exact title), e.g. a passage or a quote
        that ``search`` or ``ask`` gave, or the text around it. Raises ``ArticleNotFoundError``
        for an unknown article and ``SearchOptionError`` for offsets outside its text or a span
        over ``MAX_EXCERPT_CHARS``.
        """
        if end - start > MAX_EXCERPT_CHARS:
            raise SearchOptionError(
                f"An excerpt may span at most {MAX_EXCERPT_CHARS} characters; {start}-{end} "
                f"spans {end - start}. Ask for a shorter range."
            )
        self._usable()
        with self._snapshot():
            self._follow_writers()
            self._require_articles()
            info = self.article(article)
            if info is None:
                raise ArticleNotFoundError(
                    f"No article {article!r} (by id or exact title). See `qa list` for ids."
                )
            text = self.catalog.article_text(info.id) or ""
        if not 0 <= start < end <= len(text):
            raise SearchOptionError(
                f"The range {start}-{end} is not inside {info.title!r}, which has {len(text)} "
                "characters: use 0 <= start < end <= its length."
            )
        paged = is_paged(info.source)
        return Excerpt(
            article_id=info.id,
            title=info.title,
            url=info.url,
            source=info.source,
            text=text[start:end],
            start=start,
            end=end,
            page=page_at(text, start) if paged else None,
        )

    def stats(self) -> IndexStats:
        self._usable()
        with translated_os_errors(self.index_dir):
            return self._stats()

    def _stats(self) -> IndexStats:
        config = self.config
        listing = self.store if config is not None else None
        store = self.store.stats()
        return IndexStats(
            index_dir=str(self.index_dir),
            articles=listing.count_articles() if listing else 0,
            chunks=listing.count_chunks() if listing else 0,
            tokens=listing.count_tokens() if listing else 0,
            model=config.model if config else None,
            dimension=config.dimension if config else None,
            encoding=config.encoding if config else DEFAULT_ENCODING,
            chunk_tokens=self.chunk_tokens,
            overlap_tokens=self.overlap_tokens,
            vector_index=store.vector_index,
            size_bytes=disk_bytes(self.index_dir) + store.outside_bytes,
            updated_at=listing.get_meta("updated_at") if listing else None,
            backend=config.backend if config else None,
            keyword_index=store.keyword_index,
            store=store.store,
        )

    def scope(self, filters: Filters | None) -> Scope:
        """How many articles ``filters`` leave to search, of how many, and how many have no
        date; ``scope(filters).require()`` raises ``NoMatchingArticlesError`` when none."""
        return scope_of(self.articles(), filters)

    # -- other processes ------------------------------------------------------------------------

    def replaced(self) -> bool:
        """Whether another process created or replaced this index since it was opened here:
        its database is another file now, or a config.json appeared where there was none.

        Writes of other processes into the same index are followed by every call; a replaced
        index needs ``Assistant.open`` again (``qa serve`` does so, ui/state.py)."""
        if file_identity(self.index_dir / DB_FILE) != self._database:
            return True
        return self.config is None and (self.index_dir / CONFIG_FILE).exists()

    def reopen(self, model: str | None = None) -> Assistant:
        """Close this assistant and open its folder again (after ``replaced()``), keeping the
        loaded model when the index there uses the same one (else ``model``, or its own), and
        the reader on or off as it was."""
        self.close()
        config = read_config(self.index_dir) if (self.index_dir / DB_FILE).exists() else None
        same = config is not None and config.model == self.embedder.name
        return Assistant.open(
            self.index_dir,
            model=None if same else model,
            embedder=self.embedder if same else None,
            reader=self.reader_enabled,
            reader_dir=self.reader_dir,
        )

    def _follow_writers(self) -> None:
        """Pick up what other processes wrote since this index was last read (call inside
        ``store.snapshot()``, or holding the write lock): the config of an index created
        meanwhile, and whatever the store caches (``Maintenance.follow_writers``)."""
        if self.config is None:
            self._adopt_config()
        self.store.follow_writers()

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
        self.sentence_vectors = config.sentence_vectors
        self._model_checked = False
        self._chunker = None

    # -- checking and repair --------------------------------------------------------------------

    def check(self) -> CheckReport:
        """Verify the index (the store's own ``check``: database, vectors, keyword index,
        offsets). Read-only, but it holds the write lock so no ingest changes the files under it.
        """
        self._open()
        with translated_os_errors(self.index_dir), WriteLock(self.index_dir):
            return self.store.check()

    def repair(self) -> CheckReport:
        """Rebuild what ``check`` finds broken (the store's own ``repair``), then check again.

        Articles whose stored text fails its content hash are read again from their file or web
        address when that still matches (``qa.pipeline.recover``), else removed; a lost or
        damaged config.json is written again from the copy the store keeps."""
        self._open()
        with translated_os_errors(self.index_dir), WriteLock(self.index_dir):
            with suppress(IndexFormatError):  # what stops reading is what the repair is for
                self._follow_writers()
            report = self.store.repair(self._reindex, reread)
            if self.config_problem is not None:
                with suppress(IndexConfigError):  # still damaged: the report says why
                    if read_config(self.index_dir) == self.config:
                        self.config_problem = None  # config.json is the store's copy again
            return report

    def rebuild_vectors(self) -> int:
        """Rebuild ``vectors.faiss`` from the vectors stored in SQLite and save it; return how
        many vectors it holds (the embedded store only)."""
        self._usable()
        with translated_os_errors(self.index_dir), WriteLock(self.index_dir):
            return self.store.rebuild_vectors()

    def _reindex(self, articles: list[Article]) -> int:
        """Re-chunk and re-embed stored articles from their text (``repair`` of chunks that do
        not match it); return the chunks written. The store rebuilds its vectors afterwards."""
        self._ready_model()
        ingestor = Ingestor(
            self.store, None, self.embedder, self.chunker, sentence_vectors=self.sentence_vectors
        )
        return ingestor.reindex(articles)


def _turns(history: Sequence[Turn | tuple[str, str]] | None) -> list[Turn]:
    """Earlier turns as ``Turn``s; anything else is refused, not read letter by letter."""
    if history is None:
        return []
    if isinstance(history, str | bytes) or not isinstance(history, Sequence):
        raise SearchOptionError(
            f"history must be a list of earlier turns (Turn.of(answer), or (question, answer) "
            f"pairs), oldest first; got {type(history).__name__}."
        )
    turns = []
    for n, turn in enumerate(history, 1):
        if isinstance(turn, Turn):
            turns.append(turn)
        elif (
            isinstance(turn, tuple | list)
            and len(turn) == 2
            and all(isinstance(part, str) for part in turn)
        ):
            turns.append(Turn(turn[0], turn[1], suggested=offered(turn[1])))
        else:
            raise SearchOptionError(
                f"history's turn {n} must be a Turn (Turn.of(answer)) or a (question, answer) "
                f"pair of strings; got {repr(turn)[:60]}."
            )
    return turns


def _asked(
    question: str, history: Sequence[Turn | tuple[str, str]] | None
) -> tuple[str, list[Turn]]:
    """The question cleaned and the turns checked; "yes" right after an abstention that offered
    the question respelled ("Did you mean ...?") asks that question."""
    question, turns = _clean_question(question), _turns(history)
    # Said right after the offer: "yes" after a "thanks" says yes to nothing.
    question = accepted(question, turns) or question
    # A "thanks" between two questions says nothing the next one leans on ("When did he
    # die?" after "Who founded the Mongol Empire?", "thanks" must still mean Genghis Khan).
    return question, [turn for turn in turns if not is_courtesy(turn.question)]


def _clean_question(question: str, what: str = "question") -> str:
    question = " ".join(check_question(question, what).split())
    if not question:
        raise QAError(f"The {what} is empty: ask something about your articles.")
    if not has_words(question):
        raise QAError(f"The {what} {question!r} has no words: ask something about your articles.")
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
