"""The ingest pipeline: files -> articles -> chunks -> vectors -> index, incrementally.

1. Read every file (a bad file is reported, never fatal) and compare each article's content hash
   with the index: unchanged articles cost nothing.
2. Chunk new and changed articles and split each chunk into sentences; reuse the stored vector
   of any chunk or sentence whose embedded text was embedded before (an edited article re-embeds
   only the chunks and sentences that changed).
3. Embed the rest in length-sorted batches and write each batch of articles in one transaction,
   so an interrupted ingest keeps what it finished and never leaves half an article.

The groups of articles, and so the batches the model sees, are decided here; a ``GroupEmbedder``
only runs the model on them, in this process or on Ray workers (embeddings/distributed.py), and
gives the same vectors either way.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings import Embedder, VectorIndex
from embeddings.batching import GroupEmbedder, InProcess
from qa.pipeline.chunking import Chunker, embedding_text
from qa.pipeline.corpus import DEFAULT_MAX_FILE_MB, FileResult, discover, read_file
from qa.pipeline.readers.web import Fetcher, WebIngest, WebState, file_results, is_address
from qa.pipeline.sentences import split_sentences
from qa.stores.base import Catalog, NewChunk, NewSentence
from qa.types import Article, Chunk, IngestFailure, IngestReport

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as work advances (stages: "Reading", "Embedding")."""

# Articles are written in groups of about this many newly embedded texts (chunks and their
# sentences): one transaction each.
BATCH_CHUNKS = 512


def embed_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SentenceText:
    """A sentence of a chunk: article offsets and the text the model embeds for it."""

    start: int
    end: int
    text: str
    digest: str


@dataclass
class _Planned:
    article: Article
    chunks: list[Chunk]
    texts: list[str]  # what the model embeds, one per chunk
    hashes: list[str]
    is_new: bool
    sentences: list[list[SentenceText]] = field(default_factory=list)  # per chunk

    def embed_texts(self) -> Iterator[tuple[str, str]]:
        """(text, embed hash) of every chunk, then of every sentence."""
        yield from zip(self.texts, self.hashes, strict=True)
        for chunk_sentences in self.sentences:
            for sentence in chunk_sentences:
                yield sentence.text, sentence.digest


def _planned(article: Article, chunker: Chunker, is_new: bool) -> _Planned:
    chunks, texts, headings = _chunks(article, chunker)
    sentences = [
        [
            SentenceText(chunk.start + a, chunk.start + b, text, embed_hash(text))
            for a, b in split_sentences(chunk.text)
            # Title-prefixed like the chunks: measured best for best-sentence retrieval
            # (SENTENCE_FUSION in qa/pipeline/retrieval.py).
            for text in [embedding_text(article.title, chunk.text[a:b], heading)]
        ]
        for chunk, heading in zip(chunks, headings, strict=True)
    ]
    hashes = [embed_hash(text) for text in texts]
    return _Planned(article, chunks, texts, hashes, is_new, sentences)


@dataclass
class _Group:
    """Articles written in one transaction, and the texts embedded for them first."""

    items: list[_Planned]
    texts: dict[str, str]  # embed hash -> text, for texts neither stored nor in an earlier group
    chunk_texts: int = 0  # how many of ``texts`` are chunks' (the rest are sentences')


@dataclass
class _Plan:
    planned: list[_Planned] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    failed: list[IngestFailure] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def chunk_article(article: Article, chunker: Chunker) -> tuple[list[Chunk], list[str]]:
    """Chunks of ``article`` and the text the model embeds for each."""
    chunks, texts, _ = _chunks(article, chunker)
    return chunks, texts


def _chunks(article: Article, chunker: Chunker) -> tuple[list[Chunk], list[str], list[str]]:
    spans = chunker.split(article.text, article.title)
    chunks = [
        Chunk(
            article.id, seq, span.start, span.end, article.text[span.start : span.end], span.tokens
        )
        for seq, span in enumerate(spans)
    ]
    texts = [
        embedding_text(article.title, chunk.text, span.heading)
        for chunk, span in zip(chunks, spans, strict=True)
    ]
    return chunks, texts, [span.heading for span in spans]


