"""The ingest pipeline: files -> articles -> chunks -> vectors -> index, incrementally.

1. Read every file (a bad file is reported, never fatal) and compare each article's content hash
   with the index: unchanged articles cost nothing.
2. Chunk new and changed articles and split each chunk into sentences; reuse the stored vector
   of any chunk or sentence whose embedded text was embedded before (an edited article re-embeds
   only the chunks and sentences that changed). Sentences are embedded title-prefixed like their
   chunk (or, as an index records, on their own text, or pooled from their chunk's pass; or the
   chunk's vector is pooled from its sentences': ``qa.config.SENTENCE_VECTORS``).
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
from embeddings.batching import Batch, GroupEmbedder, InProcess
from embeddings.spans import Span
from qa.config import DEFAULT_SENTENCE_VECTORS, LATE, POOLED, SENTENCE_VECTORS, TITLED
from qa.pipeline.chunking import Chunker, embedding_text
from qa.pipeline.corpus import DEFAULT_MAX_FILE_MB, FileResult, discover, read_file
from qa.pipeline.readers.web import Fetcher, WebIngest, WebState, file_results, is_address
from qa.pipeline.sentences import split_sentences
from qa.stores.base import Catalog, NewChunk, NewSentence
from qa.types import Article, Chunk, IngestFailure, IngestReport

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as work advances (stages: "Reading", "Embedding")."""

# Articles are written in groups of about this many texts to embed (chunks, with their sentences
# when those are embedded on their own): one transaction each.
BATCH_CHUNKS = 512
# A pooled chunk vector is the mean of its sentences' vectors, and each of them was embedded
# with the chunk's context line ("title › heading"): the mean leans on that line more than the
# chunk's own pass does. Taking this share of the line's own vector off (before renormalising)
# brings it closer to the chunk's own vector: cosine .934 -> .940 on SQuAD dev, .886 -> .910 on
# NYT dev (half of the articles of the titled-int8 indexes of benchmarks/sentence_vectors.py;
# .1 / .2 / .3 give a mean over both of .920 / .925 / .924; the other half .942 and .911). It
# costs the model one short text per article. Every held-out question: NYT R@1 +.003 and R@5
# +.004 against the plain mean, answer hit equal, SQuAD within .001 (benchmarks/README.md, "The
# context line taken off").
POOLED_CONTEXT_SHARE = 0.2


def embed_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def late_hash(chunk_hash: str, span: Span) -> str:
    """The key of a sentence vector pooled from a chunk's pass: it depends on the whole chunk
    text (its context), so an unchanged chunk reuses its sentences' vectors, nothing else does."""
    return embed_hash(f"late:{chunk_hash}:{span[0]}:{span[1]}")


@dataclass(frozen=True)
class SentenceText:
    """A sentence of a chunk: article offsets, the text the model reads for it on its own
    ("alone", "titled"), its characters in the chunk's embedded text ("late"), and its vector's
    key."""

    start: int
    end: int
    text: str
    digest: str
    span: Span


@dataclass(frozen=True)
class _Unit:
    """One text the model reads, and the keys of the vectors it gives: the text's own, then one
    per span of it (late chunking; none when sentences are embedded on their own)."""

    text: str
    spans: tuple[Span, ...]
    digests: tuple[str, ...]


