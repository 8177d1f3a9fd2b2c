"""The store contract: small protocols, one per concern, that the rest of article-qa uses.

- ``Catalog``: articles and their chunks as records: what incremental ingest compares and writes,
  what removal deletes, and the exact article text (citations' pages).
- ``Listing``: what ``qa list`` and ``qa stats`` read.
- ``VectorSearch`` and ``KeywordSearch``: dense and keyword candidates with filters applied
  inside the search, and stored vectors for exact cosines. ``SearchIndex`` is both plus the rows
  a citation needs: what ``qa.pipeline.retrieval.Retriever`` reads.
- ``SentenceSearch``: each chunk's stored sentence vectors (sentence evidence).
- ``Maintenance``: what keeps a store in step with other processes and its own caches.
- ``Checking``: ``qa check`` and its repair.

``IndexStore`` is all of them, as one object; ``qa.stores.factory.open_store`` picks it from the
index's store URI. Built in: the embedded default (``qa.stores.embedded.store.EmbeddedStore``:
SQLite + FAISS in the index folder) and Milvus (``qa.stores.milvus.store.MilvusStore``); other
packages add stores through the ``article_qa.stores`` entry point group.
``qa.testing.store_contract`` holds the tests every store passes. Score fusion stays in
``qa.pipeline.retrieval``, so every store ranks the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from qa.types import Article, ArticleInfo, Chunk, Filters, PassageRow

if TYPE_CHECKING:
    from embeddings import VectorIndex
    from qa.config import IndexConfig


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


Hits = list[tuple[int, float]]
"""(chunk id, score), best first."""


Reindex = Callable[[list[Article]], int]
"""Re-chunk and re-embed articles into the store from their text; return the chunks written.
The facade passes one to ``repair`` (chunking and the model are the pipeline's, not the store's)."""

Recover = Callable[[str, str, frozenset[str]], "Article | None"]
"""Read an article again from its source: ``recover(article id, source, content hashes)`` gives
the article as its file or web address holds it now when its content hash is one of those, else
None. ``repair`` uses it for an article whose stored text fails its hash (reading is the
pipeline's: ``qa.pipeline.recover``)."""


@dataclass(frozen=True)
class CheckReport:
    """What ``check`` found (``problems``: each one line), and what ``repair`` did."""

    index_dir: str
    articles: int
    chunks: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


EXAMPLES = 3  # ids a check message quotes


def some_ids(ids: Sequence[Any]) -> str:
    """The first ``EXAMPLES`` of ``ids`` for a check message: "4, 9, 12, …"."""
    shown = ", ".join(str(i) for i in ids[:EXAMPLES])
    return shown + (", …" if len(ids) > EXAMPLES else "")


@dataclass(frozen=True)
class StoreStats:
    """The store's part of ``qa stats``."""

    store: str  # "embedded" or the Milvus URI
    vector_index: str | None  # None: nothing indexed yet
    keyword_index: str
    outside_bytes: int = 0  # bytes the store keeps outside the index folder


class Catalog(Protocol):
    """Articles and their chunks as records: what ``Ingestor`` compares and writes, and what
    ``Assistant.remove`` looks up and deletes."""

    def transaction(self) -> AbstractContextManager[None]:
        """Writes inside are kept whole or not at all (where the store has transactions; a store
        without them orders its writes so that the next ingest redoes an interrupted one)."""
        ...

    def put_article(
        self, article: Article, chunks: Sequence[NewChunk]
    ) -> tuple[list[int], list[int]]:
        """Insert or replace ``article`` with ``chunks``; return (removed ids, new chunk ids)."""
        ...

    def delete_article(self, article_id: str) -> list[int]:
        """Delete an article and its chunks; return the removed chunk ids."""
        ...

    def content_hashes(self) -> dict[str, str]: ...
    def vectors_by_embed_hash(self, hashes: Sequence[str]) -> dict[str, bytes]:
        """Stored vectors (float32 bytes) of texts embedded before, by the hash of the embedded
        text: reused instead of embedded again."""
        ...

    def has_article(self, article_id: str) -> bool: ...
    def ids_by_source(self, source: str) -> list[str]: ...
    def ids_under(self, folder: str) -> list[tuple[str, str]]:
        """(id, source) of the articles whose source file lies inside ``folder``."""
        ...

    def chunk_ids(self, article_id: str) -> list[int]: ...
    def chunk_rows(self, article_id: str) -> list[Chunk]: ...
    def article_text(self, article_id: str) -> str | None:
        """The article's text exactly as ingested (what chunk and citation offsets point into);
        None for an unknown article."""
        ...


class Listing(Protocol):
    """What the index holds, as ``qa list`` and ``qa stats`` read it."""

    def list_articles(self) -> list[ArticleInfo]: ...
    def titles(self) -> list[str]:
        """Every article's title, in no order, without reading any text: a misspelled name
        is looked up among them (qa.pipeline.spelling)."""
        ...

    def find_articles(self, key: str) -> list[ArticleInfo]:
        """The article whose id is ``key`` first, then those whose title is exactly ``key``
        (by id); [] when neither is in the index. Without listing every article: an excerpt, a
        link or a chat's cited title resolves its article this way on every request."""
        ...

    def has_chunks(self) -> bool: ...
    def count_articles(self) -> int: ...
    def count_chunks(self) -> int: ...
    def count_tokens(self) -> int: ...
    def get_meta(self, key: str) -> str | None:
        """A recorded value; ``"updated_at"`` (the time of the newest write) in every store."""
        ...


class VectorSearch(Protocol):
    """Dense candidates and the stored chunk vectors."""

    def dense_search(
        self, vector: npt.NDArray[np.float32], k: int, filters: Filters | None
    ) -> Hits:
        """(chunk id, cosine) of the ``k`` nearest chunks passing ``filters``, best first."""
        ...

    def vectors(self, chunk_ids: Sequence[int]) -> npt.NDArray[np.float32]: ...
    def cosines(
        self, query_vector: npt.NDArray[np.float32], chunk_ids: Sequence[int]
    ) -> dict[int, float]:
        """Exact cosine of each stored chunk of ``chunk_ids`` with ``query_vector`` (the
        keyword-only candidates of a hybrid search)."""
        ...


class KeywordSearch(Protocol):
    """Keyword candidates: BM25 over ``qa.lexical`` terms (``qa.stores.keywords``)."""

    def keyword_search_text(self, query: str, k: int, filters: Filters | None) -> Hits:
        """(chunk id, BM25) of the ``k`` best matches of ``query`` passing ``filters``, best
        first; [] when the query has only stop words."""
        ...


class SearchIndex(VectorSearch, KeywordSearch, Protocol):
    """The searchable chunks: what ``Retriever`` reads."""

    def passage_rows(self, chunk_ids: Sequence[int]) -> dict[int, PassageRow]: ...


def best_sentence_scores(
    query_vector: npt.NDArray[np.float32],
    sentence_vectors: npt.NDArray[np.float32],
    sentence_chunk_ids: npt.NDArray[np.int64],
) -> dict[int, float]:
    """Each chunk's best sentence cosine (max-sim over its sentences' vectors)."""
    if len(sentence_chunk_ids) == 0:
        return {}
    cosines = sentence_vectors @ query_vector
    # Best first within each chunk, then each chunk's first row (no Python loop over sentences).
    order = np.lexsort((-cosines, sentence_chunk_ids))
    owners, ranked = sentence_chunk_ids[order], cosines[order]
    first = np.ones(len(owners), dtype=bool)
    first[1:] = owners[1:] != owners[:-1]
    return dict(zip(owners[first].tolist(), ranked[first].tolist(), strict=True))


@runtime_checkable
class SentenceSearch(Protocol):
    """Stored sentence vectors by chunk (both stores keep them since format version 3)."""

    def sentence_rows(self, chunk_ids: Sequence[int]) -> SentenceRows: ...
    def sentence_vectors(
        self, chunk_ids: list[int]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]: ...
    def best_sentence_cosines(
        self, query_vector: npt.NDArray[np.float32], chunk_ids: list[int]
    ) -> dict[int, float]:
        """Each chunk's best sentence cosine with ``query_vector`` (chunks without stored
        sentences are absent): the max-sim the hybrid fusion adds."""
        ...


class Maintenance(Protocol):
    """What keeps a store in step with other processes and with its own caches."""

    def follow_writers(self) -> None:
        """Pick up what other processes wrote since this store was last read (call inside
        ``snapshot()``, or holding the write lock)."""

    def snapshot(self) -> AbstractContextManager[None]:
        """One state of the store for the reads inside (where the store has such a thing)."""

    def live_vectors(self) -> VectorIndex | None:
        """The in-memory vector index an ingest updates as it writes (``None``: the store
        indexes the vectors it is given, as Milvus does)."""

    def after_write(self, changed: bool, removed_ids: Sequence[int] = ()) -> None:
        """Make an ingest's or a removal's writes durable and searchable (``removed_ids``: the
        chunks a removal deleted; ``changed``: whether anything was written at all)."""

    def claim(self) -> None:
        """A new index is being created on this store: refuse one that holds another's chunks."""

    def recorded_config(self) -> IndexConfig | None:
        """The store's own copy of the index's config.json (None: it keeps none), from which
        ``repair`` rebuilds a lost or damaged one."""

    def stats(self) -> StoreStats: ...
    def close(self) -> None: ...


class Checking(Protocol):
    """``qa check``: what the store finds wrong, and its repair."""

    def check(self) -> CheckReport: ...
    def repair(self, reindex: Reindex, recover: Recover | None = None) -> CheckReport:
        """Mend what ``check`` found: ``reindex`` re-chunks and re-embeds articles whose rows
        were damaged; ``recover`` gives an article's text back from its source, when it can."""
        ...

    def rebuild_vectors(self) -> int:
        """Rebuild derived vector files from the stored vectors; return how many (a store that
        keeps none raises ``QAError``)."""
        ...


class IndexStore(Catalog, Listing, SearchIndex, SentenceSearch, Maintenance, Checking, Protocol):
    """One store object: what ``qa.stores.factory.open_store`` returns and ``Assistant`` uses."""
