"""The Milvus store: Milvus Lite (a local file) or a Milvus server, the same code.

Both sides of a store (``qa.stores.base``): the catalog that incremental ingest compares and
writes, and the search index: dense search, BM25 keyword search (Milvus's BM25 ``Function``,
over the text through Milvus's English analyzer where the engine has one, else over terms we
tokenise ourselves; see ``KEYWORDS_ENV``), the ``Filters`` as Milvus expressions pushed into
both searches, vectors and passage rows by chunk id. Fusion
stays client-side (``qa.pipeline.retrieval.fuse``), so ranking is the embedded store's.

Three collections, ``{name}_chunks`` (one row per chunk, with its article's metadata, so every
filter is one expression), ``{name}_sentences`` (one row per sentence of a chunk: its vector and
article offsets, read by chunk id for sentence evidence) and ``{name}_articles`` (one row per
article: the content hash that incremental ingest compares, and the commit marker of a write;
see ``put_article``).

Needs ``pip install 'article-qa[milvus]'`` (pymilvus, and milvus-lite for a local file), not in
the core install; pymilvus is imported on first use, so importing this module never fails. Runs on
both Milvus Lite lines: 2.5 (the C++ Milvus engine, embedded) and 3.x (a pure-Python
reimplementation); docs/scaling-out.md compares them.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import warnings
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
    PassageRow,
    Reindex,
    SentenceRows,
    StoreStats,
    best_sentence_scores,
)
from qa.stores.keywords import K1, TITLE_WEIGHT, B
from qa.stores.milvus.check import check_milvus, repair_milvus
from qa.types import Article, ArticleInfo, Chunk, Filters, now_iso

LOCAL_SCHEME = "milvus://"
TOKEN_ENV = "QA_MILVUS_TOKEN"  # a Milvus server's "user:password" or API key; never in config
LOCAL_FILE = "milvus.db"  # where `--store milvus` puts a Milvus Lite file: in the index folder
DEFAULT_NAME = "qa"  # collections qa_chunks and qa_articles, unless the store names others
TEXT_BYTES = 65_535  # Milvus's largest VARCHAR
# Which keyword analysis a new collection gets ("english" or "terms"); an existing collection
# keeps the one it was built with (its field says which).
#  - "english" (default): the chunk text itself, through Milvus's English analyzer (standard
#    tokenizer, lower case, Snowball stemmer, English stop words): Milvus's own BM25, as other
#    Milvus clients sending raw text see it. The C++ engine (a Milvus server, Milvus Lite 2.5) has
#    it; Milvus Lite 3.x refuses it, and then "terms" is used.
#  - "terms": our own terms (qa.lexical.terms: the embedded store's stemmer and stop
#    words), which Milvus only splits on spaces: the embedded store's tokens on every engine.
# With the three-way fusion (chunk, sentence, keyword), only "english" keeps hybrid R@1, R@5,
# R@10 and MRR@10 within .01 of the embedded store on both dev files (largest gap: R@1 -.010 on
# SQuAD dev, -.009 on NYT; "terms": R@1 -.012 on SQuAD dev, .000 on NYT), and its keyword-only
# R@1 is the closer too (-.002 / -.001 against -.008 / -.006). `python
# benchmarks/milvus_parity.py`, 1,000 questions per file, Milvus Lite 2.5.1; docs/scaling-out.md
# section 7. (With the former two-way fusion "terms" was the closer, and was the default.)
KEYWORDS_ENV = "QA_MILVUS_KEYWORDS"
DEFAULT_KEYWORDS = "english"
KEYWORD_FIELDS = {"english": "keyword_text", "terms": "keyword_terms"}
ANALYZERS: dict[str, dict[str, Any]] = {
    "english": {"type": "english"},
    # The standard analyzer drops a default English stop list unless a stop filter is given;
    # we remove stop words ourselves (qa.lexical), so give it one word no term can be (our
    # words never contain "_").
    "terms": {"tokenizer": "standard", "filter": [{"type": "stop", "stop_words": ["_"]}]},
}
TEXT_REPEAT = round(1 / TITLE_WEIGHT)  # 2: the title weighs half; see keyword_text
# Milvus's largest search limit (topk); a sentence search asks about this many chunks at once,
# whose sentences (~5 each in the dev files) fit in one window.
SEARCH_LIMIT = 16_384
CHUNKS_PER_SENTENCE_SEARCH = 1_000
CHUNK_FIELDS = ["article_id", "title", "url", "date", "source", "text", "start", "end"]


class MilvusUnavailableError(QAError):
    """pymilvus (and milvus-lite for a local file) is not installed."""


def _quiet_lite(record: logging.LogRecord) -> bool:
    # Milvus Lite has no server timestamps: pymilvus warns on every query iterator, and Lite's
    # in-process gRPC server logs the unimplemented call's traceback. Both are harmless.
    message = record.getMessage()
    if "mvccTs" in message or "Failed to start MilvusLite server" in message:  # we say why
        return False
    error = record.exc_info[1] if record.exc_info else None
    return not (isinstance(error, NotImplementedError) and "not implemented" in str(error))


def _pymilvus() -> Any:
    try:
        module = importlib.import_module("pymilvus")
        iterators = ("client.iterator.query_iterator", "client.iterator.search_iterator")  # 3.x
        for name in (*iterators, "orm.iterator"):  # pymilvus 2.5: orm.iterator
            logging.getLogger(f"pymilvus.{name}").addFilter(_quiet_lite)
        for name in ("grpc._server", "milvus_lite.server_manager"):
            logging.getLogger(name).addFilter(_quiet_lite)
        return module
    except ImportError as error:
        raise MilvusUnavailableError(
            "The Milvus store needs the milvus extra (pymilvus, and milvus-lite for a local "
            "file): pip install 'article-qa[milvus]'"
        ) from error


def normalize_store(store: str | None, index_dir: Path) -> str | None:
    """A ``--store`` value as recorded in config.json (None: the embedded store).

    "embedded" -> None; "milvus" -> a Milvus Lite file in the index folder; a relative
    ``milvus://path.db`` -> absolute, so the index works from any directory. A ``#name``
    suffix (see ``split_store``) is kept, except the default one.
    """
    if store in (None, "", "embedded"):
        return None
    assert store is not None
    uri, name = split_store(store)
    suffix = "" if name == DEFAULT_NAME else f"#{name}"
    if uri == "milvus":
        return LOCAL_SCHEME + str(index_dir.resolve() / LOCAL_FILE) + suffix
    if uri.startswith(LOCAL_SCHEME):
        path = Path(uri[len(LOCAL_SCHEME) :]).expanduser()
        client_uri(uri)  # checks the form
        return LOCAL_SCHEME + str(path.resolve()) + suffix
    client_uri(uri)
    return uri.rstrip("/") + suffix


def split_store(store: str) -> tuple[str, str]:
    """``(uri, name)`` of a store value: ``http://host:19530#news`` keeps its chunks in the
    collections ``news_chunks`` and ``news_articles``, so several indexes can share one Milvus;
    without ``#name`` they are ``qa_chunks`` and ``qa_articles``."""
    uri, _, name = store.partition("#")
    if name and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,39}", name):
        raise IndexFormatError(
            f"{name!r} cannot name Milvus collections: use letters, digits and _ after a letter, "
            "e.g. --store http://host:19530#news"
        )
    return uri, name or DEFAULT_NAME


