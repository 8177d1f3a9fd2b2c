"""The Milvus store: Milvus Lite (a local file) or a Milvus server, the same code.

Every part of the store contract (``qa.stores.base``): the catalog that incremental ingest
compares and writes, and the search index: dense search, BM25 keyword search (Milvus's BM25
``Function``, over the text through Milvus's English analyzer where the engine has one, else over
terms we tokenise ourselves; see ``schema.KEYWORDS_ENV``), the ``Filters`` as Milvus expressions
pushed into both searches, vectors and passage rows by chunk id. Fusion stays client-side
(``qa.pipeline.retrieval.fuse``), so ranking is the embedded store's.

Where the store is: ``address``; its collections and rows: ``schema``; pymilvus and Milvus Lite:
``lite``; ``qa check``: ``check``.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qa.errors import IndexBusyError, IndexFormatError, QAError
from qa.layout import disk_bytes
from qa.lexical import terms
from qa.stores.base import (
    CheckReport,
    Hits,
    NewChunk,
    Recover,
    Reindex,
    SentenceRows,
    StoreStats,
    best_sentence_scores,
)
from qa.stores.milvus.address import (
    TOKEN_ENV,
    client_uri,
    is_local,
    server_database,
    split_store,
)
from qa.stores.milvus.check import check_milvus, repair_milvus
from qa.stores.milvus.lite import load_pymilvus, release, require_lite
from qa.stores.milvus.schema import (
    CHUNK_FIELDS,
    SEARCH_LIMIT,
    TEXT_PIECE_CHARS,
    Collections,
    chunk_id,
    filter_expression,
    hit_id,
    keyword_text,
    prefix_clause,
    quote,
    quoted_list,
    sentence_id,
    text_piece_id,
)
from qa.types import Article, ArticleInfo, Chunk, Filters, PassageRow, now_iso

CHUNKS_PER_SENTENCE_SEARCH = 1_000


class MilvusStore(Collections):
    """``MilvusStore("milvus:///path/index.db", dimension=384)``: catalog and search on Milvus."""

    def __init__(
        self,
        store: str,
        dimension: int,
        token: str | None = None,
        *,
        index_dir: Path | None = None,
    ) -> None:
        pymilvus = load_pymilvus()
        _, name = split_store(store)
        uri = client_uri(store)
        if is_local(store):
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
            require_lite(store)
        uri, database = server_database(uri)
        # pymilvus shares one connection per server URI in a process, and closing any client
        # closes it for all: a store of its own keeps working when another store closes.
        own = {} if is_local(store) else {"alias": f"article-qa-{uuid.uuid4().hex}"}
        try:
            client = pymilvus.MilvusClient(
                uri=uri, token=token or os.environ.get(TOKEN_ENV, ""), db_name=database, **own
            )
        except Exception as error:
            raise _open_error(store, error) from error
        super().__init__(client, store, name, dimension, index_dir)
        self.ensure(pymilvus)

    def close(self) -> None:
        self.client.close()
        if is_local(self.uri):
            release(client_uri(self.uri))

    # -- maintenance (qa.stores.base.Maintenance) -----------------------------------------------

    def follow_writers(self) -> None:
        """Nothing to do: searches always see what was written."""

    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()  # searches always see what was written

    def live_vectors(self) -> None:
        return None  # Milvus indexes the vectors it is given

    def after_write(self, changed: bool, removed_ids: Sequence[int] = ()) -> None:
        self.flush()

    def claim(self) -> None:
        if self.has_chunks():
            raise IndexFormatError(
                f"The Milvus store {self.uri} already holds another index's chunks. "
                "Open that index's folder, or give this index its own collections with "
                "#name after the store (e.g. --store http://host:19530#news)."
            )

    def check(self) -> CheckReport:
        return check_milvus(self)

    def recorded_config(self) -> None:
        return None  # the index folder's config.json is the only copy

    def repair(self, reindex: Reindex, recover: Recover | None = None) -> CheckReport:
        """Needs no model: what an interrupted write leaves is deleted or marked changed."""
        return repair_milvus(self)

    def rebuild_vectors(self) -> int:
        raise QAError(
            f"Rebuilding the vector file works on the embedded store (SQLite + FAISS); the index "
            f"in {self.index_dir} keeps its chunks and vectors in Milvus ({self.uri})."
        )

    def stats(self) -> StoreStats:
        outside = 0
        if is_local(self.uri):
            lite = Path(client_uri(self.uri))
            if self.index_dir is None or not lite.is_relative_to(self.index_dir.resolve()):
                outside = disk_bytes(lite)  # else counted with the folder
        return StoreStats(
            store=self.uri,
            vector_index="milvus flat-ip",
            keyword_index="milvus bm25",
            outside_bytes=outside,
        )

    # -- writes ---------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Milvus has no transactions; ``put_article`` orders its writes so a crash between
        them is redone by the next ingest (see there)."""
        yield

    def put_article(
        self, article: Article, chunks: Sequence[NewChunk]
    ) -> tuple[list[int], list[int]]:
        """Insert or replace ``article`` with ``chunks``; return (removed ids, new chunk ids).

        No transactions in Milvus: the new chunks and their sentences go in first (deterministic
        ids: upserts), then the old version's chunks (and any past the new last one) and their
        sentences are deleted, then the article's text, then the article row records the new
        content hash. A crash in
        between leaves the old hash, so the next ingest redoes it all; a retried write replaces
        rows instead of duplicating them.
        """
        before = self.chunk_ids(article.id)
        ids = [chunk_id(article.id, article.content_hash, item.chunk.seq) for item in chunks]
        rows = [
            {
                "chunk_id": cid,
                "article_id": article.id,
                "title": article.title,
                "title_key": article.title.lower(),
                "url": article.url or "",
                "date": article.date or "",
                "date_key": (article.date or "")[:10],
                "source": article.source,
                "seq": item.chunk.seq,
                "start": item.chunk.start,
                "end": item.chunk.end,
                "tokens": item.chunk.tokens,
                "text": item.chunk.text,
                "embed_hash": item.embed_hash,
                "content_hash": article.content_hash,
                self.keyword_field: keyword_text(article.title, item.chunk.text, self.analysis),
                "dense": np.asarray(item.vector, dtype=np.float32).tolist(),
            }
            for cid, item in zip(ids, chunks, strict=True)
        ]
        if rows:
            self.client.upsert(self.chunks, rows)
        sentences = [
            {
                "sentence_id": sentence_id(cid, sentence.start, sentence.end),
                "chunk_id": cid,
                "article_id": article.id,
                "start": sentence.start,
                "end": sentence.end,
                "embed_hash": sentence.embed_hash,
                "dense": np.asarray(sentence.vector, dtype=np.float32).tolist(),
            }
            for cid, item in zip(ids, chunks, strict=True)
            for sentence in item.sentences
        ]
        for begin in range(0, len(sentences), 1000):
            self.client.upsert(self.sentences, sentences[begin : begin + 1000])
        removed = sorted(set(before) - set(ids))
        if removed:
            self.client.delete(self.chunks, ids=removed)
            self.delete_sentences_of(removed)
        self._put_text(article)
        self.client.upsert(
            self.articles,
            [
                {
                    "article_id": article.id,
                    "title": article.title,
                    "source": article.source,
                    "url": article.url or "",
                    "date": article.date or "",
                    "author": article.author or "",
                    "content_hash": article.content_hash,
                    "updated_at": now_iso(),
                    "chunks": len(rows),
                    "chars": len(article.text),
                    "tokens": sum(item.chunk.tokens for item in chunks),
                    "unused": [0.0, 0.0],
                }
            ],
        )
        return removed, ids

    def _put_text(self, article: Article) -> None:
        """The article's text in pieces (upserts), and no piece past its new last one."""
        text = article.text
        pieces = [
            {
                "piece_id": text_piece_id(article.id, seq),
                "article_id": article.id,
                "seq": seq,
                "text": text[begin : begin + TEXT_PIECE_CHARS],
                "unused": [0.0, 0.0],
            }
            for seq, begin in enumerate(range(0, max(len(text), 1), TEXT_PIECE_CHARS))
        ]
        self.client.upsert(self.texts, pieces)
        self.client.delete(
            self.texts, filter=f"article_id == {quote(article.id)} and seq >= {len(pieces)}"
        )

    def delete_article(self, article_id: str) -> list[int]:
        """Delete an article and its chunks (the article row last: see ``put_article``);
        return the removed chunk ids."""
        removed = self.chunk_ids(article_id)
        if removed:
            self.client.delete(self.chunks, ids=removed)
        self.client.delete(self.sentences, filter=f"article_id == {quote(article_id)}")
        self.client.delete(self.texts, filter=f"article_id == {quote(article_id)}")
        self.client.delete(self.articles, ids=[article_id])
        return removed

    # -- catalog reads --------------------------------------------------------------------------

    def content_hashes(self) -> dict[str, str]:
        rows = self.scan(self.articles, ["article_id", "content_hash"])
        return {str(row["article_id"]): str(row["content_hash"]) for row in rows}

    def ids_by_source(self, source: str) -> list[str]:
        rows = self.scan(self.articles, ["article_id"], f"source == {quote(source)}")
        return [str(row["article_id"]) for row in rows]

    def ids_under(self, folder: str) -> list[tuple[str, str]]:
        """(id, source) of articles whose source file lies inside ``folder``."""
        prefix = folder.rstrip("/") + "/"
        rows = self.scan(self.articles, ["article_id", "source"], prefix_clause(prefix))
        return [(str(row["article_id"]), str(row["source"])) for row in rows]

    def has_article(self, article_id: str) -> bool:
        return bool(self.client.get(self.articles, ids=[article_id], output_fields=["chunks"]))

    def has_chunks(self) -> bool:
        return bool(self.client.query(self.chunks, filter="", limit=1, output_fields=["seq"]))

    def vectors_by_embed_hash(self, hashes: Sequence[str]) -> dict[str, bytes]:
        """Stored vectors for texts embedded before (any article): reused instead of re-embedded."""
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(hashes))
        for begin in range(0, len(unique), 200):
            part = unique[begin : begin + 200]
            rows = self.scan(
                self.chunks, ["embed_hash", "dense"], f"embed_hash in {quoted_list(part)}"
            )
            for row in rows:
                found[str(row["embed_hash"])] = np.asarray(row["dense"], np.float32).tobytes()
            missing = [digest for digest in part if digest not in found]
            if missing:  # sentences' texts (a chunk's text is looked up first)
                rows = self.scan(
                    self.sentences,
                    ["embed_hash", "dense"],
                    f"embed_hash in {quoted_list(missing)}",
                )
                for row in rows:
                    found[str(row["embed_hash"])] = np.asarray(row["dense"], np.float32).tobytes()
        return found

    def chunk_ids(self, article_id: str) -> list[int]:
        rows = self.scan(self.chunks, ["chunk_id", "seq"], f"article_id == {quote(article_id)}")
        return [int(row["chunk_id"]) for row in sorted(rows, key=lambda row: row["seq"])]

    def chunk_rows(self, article_id: str) -> list[Chunk]:
        rows = self.scan(
            self.chunks,
            ["seq", "start", "end", "text", "tokens"],
            f"article_id == {quote(article_id)}",
        )
        return [
            Chunk(article_id, int(r["seq"]), int(r["start"]), int(r["end"]), r["text"], r["tokens"])
            for r in sorted(rows, key=lambda row: row["seq"])
        ]

    def list_articles(self) -> list[ArticleInfo]:
        found = [_article_info(row) for row in self.scan(self.articles, ARTICLE_FIELDS)]
        return sorted(found, key=lambda info: (info.title, info.id))

    def titles(self) -> list[str]:
        return [row["title"] for row in self.scan(self.articles, ["title"])]

    def find_articles(self, key: str) -> list[ArticleInfo]:
        expression = f"article_id == {quote(key)} or title == {quote(key)}"
        found = [_article_info(row) for row in self.scan(self.articles, ARTICLE_FIELDS, expression)]
        return sorted(found, key=lambda info: (info.id != key, info.id))

    def count_tokens(self) -> int:
        return sum(int(row["tokens"]) for row in self.scan(self.articles, ["tokens"]))

    def get_meta(self, key: str) -> str | None:
        """Only "updated_at" (the newest article write) exists here."""
        if key != "updated_at":
            return None
        times = [str(row["updated_at"]) for row in self.scan(self.articles, ["updated_at"])]
        return max(times, default=None)

    def article_text(self, article_id: str) -> str | None:
        """The article's text from its pieces. An article written before the store kept texts
        (or whose pieces disagree with its row, after an interrupted write) gets its text
        rebuilt from its chunks: exact where neighbouring chunks overlap or touch."""
        rows = self.client.get(self.articles, ids=[article_id], output_fields=["chars"])
        if not rows:
            return None
        pieces = self.scan(self.texts, ["seq", "text"], f"article_id == {quote(article_id)}")
        text = "".join(str(row["text"]) for row in sorted(pieces, key=lambda row: row["seq"]))
        if len(text) == int(rows[0]["chars"]):
            return text
        return _text_from_chunks(self.chunk_rows(article_id))

    # -- search ---------------------------------------------------------------------------------

    def cosines(
        self, query_vector: npt.NDArray[np.float32], chunk_ids: Sequence[int]
    ) -> dict[int, float]:
        """Exact cosines by a search restricted to ``chunk_ids`` (FLAT: every one of them is
        scored), so no vector leaves the engine: 3.4 ms against 7.5 ms for reading ~85 vectors
        out with ``vectors`` (Lite 2.5.1, NYT dev, 50 questions)."""
        unique = list(dict.fromkeys(int(i) for i in chunk_ids))
        found: dict[int, float] = {}
        for begin in range(0, len(unique), SEARCH_LIMIT):
            part = unique[begin : begin + SEARCH_LIMIT]
            found.update(self._dense_hits(query_vector, len(part), f"chunk_id in {part}"))
        return found

    def vectors(self, chunk_ids: Sequence[int]) -> npt.NDArray[np.float32]:
        """Stored vectors of ``chunk_ids``, in that order (for the exact cosine of keyword-only
        hits). Ids not in the store are a ``KeyError``."""
        if not chunk_ids:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows = self.client.get(
            self.chunks, ids=[int(i) for i in chunk_ids], output_fields=["dense"]
        )
        found = {int(row["chunk_id"]): row["dense"] for row in rows}
        return np.asarray([found[int(i)] for i in chunk_ids], dtype=np.float32)

    def sentence_rows(self, chunk_ids: Sequence[int]) -> SentenceRows:
        """The stored sentences of ``chunk_ids``, in chunk then text order."""
        unique = list(dict.fromkeys(int(i) for i in chunk_ids))
        if not unique:
            return SentenceRows.empty(self.dimension)
        rows = self.client.query(
            self.sentences,
            filter=f"chunk_id in {unique}",
            output_fields=["chunk_id", "start", "end", "dense"],
            limit=16_384,  # Milvus's largest query window; ~100 candidates have ~1,000 sentences
        )
        # Read every row out before sorting: pymilvus materialises vector fields by position.
        found = [
            (int(row["chunk_id"]), int(row["start"]), int(row["end"]), list(row["dense"]))
            for row in rows
        ]
        if not found:
            return SentenceRows.empty(self.dimension)
        order = {chunk: n for n, chunk in enumerate(unique)}
        found.sort(key=lambda row: (order[row[0]], row[1]))
        return SentenceRows(
            np.asarray([row[0] for row in found], dtype=np.int64),
            np.asarray([row[1] for row in found], dtype=np.int64),
            np.asarray([row[2] for row in found], dtype=np.int64),
            np.asarray([row[3] for row in found], dtype=np.float32),
        )

    def sentence_vectors(
        self, chunk_ids: list[int]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Every stored sentence vector of ``chunk_ids`` and its chunk id (``SentenceSearch``)."""
        rows = self.sentence_rows(chunk_ids)
        return rows.vectors, rows.chunk_ids

    def best_sentence_cosines(
        self, query_vector: npt.NDArray[np.float32], chunk_ids: list[int]
    ) -> dict[int, float]:
        """Each chunk's best sentence cosine, from one search over the sentence rows restricted
        to ``chunk_ids`` (exact on the FLAT index; hits come best first, so a chunk's first hit
        is its best sentence): the vectors stay on the engine. Per hybrid search (85 candidates,
        Lite 2.5.1): reading their sentence vectors out took 68 ms at 6k sentences (NYT dev),
        this 5.3-5.9 ms at 10k and 8.6-9.4 at 100k, where a grouping search by chunk took 24.6
        (`benchmarks/milvus_parity.py --scale`; docs/scaling-out.md section 7)."""
        unique = list(dict.fromkeys(int(i) for i in chunk_ids))
        best: dict[int, float] = {}
        for begin in range(0, len(unique), CHUNKS_PER_SENTENCE_SEARCH):
            part = unique[begin : begin + CHUNKS_PER_SENTENCE_SEARCH]
            hits = self.client.search(
                self.sentences,
                data=[np.asarray(query_vector, dtype=np.float32).tolist()],
                anns_field="dense",
                limit=SEARCH_LIMIT,
                filter=f"chunk_id in {part}",
                output_fields=["chunk_id"],
                search_params={"metric_type": "IP"},
            )[0]
            for hit in hits:
                best.setdefault(int(hit["entity"]["chunk_id"]), float(hit["distance"]))
            missing = [i for i in part if i not in best]
            if len(hits) == SEARCH_LIMIT and missing:  # a full window may end before them
                best.update(best_sentence_scores(query_vector, *self.sentence_vectors(missing)))
        return best

    def passage_rows(self, chunk_ids: Sequence[int]) -> dict[int, PassageRow]:
        if not chunk_ids:
            return {}
        rows = self.client.get(
            self.chunks, ids=[int(i) for i in chunk_ids], output_fields=CHUNK_FIELDS
        )
        return {
            int(row["chunk_id"]): PassageRow(
                int(row["chunk_id"]),
                str(row["article_id"]),
                str(row["title"]),
                row["url"] or None,
                row["date"] or None,
                str(row["source"]),
                str(row["text"]),
                int(row["start"]),
                int(row["end"]),
            )
            for row in rows
        }

    def dense_search(
        self, vector: npt.NDArray[np.float32], k: int, filters: Filters | None = None
    ) -> Hits:
        """(chunk id, cosine) of the ``k`` nearest chunks passing ``filters``, best first."""
        return self._dense_hits(vector, k, filter_expression(filters))

    def _dense_hits(self, vector: npt.NDArray[np.float32], k: int, expression: str) -> Hits:
        hits = self.client.search(
            self.chunks,
            data=[np.asarray(vector, dtype=np.float32).tolist()],
            anns_field="dense",
            limit=k,
            filter=expression,
            search_params={"metric_type": "IP"},
        )
        return [(hit_id(hit), float(hit["distance"])) for hit in hits[0]]

    def keyword_search_text(self, query: str, k: int, filters: Filters | None = None) -> Hits:
        """(chunk id, BM25) of the ``k`` best keyword matches passing ``filters``, best first."""
        words = " ".join(dict.fromkeys(terms(query)))
        if not words:  # stop words only: nothing to match, on either analysis
            return []
        if self.analysis == "english":
            # Milvus analyses the query as it did the text; each word once, as our terms are.
            words = " ".join(dict.fromkeys(re.findall(r"\w+", query.lower())))
        hits = self.client.search(
            self.chunks,
            data=[words],
            anns_field="sparse",
            limit=k,
            filter=filter_expression(filters),
            search_params={"metric_type": "BM25"},
        )
        # Milvus Lite 3.2 reports BM25 as a negative distance, the C++ engine (a server, Lite
        # 2.5) as a positive score; BM25 itself is never negative.
        found = [(hit_id(hit), abs(float(hit["distance"]))) for hit in hits[0]]
        return sorted(found, key=lambda hit: (-hit[1], hit[0]))


def _text_from_chunks(chunks: list[Chunk]) -> str:
    """An article's text as far as its chunks cover it (gaps between chunks as spaces, so the
    offsets still line up)."""
    text = ""
    for chunk in sorted(chunks, key=lambda chunk: chunk.start):
        if chunk.start >= len(text):
            text += " " * (chunk.start - len(text)) + chunk.text
        elif chunk.end > len(text):
            text += chunk.text[len(text) - chunk.start :]
    return text


def _open_error(store: str, error: Exception) -> QAError:
    if is_local(store) and "Open local milvus failed" in str(error):
        return IndexBusyError(
            f"The Milvus Lite file {client_uri(store)} is open in another process "
            "(Milvus Lite allows one process per file: e.g. `qa serve` and `qa ingest` cannot "
            "share it). Stop the other process, or serve the file from one process for all "
            "(Milvus Lite's gRPC server, qa.stores.milvus.lite.lite_server, or a Milvus server: "
            "docs/scaling-out.md) and use --store http://127.0.0.1:19530 in a new index folder."
        )
    return IndexFormatError(f"Cannot open the Milvus store {store}: {error}")


ARTICLE_FIELDS = [
    "article_id",
    "title",
    "source",
    "url",
    "date",
    "author",
    "chars",
    "chunks",
    "content_hash",
    "updated_at",
]


def _article_info(row: dict[str, Any]) -> ArticleInfo:
    return ArticleInfo(
        str(row["article_id"]),
        str(row["title"]),
        str(row["source"]),
        row["url"] or None,
        row["date"] or None,
        row["author"] or None,
        int(row["chars"]),
        int(row["chunks"]),
        str(row["content_hash"]),
        str(row["updated_at"]),
    )