class Ingestor:
    """Runs one ingest against a store's catalog and, for the embedded store, an in-memory
    vector index (the caller saves it; ``None`` where the store keeps the vectors, as Milvus)."""

    def __init__(
        self,
        store: Catalog,
        vectors: VectorIndex | None,
        embedder: Embedder,
        chunker: Chunker,
        progress: Progress | None = None,
        embed_groups: GroupEmbedder | None = None,
        web: WebIngest | None = None,
    ) -> None:
        self.store = store
        self.vectors = vectors
        self.embedder = embedder
        self.chunker = chunker
        self.progress = progress or (lambda stage, done, total: None)
        # Where the model runs: here by default, or on a Ray cluster (--workers ray).
        self.embed_groups = embed_groups or InProcess(embedder)
        # Web addresses among the paths (qa/pipeline/readers/web.py); the CLI's default allows
        # private addresses (it runs as the user), the web UI passes its own.
        self.web = web or WebIngest(Fetcher(allow_private=True), WebState(None))

    def run(
        self,
        paths: Iterable[str | Path],
        prune: bool = False,
        max_file_mb: float = DEFAULT_MAX_FILE_MB,
        exclude: Iterable[Path] = (),
    ) -> IngestReport:
        """Ingest ``paths``; folders in ``exclude`` (the index folder) are never read."""
        started = time.perf_counter()
        paths = list(paths)
        plan = self._plan(paths, prune, int(max_file_mb * 2**20), exclude)
        added, updated, embedded, reused, tokens, sentences = self._write(plan.planned)
        removed = self._remove(plan.remove)
        self.web.state.save()  # only now: an interrupted ingest fetches these addresses again
        return IngestReport(
            added=added,
            updated=updated,
            unchanged=plan.unchanged,
            removed=removed,
            failed=plan.failed,
            skipped=plan.skipped,
            chunks_embedded=embedded,
            chunks_reused=reused,
            tokens_embedded=tokens,
            seconds=time.perf_counter() - started,
            sentences_embedded=sentences[0],
            sentences_reused=sentences[1],
        )

    def reindex(self, articles: list[Article]) -> int:
        """Chunk and embed ``articles`` again from their stored text (``qa check --repair``);
        return the number of chunks written. Their old chunks must be cleared first, so no
        damaged vector is reused."""
        planned = []
        for article in articles:
            planned.append(_planned(article, self.chunker, is_new=False))
        self._write(planned)
        return sum(len(item.chunks) for item in planned)

    def _results(
        self, paths: list[str | Path], max_file_bytes: int, plan: _Plan, exclude: Iterable[Path]
    ) -> Iterator[tuple[FileResult, int, int]]:
        """Each file's (or address's) result, with progress counts."""
        addresses = [str(p).strip() for p in paths if is_address(p)]
        found = discover([p for p in paths if not is_address(p)], exclude)
        plan.failed.extend(found.missing)
        plan.skipped.extend(found.skipped)
        total = len(found.files) + len(addresses)
        for done, path in enumerate(found.files, start=1):
            yield read_file(path, max_file_bytes), done, total
        stored = lambda source: bool(self.store.ids_by_source(source))  # noqa: E731
        fetched = file_results(self.web, addresses, stored)
        for done, (address, result) in enumerate(fetched, start=len(found.files) + 1):
            if result is None:  # not modified since the last fetch: keep its articles as they are
                plan.unchanged.extend(self.store.ids_by_source(address))
                continue
            yield result, done, max(total, done)

    def _plan(
        self, paths: list[str | Path], prune: bool, max_file_bytes: int, exclude: Iterable[Path]
    ) -> _Plan:
        plan = _Plan()
        known = self.store.content_hashes()
        seen: dict[str, str] = {}  # article id -> source, for duplicates within this run
        stale: set[str] = set()
        for result, done, total in self._results(paths, max_file_bytes, plan, exclude):
            plan.failed.extend(result.failures)
            for article in result.articles:
                if article.id in seen:
                    plan.failed.append(
                        IngestFailure(
                            result.path,
                            f"article id {article.id!r} ({article.title}) was already read from "
                            f"{seen[article.id]}; ids must be unique",
                        )
                    )
                    continue
                seen[article.id] = result.path
                if known.get(article.id) == article.content_hash:
                    plan.unchanged.append(article.id)
                    continue
                plan.planned.append(_planned(article, self.chunker, article.id not in known))
            if result.complete:  # records gone from a fully read file are gone from the index
                stale.update(self.store.ids_by_source(result.path))
            self.progress("Reading", done, total)
        if prune:
            for raw in paths:
                if is_address(raw):
                    continue
                folder = Path(raw).expanduser()
                if folder.is_dir():
                    stale.update(
                        article_id
                        for article_id, source in self.store.ids_under(str(folder.resolve()))
                        if not Path(source).exists()
                    )
        plan.remove = sorted(stale - set(seen))
        return plan

    def _write(
        self, planned: list[_Planned]
    ) -> tuple[list[str], list[str], int, int, int, tuple[int, int]]:
        """Embed and write ``planned``; return (added, updated, chunks embedded, chunks reused,
        tokens, (sentences embedded, sentences reused))."""
        stored = self.store.vectors_by_embed_hash(
            [digest for item in planned for _, digest in item.embed_texts()]
        )
        groups = _groups(planned, stored)
        to_embed = sum(len(group.texts) for group in groups)
        added: list[str] = []
        updated: list[str] = []
        embedded = reused = tokens = done = 0
        sentences_embedded = sentences_reused = 0
        if to_embed:
            self.progress("Embedding", 0, to_embed)

        def advance(count: int) -> None:
            nonlocal done
            done += count
            self.progress("Embedding", done, to_embed)

        # Lazy: each group's vectors are made (in-process) or awaited (Ray) just before that
        # group is written, so writing starts long before the last group is embedded.
        vectors = self.embed_groups(
            (list(group.texts.values()) for group in groups if group.texts), advance
        )
        try:
            for group in groups:
                if group.texts:
                    fresh = next(vectors)
                    for digest, vector in zip(group.texts, fresh, strict=True):
                        stored[digest] = vector.tobytes()
                self._commit(group.items, stored)
                for item in group.items:
                    (added if item.is_new else updated).append(item.article.id)
                    tokens += sum(chunk.tokens for chunk in item.chunks)
                embedded += group.chunk_texts
                reused += sum(len(item.chunks) for item in group.items) - group.chunk_texts
                fresh_sentences = len(group.texts) - group.chunk_texts
                sentences_embedded += fresh_sentences
                sentences_reused += (
                    sum(len(s) for item in group.items for s in item.sentences) - fresh_sentences
                )
        finally:
            vectors.close()  # stops remote work (and a Ray cluster we started) on any error
        return added, updated, embedded, reused, tokens, (sentences_embedded, sentences_reused)

    def _commit(self, items: list[_Planned], stored: dict[str, bytes]) -> None:
        """Write ``items`` in one transaction, then update the vector index."""
        removed_ids: list[int] = []
        new_ids: list[int] = []
        new_vectors: list[np.ndarray] = []
        with self.store.transaction():
            for item in items:
                rows = [
                    NewChunk(
                        chunk,
                        digest,
                        np.frombuffer(stored[digest], dtype=np.float32),
                        [
                            NewSentence(s.start, s.end, s.digest, _vector(stored[s.digest]))
                            for s in sentences
                        ],
                    )
                    for chunk, digest, sentences in zip(
                        item.chunks, item.hashes, item.sentences, strict=True
                    )
                ]
                gone, ids = self.store.put_article(item.article, rows)
                removed_ids.extend(gone)
                new_ids.extend(ids)
                new_vectors.extend(row.vector for row in rows)
        self._apply(removed_ids, new_ids, new_vectors)

    def _remove(self, article_ids: list[str]) -> list[str]:
        if not article_ids:
            return []
        removed_ids: list[int] = []
        with self.store.transaction():
            for article_id in article_ids:
                removed_ids.extend(self.store.delete_article(article_id))
        self._apply(removed_ids, [], [])
        return article_ids

    def _apply(self, removed: list[int], ids: list[int], vectors: list[np.ndarray]) -> None:
        if self.vectors is None:
            return
        self.vectors.remove(np.asarray(removed, dtype=np.int64))
        if ids:
            self.vectors.add(np.asarray(ids, dtype=np.int64), np.vstack(vectors))