def client_uri(store: str) -> str:
    """What ``MilvusClient`` takes for a ``--store`` value.

    ``milvus:///abs/path.db`` -> ``/abs/path.db`` (Milvus Lite); ``http(s)://host:19530`` as is.
    """
    store, _ = split_store(store)
    if store.startswith(LOCAL_SCHEME):
        path = store[len(LOCAL_SCHEME) :]
        if not path.endswith(".db"):
            raise IndexFormatError(
                f"A Milvus Lite store is a file ending in .db, not {path!r}: use e.g. "
                "--store milvus:///data/articles.db (or --store milvus for one in the index folder)"
            )
        return path
    if store.startswith(("http://", "https://")):
        return store
    raise IndexFormatError(
        f"Unknown store {store!r}: use embedded (the default), milvus (a Milvus Lite file in the "
        "index folder), milvus:///path/to/file.db, or http://host:19530 for a Milvus server."
    )


def server_database(uri: str) -> tuple[str, str]:
    """``(server uri, database)`` of a ``client_uri``: ``http://host:19530/news`` is database
    ``news`` on that server ("" for a Lite file or no path: Milvus's "default"). Passed to
    ``MilvusClient`` as ``db_name`` because pymilvus 2.5 and 3 read a URI's path differently."""
    if not uri.startswith(("http://", "https://")):
        return uri, ""
    scheme, _, rest = uri.partition("://")
    address, _, path = rest.partition("/")
    database = path.strip("/")
    if database and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,254}", database):
        raise IndexFormatError(
            f"{database!r} cannot name a Milvus database: use letters, digits and _, e.g. "
            "--store http://host:19530/news"
        )
    return f"{scheme}://{address}", database


