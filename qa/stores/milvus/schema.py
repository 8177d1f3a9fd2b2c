"""The collections of a Milvus index: their fields, indexes and keyword analysis, row ids,
filter expressions, and the row-level reads and deletes that ``MilvusStore`` and ``check`` share.

Four collections, ``{name}_chunks`` (one row per chunk, with its article's metadata, so every
filter is one expression), ``{name}_sentences`` (one row per sentence of a chunk: its vector and
article offsets, read by chunk id for sentence evidence), ``{name}_texts`` (each article's text,
in pieces of ``TEXT_PIECE_CHARS``: what citations' pages count in) and ``{name}_articles`` (one
row per article: the content hash that incremental ingest compares, and the commit marker of a
write; see ``MilvusStore.put_article``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from typing import Any

from qa.errors import IndexFormatError, QAError
from qa.lexical import terms
from qa.stores.keywords import K1, TITLE_WEIGHT, B
from qa.types import Filters

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
CHUNK_FIELDS = ["article_id", "title", "url", "date", "source", "text", "start", "end"]
# An article's text is kept in pieces this long: at most 4 bytes a character, a piece fits a
# VARCHAR of TEXT_BYTES.
TEXT_PIECE_CHARS = 16_000


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


def quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def quoted_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(quote(value) for value in values) + "]"


def filter_expression(filters: Filters | None) -> str:
    """``filters`` as a Milvus boolean expression over chunk fields ("" for no filter)."""
    if filters is None or filters.empty:
        return ""
    clauses: list[str] = []
    either: list[str] = []
    if filters.article_ids:
        either.append(f"article_id in {quoted_list(filters.article_ids)}")
    if filters.titles:
        either.append(f"title_key in {quoted_list([t.lower() for t in filters.titles])}")
    if either:
        clauses.append("(" + " or ".join(either) + ")")
    if filters.source_prefix:
        clauses.append(prefix_clause(filters.source_prefix))
    if filters.date_from:
        clauses.append(f'(date_key != "" and date_key >= {quote(filters.date_from[:10])})')
    if filters.date_to:
        clauses.append(f'(date_key != "" and date_key <= {quote(filters.date_to[:10])})')
    return " and ".join(clauses)


def prefix_clause(prefix: str) -> str:
    """Sources starting with ``prefix``: a range over the string order instead of ``like``, so no
    escaping of % and _ is needed."""
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return f"(source >= {quote(prefix)} and source < {quote(after)})"


def text_piece_id(article_id: str, seq: int) -> int:
    """A text piece's primary key, deterministic like ``chunk_id`` (retries replace rows)."""
    key = f"{article_id}\0{seq}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") >> 1


def hit_id(hit: Any) -> int:
    return int(hit["chunk_id"] if "chunk_id" in hit else hit["id"])