def _vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def _groups(planned: list[_Planned], stored: Container[str]) -> list[_Group]:
    """Group articles so each group has about BATCH_CHUNKS chunks that need embedding.

    All groups are decided before any is embedded (Ray embeds them all at once); a text that an
    earlier group embeds counts as stored for the later ones, as when groups are embedded in turn.
    """
    groups: list[_Group] = []
    earlier: set[str] = set()  # embed hashes that earlier groups embed
    batch: list[_Planned] = []
    pending = 0
    for item in planned:
        batch.append(item)
        pending += sum(1 for _, d in item.embed_texts() if d not in stored and d not in earlier)
        if pending >= BATCH_CHUNKS:
            groups.append(_group(batch, stored, earlier))
            batch, pending = [], 0
    if batch:
        groups.append(_group(batch, stored, earlier))
    return groups


def _group(items: list[_Planned], stored: Container[str], earlier: set[str]) -> _Group:
    texts: dict[str, str] = {}
    chunk_texts = 0
    for item in items:
        for text, digest in item.embed_texts():
            if digest not in stored and digest not in earlier and digest not in texts:
                texts[digest] = text
                chunk_texts += digest in item.hashes  # a sentence alone as a chunk counts once
    earlier.update(texts)
    return _Group(items, texts, chunk_texts)
