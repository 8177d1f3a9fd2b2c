"""The two sides of a store, as the rest of article-qa uses them (docs/scaling-out.md).

- ``Catalog``: articles and their chunks, what incremental ingest compares and writes, and
  what ``qa list`` / ``qa stats`` read.
- ``SearchIndex``: what retrieval reads: dense and keyword candidates with filters applied
  inside the search, stored vectors for exact cosines, and the rows a citation needs.

Two implementations: the embedded default (SQLite + FAISS in the index folder;
``qa.stores.embedded.sqlite.Store`` and ``qa.stores.embedded.search.EmbeddedSearch``) and Milvus
(``qa.stores.milvus.store.MilvusStore``, both sides in one object). Score fusion stays in
``qa.pipeline.retrieval``, so both rank the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from qa.types import Article, ArticleInfo, Chunk, Filters


@dataclass(frozen=True)
class NewSentence:
    """A sentence of a chunk to write: its article offsets, embedded text's hash and vector."""

    start: int
    end: int
    embed_hash: str
    vector: npt.NDArray[np.float32]


@dataclass(frozen=True)
class NewChunk:
    """A chunk to write, with its vector, the hash of the text that was embedded, and the
    vectors of its sentences (sentence evidence, issue 15)."""

    chunk: Chunk
    embed_hash: str
    vector: npt.NDArray[np.float32]
    sentences: Sequence[NewSentence] = ()


@dataclass(frozen=True)
class SentenceRows:
    """Stored sentence vectors of some chunks: row ``n`` is the sentence
    ``article_text[starts[n]:ends[n]]`` of chunk ``chunk_ids[n]``."""

    chunk_ids: npt.NDArray[np.int64]
    starts: npt.NDArray[np.int64]
    ends: npt.NDArray[np.int64]
    vectors: npt.NDArray[np.float32]

    @staticmethod
    def empty(dimension: int) -> SentenceRows:
        none = np.zeros(0, dtype=np.int64)
        return SentenceRows(none, none, none, np.zeros((0, dimension), dtype=np.float32))


PassageRow = tuple[str, str, str | None, str | None, str, str, int, int]
"""(article id, title, url, date, source, text, start, end) of one chunk."""

Hits = list[tuple[int, float]]
"""(chunk id, score), best first."""


def now_iso() -> str:
    """The time now, as both stores record it (UTC, ISO 8601, whole seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Catalog(Protocol):
    """Articles and chunks: what ``Ingestor`` and ``Assistant`` read and write."""

    def transaction(self) -> AbstractContextManager[None]: ...
    def content_hashes(self) -> dict[str, str]: ...
    def ids_by_source(self, source: str) -> list[str]: ...
    def ids_under(self, folder: str) -> list[tuple[str, str]]: ...
    def has_article(self, article_id: str) -> bool: ...
    def has_chunks(self) -> bool: ...
    def vectors_by_embed_hash(self, hashes: Sequence[str]) -> dict[str, bytes]: ...
    def put_article(
        self, article: Article, chunks: Sequence[NewChunk]
    ) -> tuple[list[int], list[int]]: ...
    def delete_article(self, article_id: str) -> list[int]: ...
    def chunk_ids(self, article_id: str) -> list[int]: ...
    def chunk_rows(self, article_id: str) -> list[Chunk]: ...
    def list_articles(self) -> list[ArticleInfo]: ...
    def count_articles(self) -> int: ...
    def count_chunks(self) -> int: ...
    def count_tokens(self) -> int: ...
    def get_meta(self, key: str) -> str | None: ...


class SearchIndex(Protocol):
    """The searchable chunks: what ``Retriever`` reads."""

    def dense_search(
        self, vector: npt.NDArray[np.float32], k: int, filters: Filters | None
    ) -> Hits: ...
    def keyword_search_text(self, query: str, k: int, filters: Filters | None) -> Hits: ...
    def vectors(self, chunk_ids: Sequence[int]) -> npt.NDArray[np.float32]: ...
    def passage_rows(self, chunk_ids: Sequence[int]) -> dict[int, PassageRow]: ...


@runtime_checkable
class SentenceSearch(Protocol):
    """Stored sentence vectors by chunk (both stores keep them since format version 3)."""

    def sentence_rows(self, chunk_ids: Sequence[int]) -> SentenceRows: ...
    def sentence_vectors(
        self, chunk_ids: list[int]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]: ...