def chunk_id(article_id: str, content_hash: str, seq: int) -> int:
    """A chunk's primary key: the same every time the same chunk is written (63 bits, >= 0), so
    a retried write replaces rows instead of adding duplicates."""
    key = f"{article_id}\0{content_hash}\0{seq}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") >> 1


def sentence_id(chunk: int, start: int, end: int) -> int:
    """A sentence row's primary key, deterministic like ``chunk_id`` (retries replace rows)."""
    key = f"{chunk}\0{start}\0{end}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") >> 1


def keyword_text(title: str, text: str, analysis: str = "terms") -> str:
    """The analysed field: our own terms (stemmed, no stop words) for ``"terms"``, the text
    itself for Milvus's ``"english"`` analyzer.

    The text goes in ``TEXT_REPEAT`` times and the title once, with BM25's k1 scaled by the
    same factor: the scores are then proportional to BM25 over ``tf_text + tf_title / 2`` with
    our k1, i.e. the title weighs half as in FTS5 (length normalisation aside). On SQuAD dev
    this moved hybrid R@1 from .756 to .766, the embedded store's (docs/scaling-out.md).
    """
    if analysis == "english":
        return "\n".join([title, *[text] * TEXT_REPEAT])
    return " ".join(terms(title) + terms(text) * TEXT_REPEAT)


def keyword_choice() -> str:
    """The keyword analysis for a new collection: ``QA_MILVUS_KEYWORDS`` or the default."""
    choice = os.environ.get(KEYWORDS_ENV, "").strip().lower() or DEFAULT_KEYWORDS
    if choice not in KEYWORD_FIELDS:
        raise QAError(
            f"{KEYWORDS_ENV}={choice!r}: use english (Milvus's English analyzer) or terms "
            "(the embedded store's own terms)"
        )
    return choice


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _quoted_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_quote(value) for value in values) + "]"


def filter_expression(filters: Filters | None) -> str:
    """``filters`` as a Milvus boolean expression over chunk fields ("" for no filter)."""
    if filters is None or filters.empty:
        return ""
    clauses: list[str] = []
    either: list[str] = []
    if filters.article_ids:
        either.append(f"article_id in {_quoted_list(filters.article_ids)}")
    if filters.titles:
        either.append(f"title_key in {_quoted_list([t.lower() for t in filters.titles])}")
    if either:
        clauses.append("(" + " or ".join(either) + ")")
    if filters.source_prefix:
        clauses.append(_prefix_clause(filters.source_prefix))
    if filters.date_from:
        clauses.append(f'(date_key != "" and date_key >= {_quote(filters.date_from[:10])})')
    if filters.date_to:
        clauses.append(f'(date_key != "" and date_key <= {_quote(filters.date_to[:10])})')
    return " and ".join(clauses)


def _hit_id(hit: Any) -> int:
    return int(hit["chunk_id"] if "chunk_id" in hit else hit["id"])