@dataclass
class _Planned:
    article: Article
    chunks: list[Chunk]
    texts: list[str]  # what the model embeds, one per chunk
    hashes: list[str]
    is_new: bool
    sentences: list[list[SentenceText]] = field(default_factory=list)  # per chunk
    late: bool = True
    pooled: bool = False  # chunk vectors pooled from their sentences' (``pooled_vector``)
    contexts: list[str] = field(default_factory=list)  # per chunk: its context line, or ""

    def units(self) -> Iterator[_Unit]:
        """What the model reads for this article: each chunk with its sentences' spans (late),
        or every chunk (pooled: only those without sentences), then every sentence, each on its
        own."""
        for text, digest, sentences in zip(self.texts, self.hashes, self.sentences, strict=True):
            if self.late:
                spans = tuple(s.span for s in sentences)
                yield _Unit(text, spans, (digest, *(s.digest for s in sentences)))
            elif not (self.pooled and sentences):
                yield _Unit(text, (), (digest,))
        if not self.late:
            for chunk_sentences in self.sentences:
                for sentence in chunk_sentences:
                    yield _Unit(sentence.text, (), (sentence.digest,))
        for context in self.context_lines():
            yield _Unit(context, (), (embed_hash(context),))

    def context_lines(self) -> list[str]:
        """The context lines a pooled chunk's vector needs (``POOLED_CONTEXT_SHARE``)."""
        if not self.pooled:
            return []
        lines = zip(self.contexts, self.sentences, strict=True)
        return sorted({context for context, sentences in lines if context and sentences})

    def digests(self) -> Iterator[str]:
        """The keys of every vector this article needs (a pooled chunk's too: it is reused)."""
        for unit in self.units():
            yield from unit.digests
        if self.pooled:
            yield from self.hashes

    def pool(self, stored: dict[str, bytes]) -> int:
        """Make the vectors of pooled chunks that ``stored`` lacks from their sentences' (which
        it holds by now); return how many were made."""
        made = 0
        rows = zip(self.hashes, self.sentences, self.contexts, strict=True)
        for digest, sentences, context in rows:
            if self.pooled and sentences and digest not in stored:
                vectors = [_vector(stored[s.digest]) for s in sentences]
                line = _vector(stored[embed_hash(context)]) if context else None
                stored[digest] = pooled_vector(vectors, [s.end - s.start for s in sentences], line)
                made += 1
        return made


def pooled_vector(
    vectors: list[np.ndarray], lengths: list[int], context: np.ndarray | None = None
) -> bytes:
    """A chunk's vector from its sentences': their mean weighted by length (characters),
    L2-normalised, less ``POOLED_CONTEXT_SHARE`` of its context line's vector, L2-normalised
    again, as float32 bytes. Weighting by length came closer to the chunk's own vector than the
    plain mean (SQuAD dev, odd half, 1,000 questions: R@1 after the reader .891 and .889 against
    .893 for the chunk's own pass; answer hit .813 and .812 against .818)."""
    weights = np.asarray(lengths, dtype=np.float64)[:, None]
    mean = (np.vstack(vectors).astype(np.float64) * weights).sum(axis=0)
    mean /= max(float(np.linalg.norm(mean)), 1e-12)
    if context is not None:
        mean = mean - POOLED_CONTEXT_SHARE * np.asarray(context, dtype=np.float64)
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
    return mean.astype(np.float32).tobytes()


def _planned(article: Article, chunker: Chunker, is_new: bool, pooling: str) -> _Planned:
    chunks, texts, headings = _chunks(article, chunker)
    hashes = [embed_hash(text) for text in texts]
    sentences = []
    for chunk, text, heading, digest in zip(chunks, texts, headings, hashes, strict=True):
        prefix = len(text) - len(chunk.text)  # the model reads "title › heading\n" + chunk
        row = []
        for a, b in split_sentences(chunk.text):
            span = (prefix + a, prefix + b)
            if pooling == LATE:
                row.append(
                    SentenceText(
                        chunk.start + a, chunk.start + b, text[span[0] : span[1]],
                        late_hash(digest, span), span,
                    )
                )  # fmt: skip
                continue
            alone = chunk.text[a:b]
            if pooling in (TITLED, POOLED):
                alone = embedding_text(article.title, alone, heading)
            row.append(
                SentenceText(chunk.start + a, chunk.start + b, alone, embed_hash(alone), span)
            )
        sentences.append(row)
    contexts = [
        text[: len(text) - len(chunk.text)].rstrip("\n")
        for chunk, text in zip(chunks, texts, strict=True)
    ]
    return _Planned(
        article, chunks, texts, hashes, is_new, sentences, pooling == LATE, pooling == POOLED,
        contexts,
    )  # fmt: skip