class Collections:
    """The collections of one index on one Milvus client (``MilvusStore`` is built on it).

    ``ensure(pymilvus)`` creates what is missing and loads them; the rest reads, counts and
    deletes rows by id, for the store and for ``check`` and its repair.
    """

    def __init__(
        self, client: Any, uri: str, name: str, dimension: int, index_dir: Any = None
    ) -> None:
        self.client = client
        self.uri = uri
        self.index_dir = index_dir  # the index folder (config, write lock) this store serves
        self.dimension = dimension
        self.chunks = f"{name}_chunks"
        self.articles = f"{name}_articles"
        self.sentences = f"{name}_sentences"
        self.texts = f"{name}_texts"
        self.analysis = ""
        self.keyword_field = ""

    def ensure(self, pymilvus: Any) -> None:
        """Create the collections that are missing, check the others, and load them all."""
        if not self.client.has_collection(self.chunks):
            self._create(pymilvus)
        else:
            self._check_dimension()
        if not self.client.has_collection(self.sentences):
            self._create_sentences(pymilvus)
        if not self.client.has_collection(self.texts):
            self._create_texts(pymilvus)
        self.analysis = self._analysis()
        self.keyword_field = KEYWORD_FIELDS[self.analysis]
        for collection in (self.chunks, self.articles, self.sentences, self.texts):
            self.client.load_collection(collection)

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
        self._create_collection(self.chunks, schema, index)

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
        self._create_collection(self.sentences, schema, index)

    def _create_collection(self, name: str, schema: Any, index: Any) -> None:
        """A new collection with its indexes (``ensure`` loads it). The indexes are created
        without pymilvus's wait: it polls each new index's state every 0.5 s, though an index
        of an empty collection is ready at once; that was 2.5 s of sleep (five indexes) in
        every new index folder on Milvus."""
        self.client.create_collection(name, schema=schema, consistency_level="Strong")
        self.client.create_index(name, index, sync=False)

    def _create_texts(self, pymilvus: Any) -> None:
        key = ("piece_id", pymilvus.DataType.INT64)
        self._create_records(pymilvus, self.texts, key, ("article_id", "text"), ("seq",))

    def _create_articles(self, pymilvus: Any) -> None:
        key = ("article_id", pymilvus.DataType.VARCHAR)
        texts = ("title", "source", "url", "date", "author", "content_hash", "updated_at")
        self._create_records(pymilvus, self.articles, key, texts, ("chunks", "chars", "tokens"))

    def _create_records(
        self,
        pymilvus: Any,
        collection: str,
        key: tuple[str, Any],
        texts: Sequence[str],
        numbers: Sequence[str],
    ) -> None:
        """A collection of plain rows: a primary ``key``, text and integer fields."""
        types = pymilvus.DataType
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        size = {"max_length": TEXT_BYTES} if key[1] == types.VARCHAR else {}
        schema.add_field(key[0], key[1], is_primary=True, **size)
        for name in texts:
            schema.add_field(name, types.VARCHAR, max_length=TEXT_BYTES)
        for name in numbers:
            schema.add_field(name, types.INT64)
        schema.add_field("unused", types.FLOAT_VECTOR, dim=2)  # a collection needs a vector
        index = self.client.prepare_index_params()
        index.add_index("unused", index_type="FLAT", metric_type="L2")
        self._create_collection(collection, schema, index)

    # -- rows -----------------------------------------------------------------------------------

    def scan_fields(self, collection: str | None = None) -> list[str]:
        """The field names of ``collection`` (default: the chunks)."""
        described = self.client.describe_collection(collection or self.chunks)
        return [str(field["name"]) for field in described["fields"]]

    def scan(
        self, collection: str, fields: list[str], expression: str = ""
    ) -> list[dict[str, Any]]:
        """Every row of ``collection`` (passing ``expression``, if given), those fields."""
        rows: list[dict[str, Any]] = []
        iterator = self.client.query_iterator(
            collection, batch_size=1000, filter=expression, output_fields=fields
        )
        while batch := iterator.next():
            rows.extend(batch)
        iterator.close()
        return rows

    def count(self, collection: str) -> int:
        rows = self.client.query(collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def count_articles(self) -> int:
        return self.count(self.articles)

    def count_chunks(self) -> int:
        return self.count(self.chunks)

    def count_sentences(self) -> int:
        return self.count(self.sentences)

    def flush(self) -> None:
        """Seal what was written into indexed segments: call at the end of an ingest. Milvus Lite
        searches unflushed rows and delete logs by brute force (BM25 300 ms instead of 14 ms at
        2k chunks, docs/scaling-out.md); a server seals segments by itself too."""
        for collection in (self.chunks, self.sentences, self.texts, self.articles):
            self.client.flush(collection)

    def delete_chunks(self, chunk_ids: Sequence[int]) -> None:
        """Delete chunks by id, and their sentences (``qa check --repair``: leftovers of
        interrupted writes)."""
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

    def delete_texts(self, article_ids: Sequence[str]) -> None:
        """Delete the text pieces of these articles (``qa check --repair``: of no article)."""
        for begin in range(0, len(article_ids), 200):
            part = quoted_list(article_ids[begin : begin + 200])
            self.client.delete(self.texts, filter=f"article_id in {part}")

    def mark_changed(self, article_ids: Sequence[str]) -> None:
        """Forget the content hash of ``article_ids``, so the next ingest of their files writes
        them again (``qa check --repair``: their chunks are not what their row records)."""
        fields = self.scan_fields(self.articles)
        rows = self.client.get(self.articles, ids=list(article_ids), output_fields=fields)
        for row in rows:
            row["content_hash"] = ""
        if rows:
            self.client.upsert(self.articles, rows)