class MilvusStore:
    """``MilvusStore("milvus:///path/index.db", dimension=384)``: catalog and search on Milvus."""

    def __init__(
        self,
        store: str,
        dimension: int,
        token: str | None = None,
        *,
        index_dir: Path | None = None,
    ) -> None:
        pymilvus = _pymilvus()
        self.uri = store
        self.index_dir = index_dir  # the index folder (config, write lock) this store serves
        self.dimension = dimension
        _, name = split_store(store)
        self.chunks = f"{name}_chunks"
        self.articles = f"{name}_articles"
        self.sentences = f"{name}_sentences"
        uri = client_uri(store)
        if store.startswith(LOCAL_SCHEME):
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
            try:
                with warnings.catch_warnings():  # Milvus Lite 2.5 imports pkg_resources
                    warnings.simplefilter("ignore", UserWarning)
                    importlib.import_module("milvus_lite")
            except ImportError as error:
                raise MilvusUnavailableError(
                    f"{store} is a Milvus Lite file, which needs milvus-lite: "
                    "pip install 'article-qa[milvus]'"
                ) from error
        uri, database = server_database(uri)
        try:
            self.client: Any = pymilvus.MilvusClient(
                uri=uri, token=token or os.environ.get(TOKEN_ENV, ""), db_name=database
            )
        except Exception as error:
            raise _open_error(store, error) from error
        if not self.client.has_collection(self.chunks):
            self._create(pymilvus)
        else:
            self._check_dimension()
        if not self.client.has_collection(self.sentences):
            self._create_sentences(pymilvus)
        self.analysis = self._analysis()
        self.keyword_field = KEYWORD_FIELDS[self.analysis]
        self.client.load_collection(self.chunks)
        self.client.load_collection(self.articles)
        self.client.load_collection(self.sentences)

    def close(self) -> None:
        self.client.close()
        if self.uri.startswith(LOCAL_SCHEME):
            # pymilvus keeps a Milvus Lite file's in-process server (and its lock on the file)
            # until the process exits; release it so another process can open the file.
            manager = importlib.import_module("milvus_lite.server_manager")
            manager.server_manager_instance.release_server(client_uri(self.uri))

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

    def repair(self, reindex: Reindex) -> CheckReport:
        """Needs no model: what an interrupted write leaves is deleted or marked changed."""
        return repair_milvus(self)

    def rebuild_vectors(self) -> int:
        raise QAError(
            f"Rebuilding the vector file works on the embedded store (SQLite + FAISS); the index "
            f"in {self.index_dir} keeps its chunks and vectors in Milvus ({self.uri})."
        )

    def stats(self) -> StoreStats:
        outside = 0
        if self.uri.startswith(LOCAL_SCHEME):
            lite = Path(client_uri(self.uri))
            if self.index_dir is None or not lite.is_relative_to(self.index_dir.resolve()):
                outside = disk_bytes(lite)  # else counted with the folder
        return StoreStats(
            store=self.uri,
            vector_index="milvus flat-ip",
            keyword_index="milvus bm25",
            outside_bytes=outside,
        )

    def _check_dimension(self) -> None:
        for field in self.client.describe_collection(self.chunks)["fields"]:
            if field["name"] == "dense":
                found = int(field.get("params", {}).get("dim", self.dimension))
                if found != self.dimension:
                    raise IndexFormatError(
                        f"The Milvus collection {self.chunks} at {self.uri} holds {found}-d "
                        f"vectors, not the {self.dimension}-d vectors of this index's model. "
                        "Point --store at another Milvus file or server."
                    )

    def _analysis(self) -> str:
        """The keyword analysis the chunks collection was built with (its analysed field)."""
        names = set(self.scan_fields())
        for analysis, field in KEYWORD_FIELDS.items():
            if field in names:
                return analysis
        raise IndexFormatError(
            f"The Milvus collection {self.chunks} at {self.uri} has no keyword field "
            f"({' or '.join(KEYWORD_FIELDS.values())}): it was not made by article-qa."
        )

    def _create(self, pymilvus: Any) -> None:
        analysis = keyword_choice()
        if analysis == "english":  # where the engine has the analyzer
            try:
                self._create_chunks(pymilvus, "english")
            except Exception as error:  # the engine has no English analyzer (Milvus Lite 3.x)
                if "english" not in str(error) and "tokenizer" not in str(error):
                    raise
                logging.getLogger(__name__).info("no English analyzer in %s: %s", self.uri, error)
                self._create_chunks(pymilvus, "terms")
        else:
            self._create_chunks(pymilvus, analysis)
        self._create_articles(pymilvus)

    def _create_chunks(self, pymilvus: Any, analysis: str) -> None:
        types = pymilvus.DataType
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("chunk_id", types.INT64, is_primary=True)
        for name in ("article_id", "title", "title_key", "url", "date", "date_key", "source"):
            schema.add_field(name, types.VARCHAR, max_length=TEXT_BYTES)
        for name in ("seq", "start", "end", "tokens"):
            schema.add_field(name, types.INT64)
        for name in ("text", "embed_hash", "content_hash"):
            schema.add_field(name, types.VARCHAR, max_length=TEXT_BYTES)
        schema.add_field(
            KEYWORD_FIELDS[analysis],
            types.VARCHAR,
            max_length=TEXT_BYTES,
            enable_analyzer=True,
            analyzer_params=ANALYZERS[analysis],
        )
        schema.add_field("dense", types.FLOAT_VECTOR, dim=self.dimension)
        schema.add_field("sparse", types.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            pymilvus.Function(
                name="bm25",
                function_type=pymilvus.FunctionType.BM25,
                input_field_names=[KEYWORD_FIELDS[analysis]],
                output_field_names=["sparse"],
            )
        )
        index = self.client.prepare_index_params()
        index.add_index("dense", index_type="FLAT", metric_type="IP")
        index.add_index(
            "sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"bm25_k1": K1 * TEXT_REPEAT, "bm25_b": B},
        )
        self.client.create_collection(
            self.chunks, schema=schema, index_params=index, consistency_level="Strong"
        )

    def _create_sentences(self, pymilvus: Any) -> None:
        types = pymilvus.DataType
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("sentence_id", types.INT64, is_primary=True)
        schema.add_field("chunk_id", types.INT64)
        schema.add_field("article_id", types.VARCHAR, max_length=TEXT_BYTES)
        for name in ("start", "end"):
            schema.add_field(name, types.INT64)
        schema.add_field("embed_hash", types.VARCHAR, max_length=TEXT_BYTES)
        schema.add_field("dense", types.FLOAT_VECTOR, dim=self.dimension)
        index = self.client.prepare_index_params()
        index.add_index("dense", index_type="FLAT", metric_type="IP")  # read by chunk id only
        self.client.create_collection(
            self.sentences, schema=schema, index_params=index, consistency_level="Strong"
        )

    def _create_articles(self, pymilvus: Any) -> None:
        types = pymilvus.DataType
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("article_id", types.VARCHAR, is_primary=True, max_length=TEXT_BYTES)
        for name in ("title", "source", "url", "date", "author", "content_hash", "updated_at"):
            schema.add_field(name, types.VARCHAR, max_length=TEXT_BYTES)
        for name in ("chunks", "chars", "tokens"):
            schema.add_field(name, types.INT64)
        schema.add_field("unused", types.FLOAT_VECTOR, dim=2)  # a collection needs a vector
        index = self.client.prepare_index_params()
        index.add_index("unused", index_type="FLAT", metric_type="L2")
        self.client.create_collection(
            self.articles, schema=schema, index_params=index, consistency_level="Strong"
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
        sentences are deleted, then the article row records the new content hash. A crash in
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

    def flush(self) -> None:
        """Seal what was written into indexed segments: call at the end of an ingest. Milvus Lite
        searches unflushed rows and delete logs by brute force (BM25 300 ms instead of 14 ms at
        2k chunks, docs/scaling-out.md); a server seals segments by itself too."""
        self.client.flush(self.chunks)
        self.client.flush(self.sentences)
        self.client.flush(self.articles)

    def delete_article(self, article_id: str) -> list[int]:
        """Delete an article and its chunks (the article row last: see ``put_article``);
        return the removed chunk ids."""
        removed = self.chunk_ids(article_id)
        if removed:
            self.client.delete(self.chunks, ids=removed)
        self.client.delete(self.sentences, filter=f"article_id == {_quote(article_id)}")
        self.client.delete(self.articles, ids=[article_id])
        return removed

    def delete_chunks(self, chunk_ids: Sequence[int]) -> None:
        """Delete chunks by id (``qa check --repair``: leftovers of interrupted writes)."""
        for begin in range(0, len(chunk_ids), 1000):
            self.client.delete(self.chunks, ids=[int(i) for i in chunk_ids[begin : begin + 1000]])
        self.delete_sentences_of(chunk_ids)

    def delete_sentences(self, sentence_ids: Sequence[int]) -> None:
        """Delete sentence rows by id (``qa check --repair``: those of no chunk)."""
        for begin in range(0, len(sentence_ids), 1000):
            part = [int(i) for i in sentence_ids[begin : begin + 1000]]
            self.client.delete(self.sentences, ids=part)

    def delete_sentences_of(self, chunk_ids: Sequence[int]) -> None:
        """Delete the sentence rows of these chunks."""
        for begin in range(0, len(chunk_ids), 1000):
            part = [int(i) for i in chunk_ids[begin : begin + 1000]]
            self.client.delete(self.sentences, filter=f"chunk_id in {part}")

    def mark_changed(self, article_ids: Sequence[str]) -> None:
        """Forget the content hash of ``article_ids``, so the next ingest of their files writes
        them again (``qa check --repair``: their chunks are not what their row records)."""
        fields = self.scan_fields(self.articles)
        rows = self.client.get(self.articles, ids=list(article_ids), output_fields=fields)
        for row in rows:
            row["content_hash"] = ""
        if rows:
            self.client.upsert(self.articles, rows)

    # -- catalog reads --------------------------------------------------------------------------

    def scan_fields(self, collection: str | None = None) -> list[str]:
        """The field names of ``collection`` (default: the chunks)."""
        described = self.client.describe_collection(collection or self.chunks)
        return [str(field["name"]) for field in described["fields"]]

    def scan(self, collection: str, fields: list[str]) -> list[dict[str, Any]]:
        """Every row of ``collection`` (``self.chunks`` or ``self.articles``), those fields."""
        return self._query_all(collection, fields)

    def content_hashes(self) -> dict[str, str]:
        rows = self._query_all(self.articles, ["article_id", "content_hash"])
        return {str(row["article_id"]): str(row["content_hash"]) for row in rows}

    def ids_by_source(self, source: str) -> list[str]:
        rows = self._query_all(self.articles, ["article_id"], f"source == {_quote(source)}")
        return [str(row["article_id"]) for row in rows]

    def ids_under(self, folder: str) -> list[tuple[str, str]]:
        """(id, source) of articles whose source file lies inside ``folder``."""
        prefix = folder.rstrip("/") + "/"
        rows = self._query_all(self.articles, ["article_id", "source"], _prefix_clause(prefix))
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
            rows = self._query_all(
                self.chunks, ["embed_hash", "dense"], f"embed_hash in {_quoted_list(part)}"
            )
            for row in rows:
                found[str(row["embed_hash"])] = np.asarray(row["dense"], np.float32).tobytes()
            missing = [digest for digest in part if digest not in found]
            if missing:  # sentences' texts (a chunk's text is looked up first)
                rows = self._query_all(
                    self.sentences,
                    ["embed_hash", "dense"],
                    f"embed_hash in {_quoted_list(missing)}",
                )
                for row in rows:
                    found[str(row["embed_hash"])] = np.asarray(row["dense"], np.float32).tobytes()
        return found

    def chunk_ids(self, article_id: str) -> list[int]:
        rows = self._query_all(
            self.chunks, ["chunk_id", "seq"], f"article_id == {_quote(article_id)}"
        )
        return [int(row["chunk_id"]) for row in sorted(rows, key=lambda row: row["seq"])]

    def chunk_rows(self, article_id: str) -> list[Chunk]:
        rows = self._query_all(
            self.chunks,
            ["seq", "start", "end", "text", "tokens"],
            f"article_id == {_quote(article_id)}",
        )
        return [
            Chunk(article_id, int(r["seq"]), int(r["start"]), int(r["end"]), r["text"], r["tokens"])
            for r in sorted(rows, key=lambda row: row["seq"])
        ]

    def list_articles(self) -> list[ArticleInfo]:
        fields = ["article_id", "title", "source", "url", "date", "author", "chars", "chunks"]
        rows = self._query_all(self.articles, [*fields, "content_hash", "updated_at"])
        found = [
            ArticleInfo(
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
            for row in rows
        ]
        return sorted(found, key=lambda info: (info.title, info.id))

    def count_articles(self) -> int:
        return self._count(self.articles)

    def count_chunks(self) -> int:
        return self._count(self.chunks)

    def count_tokens(self) -> int:
        return sum(int(row["tokens"]) for row in self._query_all(self.articles, ["tokens"]))

    def get_meta(self, key: str) -> str | None:
        """Only "updated_at" (the newest article write) exists here."""
        if key != "updated_at":
            return None
        times = [str(row["updated_at"]) for row in self._query_all(self.articles, ["updated_at"])]
        return max(times, default=None)

    def _count(self, collection: str) -> int:
        rows = self.client.query(collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def _query_all(
        self, collection: str, fields: list[str], expression: str = ""
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        iterator = self.client.query_iterator(
            collection, batch_size=1000, filter=expression, output_fields=fields
        )
        while batch := iterator.next():
            rows.extend(batch)
        iterator.close()
        return rows

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

    def count_sentences(self) -> int:
        return self._count(self.sentences)

    def passage_rows(self, chunk_ids: Sequence[int]) -> dict[int, PassageRow]:
        if not chunk_ids:
            return {}
        rows = self.client.get(
            self.chunks, ids=[int(i) for i in chunk_ids], output_fields=CHUNK_FIELDS
        )
        return {
            int(row["chunk_id"]): PassageRow(
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
        return [(_hit_id(hit), float(hit["distance"])) for hit in hits[0]]

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
        found = [(_hit_id(hit), abs(float(hit["distance"]))) for hit in hits[0]]
        return sorted(found, key=lambda hit: (-hit[1], hit[0]))


def _prefix_clause(prefix: str) -> str:
    # A range over the string order instead of `like`: no escaping of % and _ needed.
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return f"(source >= {_quote(prefix)} and source < {_quote(after)})"


def _open_error(store: str, error: Exception) -> QAError:
    if store.startswith(LOCAL_SCHEME) and "Open local milvus failed" in str(error):
        return IndexBusyError(
            f"The Milvus Lite file {client_uri(store)} is open in another process "
            "(Milvus Lite allows one process per file: e.g. `qa serve` and `qa ingest` cannot "
            "share it). Stop the other process, or serve the file from one process for all "
            "(Milvus Lite's gRPC server, qa.stores.milvus.store.lite_server, or a Milvus server: "
            "docs/scaling-out.md) and use --store http://127.0.0.1:19530 in a new index folder."
        )
    return IndexFormatError(f"Cannot open the Milvus store {store}: {error}")


def lite_version() -> tuple[int, ...]:
    """The installed milvus-lite's version, e.g. (2, 5, 1)."""
    version = importlib.metadata.version("milvus-lite")
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


@contextmanager
def lite_server(db_file: Path, port: int = 19530, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve a Milvus Lite file over gRPC while inside: yields the ``--store`` URI
    (``http://host:port``) that several processes (``qa serve`` and ``qa ingest``) can share,
    as they would a Milvus server. Milvus Lite 2.5 runs its C++ engine on ``host:port``
    (``milvus_lite.server.Server``); 3.x runs ``milvus-lite server`` with ``db_file``'s folder
    as its data directory.

        with lite_server(Path("/data/qa.db"), 19530) as uri:  # http://127.0.0.1:19530
            ...
    """
    db_file = Path(db_file).resolve()
    db_file.parent.mkdir(parents=True, exist_ok=True)
    stop: Any
    if lite_version() < (3,):
        server = importlib.import_module("milvus_lite.server").Server(
            str(db_file), address=f"{host}:{port}"
        )
        if not server.start():
            raise IndexBusyError(
                f"Milvus Lite could not serve {db_file} on {host}:{port}: the file is open in "
                "another process, or the port is taken."
            )
        stop = server.stop
    else:
        command = Path(sys.executable).parent / "milvus-lite"
        process = subprocess.Popen(
            [str(command), "server", "--data-dir", str(db_file.parent / f"{db_file.stem}-data"),
             "--host", host, "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def stop() -> None:
            process.kill()
            process.wait()

    try:
        deadline = time.monotonic() + 60
        while True:  # until it listens
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError as error:
                if time.monotonic() > deadline:
                    raise IndexBusyError(f"Milvus Lite did not listen on {host}:{port}") from error
                time.sleep(0.2)
        yield f"http://{host}:{port}"
    finally:
        stop()