@dataclass
class _Group:
    """Articles written in one transaction, and what the model reads for them first."""

    items: list[_Planned]
    units: dict[str, _Unit]  # by first key: what neither the store nor an earlier group holds
    chunk_units: int = 0  # how many of ``units`` are chunks (the rest are sentences alone)
    context_units: int = 0  # how many are pooled chunks' context lines

    def batch(self) -> Batch:
        units = list(self.units.values())
        texts = [unit.text for unit in units]
        if any(item.late for item in self.items):
            return Batch(texts, [list(unit.spans) for unit in units])
        return Batch(texts)

    def digests(self) -> list[str]:
        """The keys of the vectors ``batch()`` gives, in its row order."""
        return [digest for unit in self.units.values() for digest in unit.digests]


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
        sentence_vectors: str = DEFAULT_SENTENCE_VECTORS,
    ) -> None:
        if sentence_vectors not in SENTENCE_VECTORS:
            raise ValueError(
                f"sentence_vectors must be one of {', '.join(SENTENCE_VECTORS)}. Currently, "
                f"sentence_vectors is {sentence_vectors!r}"
            )
        self.sentence_vectors = sentence_vectors
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
            planned.append(_planned(article, self.chunker, False, self.sentence_vectors))
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
                plan.planned.append(
                    _planned(article, self.chunker, article.id not in known, self.sentence_vectors)
                )
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
            [digest for item in planned for digest in item.digests()]
        )
        groups = _groups(planned, stored)
        batches = [group.batch() for group in groups]
        to_embed = sum(batch.rows for batch in batches)
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
        vectors = self.embed_groups((batch for batch in batches if batch.texts), advance)
        try:
            for group, batch in zip(groups, batches, strict=True):
                if batch.texts:
                    fresh = next(vectors)
                    for digest, vector in zip(group.digests(), fresh, strict=True):
                        stored[digest] = vector.tobytes()
                made = group.chunk_units + sum(item.pool(stored) for item in group.items)
                self._commit(group.items, stored)
                for item in group.items:
                    (added if item.is_new else updated).append(item.article.id)
                    tokens += sum(chunk.tokens for chunk in item.chunks)
                embedded += made
                reused += sum(len(item.chunks) for item in group.items) - made
                fresh_sentences = batch.rows - group.chunk_units - group.context_units
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
    """Group articles so each group has about BATCH_CHUNKS texts that need embedding.

    All groups are decided before any is embedded (Ray embeds them all at once); a vector that an
    earlier group makes counts as stored for the later ones, as when groups are embedded in turn.
    """
    groups: list[_Group] = []
    earlier: set[str] = set()  # keys of the vectors that earlier groups make
    batch: list[_Planned] = []
    pending = 0
    for item in planned:
        batch.append(item)
        pending += sum(1 for unit in item.units() if _missing(unit, stored, earlier))
        if pending >= BATCH_CHUNKS:
            groups.append(_group(batch, stored, earlier))
            batch, pending = [], 0
    if batch:
        groups.append(_group(batch, stored, earlier))
    return groups


def _missing(unit: _Unit, stored: Container[str], earlier: set[str]) -> bool:
    """Whether the model must read ``unit``: some vector it gives is neither stored nor made by
    an earlier group (a late-chunked chunk is read again whole for a missing sentence)."""
    return any(digest not in stored and digest not in earlier for digest in unit.digests)


def _group(items: list[_Planned], stored: Container[str], earlier: set[str]) -> _Group:
    units: dict[str, _Unit] = {}
    chunk_units = context_units = 0
    for item in items:
        contexts = {embed_hash(context) for context in item.context_lines()}
        for unit in item.units():
            key = unit.digests[0]
            if key not in units and _missing(unit, stored, earlier):
                units[key] = unit
                chunk_units += key in item.hashes  # a sentence alone as a chunk counts once
                context_units += key in contexts and key not in item.hashes
    earlier.update(digest for unit in units.values() for digest in unit.digests)
    return _Group(items, units, chunk_units, context_units)
