"""The SQLite half of an index: articles, chunks with offsets and vectors, a keyword index.

SQLite is the source of truth. Each chunk row keeps its vector, so the FAISS file next to it is a
cache that can always be rebuilt from here (after a crash, or by ``qa check --repair``). Writes
happen in transactions: an article is replaced whole or not at all.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qa.errors import IndexFormatError
from qa.stores import vector_format
from qa.stores.base import NewChunk, SentenceRows
from qa.stores.embedded.integrity import RowsDigest
from qa.types import Article, ArticleInfo, Chunk, Filters, PassageRow, now_iso

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    url TEXT,
    date TEXT,
    author TEXT,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source);
-- find_articles by exact title (a link or an excerpt naming its article); an index made before
-- this line finds a title by a scan, as listing the articles did.
CREATE INDEX IF NOT EXISTS articles_title ON articles(title);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    text TEXT NOT NULL,
    embed_hash TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id, seq);
CREATE INDEX IF NOT EXISTS chunks_embed_hash ON chunks(embed_hash);
-- Every sentence of every chunk, with its article offsets (sentence evidence, issue 15): the
-- retriever's best-sentence score and the answer's sentence cosines read these vectors.
CREATE TABLE IF NOT EXISTS sentences (
    chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    embed_hash TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sentences_chunk ON sentences(chunk_id);
CREATE INDEX IF NOT EXISTS sentences_embed_hash ON sentences(embed_hash);
-- A SHA-256 of each article's chunk and sentence rows, as written (qa/stores/embedded/
-- integrity.py): `qa check` recomputes it, so a changed vector or offset cannot pass unseen.
CREATE TABLE IF NOT EXISTS digests (
    article_id TEXT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
    rows_sha256 TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, text, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""
KEYWORD_TABLE = SCHEMA[SCHEMA.index("CREATE VIRTUAL TABLE") :]
DIGEST_TABLE = SCHEMA[
    SCHEMA.index("CREATE TABLE IF NOT EXISTS digests") : SCHEMA.index("CREATE VIRTUAL TABLE")
]
# The tables every index database has (``digests`` came later: older databases lack it).
TABLES = ("meta", "articles", "chunks", "sentences", "chunks_fts")


# The meta key recording how the sentences table stores its vectors (qa/stores/vector_format.py);
# a database without it is from before issue 26 and holds float32.
SENTENCE_FORMAT_KEY = "sentence_vector_format"


# An article's listing row (``ArticleInfo``'s fields, in order).
_ARTICLE_INFO = (
    "SELECT a.id, a.title, a.source, a.url, a.date, a.author, length(a.text), "
    "(SELECT count(*) FROM chunks c WHERE c.article_id = a.id), a.content_hash, "
    "a.updated_at FROM articles a"
)


class Store:
    """``Store(path)`` opens (or creates) the database; use ``with store.transaction():``.

    ``sentence_format`` is how a new database stores sentence vectors (an existing one keeps
    the format it records).
    """

    def __init__(
        self, path: Path, sentence_format: str = vector_format.DEFAULT_SENTENCE_FORMAT
    ) -> None:
        self.path = path
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction spans exactly
        # what `transaction()` wraps.
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._use_wal()
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        known = self.db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
        if int(known.fetchone()[0]) == 0:
            # A new database. BEGIN IMMEDIATE waits for (rather than fails against) another
            # process creating the same index at the same moment; CREATE ... IF NOT EXISTS
            # makes the loser's script a no-op. Readers of an existing index never write.
            self.db.executescript(f"BEGIN IMMEDIATE;{SCHEMA}COMMIT;")
        if self.get_meta("schema_version") is None:  # a new database (readers never write)
            with self.transaction():
                if self.get_meta("schema_version") is None:
                    self.set_meta("schema_version", str(SCHEMA_VERSION))
                    self.set_meta("generation", "0")
                    self.set_meta(SENTENCE_FORMAT_KEY, sentence_format)
        self._sentence_format: str | None = None

    def _use_wal(self) -> None:
        # Switching a new database to WAL fails at once ("database is locked", no busy wait)
        # while another process is creating the same database; wait for it like any lock.
        for attempt in range(300):
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or attempt == 299:
                    raise
                time.sleep(0.1)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.db.in_transaction:  # nested: the outer transaction commits
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:  # Ctrl-C too: never leave half an article behind
            if self.db.in_transaction:  # SQLite already rolled back after e.g. a full disk
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read one consistent state: what other processes commit meanwhile stays invisible until
        the block ends (a read transaction; with WAL it never blocks a writer)."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            if self.db.in_transaction:
                self.db.execute("COMMIT")

    # -- meta -----------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def int_meta(self, key: str) -> int:
        """A number kept in ``meta`` (0 when absent); text there is damage, said in one line."""
        value = self.get_meta(key)
        try:
            return int(value or 0)
        except ValueError:
            raise IndexFormatError(
                f"The index database {self.path} records {key} = {(value or '')[:40]!r}, which "
                "is not a number (the database was damaged or changed by another program). Run "
                "`qa check --repair` to reset it."
            ) from None

    @property
    def sentence_format(self) -> str:
        """How this database stores sentence vectors (a name of ``vector_format.FORMATS``)."""
        if self._sentence_format is None:
            recorded = self.get_meta(SENTENCE_FORMAT_KEY) or vector_format.LEGACY_FORMAT
            if recorded not in vector_format.FORMATS:
                raise IndexFormatError(
                    f"{self.path} stores its sentence vectors as {recorded!r}, which this "
                    f"article-qa cannot read (it reads {', '.join(vector_format.FORMATS)}): it "
                    "was written by a newer version. Upgrade article-qa, or ingest your "
                    "articles again into a new index folder."
                )
            self._sentence_format = recorded
        return self._sentence_format

    @property
    def generation(self) -> int:
        """Bumped by every write that changes chunks; the FAISS file records the one it holds."""
        return self.int_meta("generation")

    def has_table(self, name: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return row is not None

    def _bump_generation(self) -> None:
        self.set_meta("generation", str(self.generation + 1))
        self.set_meta("updated_at", now_iso())

    # -- reads ----------------------------------------------------------------------------------

    def content_hashes(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT id, content_hash FROM articles").fetchall())

    def ids_by_source(self, source: str) -> list[str]:
        rows = self.db.execute("SELECT id FROM articles WHERE source = ?", (source,))
        return [row[0] for row in rows]

    def ids_under(self, folder: str) -> list[tuple[str, str]]:
        """(id, source) of articles whose source file lies inside ``folder``."""
        prefix = folder.rstrip("/") + "/"
        rows = self.db.execute(
            "SELECT id, source FROM articles WHERE substr(source, 1, ?) = ?", (len(prefix), prefix)
        )
        return [(row[0], row[1]) for row in rows]

    def has_article(self, article_id: str) -> bool:
        row = self.db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row is not None

    def chunk_ids(self, article_id: str) -> list[int]:
        rows = self.db.execute(
            "SELECT id FROM chunks WHERE article_id = ? ORDER BY seq", (article_id,)
        )
        return [row[0] for row in rows]

    def vectors_by_embed_hash(self, hashes: Sequence[str]) -> dict[str, bytes]:
        """Stored vectors for texts embedded before (any article), as float32 bytes: reused
        instead of re-embedded."""
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(hashes))
        for begin in range(0, len(unique), 500):
            part = unique[begin : begin + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT embed_hash, vector FROM chunks WHERE embed_hash IN ({marks})", part
            )
            found.update((row[0], row[1]) for row in rows)
            missing = [digest for digest in part if digest not in found]
            if missing:  # sentences' texts (a chunk's text is looked up first)
                marks = ",".join("?" * len(missing))
                sentences = self.db.execute(
                    f"SELECT embed_hash, vector FROM sentences WHERE embed_hash IN ({marks})",
                    missing,
                ).fetchall()
                vectors = vector_format.decode([row[1] for row in sentences], self.sentence_format)
                found.update(
                    (row[0], vector.tobytes())
                    for row, vector in zip(sentences, vectors, strict=True)
                )
        return found

    def sentence_vectors_unordered(
        self, chunk_ids: Sequence[int]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """The stored sentence vectors of ``chunk_ids`` and their chunk ids, in no set order:
        what a search's best-sentence score needs. Leaving out the offsets and the ORDER BY
        reads the ~330 sentences of one question's candidates in 0.26 ms instead of 0.38
        (SQuAD dev index, 300 sets of 75 chunks, medians)."""
        found: list[tuple[int, bytes]] = self.db.execute(
            "SELECT chunk_id, vector FROM sentences "
            "WHERE chunk_id IN (SELECT value FROM json_each(?))",
            (_id_list(chunk_ids),),
        ).fetchall()
        if not found:
            return np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.int64)
        owners, blobs = zip(*found, strict=True)
        return self._sentence_vectors(blobs), np.array(owners, dtype=np.int64)

    def _sentence_vectors(self, blobs: Sequence[bytes]) -> npt.NDArray[np.float32]:
        vectors = None
        # In the database's format: a blob of another size, or of another type, is damage.
        with contextlib.suppress(ValueError, TypeError):
            vectors = vector_format.decode(blobs, self.sentence_format)
        if vectors is None or vectors.shape[1] == 0:
            raise IndexFormatError(
                f"The index database {self.path} holds a sentence vector that is not a vector "
                "(the database was damaged or changed by another program). Run `qa check` to "
                "see what is wrong and `qa check --repair` to fix it."
            )
        return vectors

    def sentence_rows(self, chunk_ids: Sequence[int]) -> SentenceRows:
        """The stored sentences of ``chunk_ids``, in chunk then text order."""
        found: list[tuple[int, int, int, bytes]] = self.db.execute(
            "SELECT chunk_id, start, end, vector FROM sentences "
            "WHERE chunk_id IN (SELECT value FROM json_each(?)) ORDER BY chunk_id, start",
            (_id_list(chunk_ids),),
        ).fetchall()
        if not found:
            return SentenceRows.empty(0)
        owners, starts, ends, blobs = zip(*found, strict=True)
        vectors = self._sentence_vectors(blobs)
        return SentenceRows(
            np.array(owners, dtype=np.int64),
            np.array(starts, dtype=np.int64),
            np.array(ends, dtype=np.int64),
            vectors,
        )

    def count_sentences(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM sentences").fetchone()[0])

    def all_vectors(self, dimension: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Every chunk id and vector, to rebuild the FAISS index."""
        count = self.count_chunks()
        ids = np.zeros(count, dtype=np.int64)
        vectors = np.zeros((count, dimension), dtype=np.float32)
        for row, (chunk_id, blob) in enumerate(self.db.execute("SELECT id, vector FROM chunks")):
            if not isinstance(blob, bytes) or len(blob) != dimension * 4:
                raise IndexFormatError(
                    f"The index database {self.path} holds a chunk vector that is not a vector "
                    f"(chunk {chunk_id}: the database was damaged or changed by another program). "
                    "Run `qa check` to see what is wrong and `qa check --repair` to fix it."
                )
            ids[row] = chunk_id
            vectors[row] = np.frombuffer(blob, dtype=np.float32)
        return ids, vectors

    def articles_by_id(self, article_ids: Sequence[str]) -> list[Article]:
        """The stored articles (text and metadata) with these ids, in the order given."""
        found: dict[str, Article] = {}
        for article_id in article_ids:
            row = self.db.execute(
                "SELECT id, title, text, source, url, date, author FROM articles WHERE id = ?",
                (article_id,),
            ).fetchone()
            if row is not None:
                found[article_id] = Article(*row)
        return list(found.values())

    def chunk_rows(self, article_id: str) -> list[Chunk]:
        rows = self.db.execute(
            "SELECT article_id, seq, start, end, text, tokens FROM chunks "
            "WHERE article_id = ? ORDER BY seq",
            (article_id,),
        )
        return [Chunk(*row) for row in rows]

    def article_text(self, article_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        return None if row is None else str(row[0])

    def count_articles(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def has_chunks(self) -> bool:
        # Not count(*): that scans every row, ~40 ms at a million chunks, on every question.
        return self.db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is not None

    def count_chunks(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def count_tokens(self) -> int:
        return int(self.db.execute("SELECT coalesce(sum(tokens), 0) FROM chunks").fetchone()[0])

    def list_articles(self) -> list[ArticleInfo]:
        rows = self.db.execute(f"{_ARTICLE_INFO} ORDER BY a.title, a.id")
        return [ArticleInfo(*row) for row in rows]

    def titles(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT title FROM articles")]

    def find_articles(self, key: str) -> list[ArticleInfo]:
        rows = self.db.execute(
            f"{_ARTICLE_INFO} WHERE a.id = ? OR a.title = ? ORDER BY a.id != ?, a.id",
            (key, key, key),
        )
        return [ArticleInfo(*row) for row in rows]

    # -- search ---------------------------------------------------------------------------------

    def compact_keywords(self) -> None:
        """Merge the FTS5 index's segments into one (FTS5's 'optimize'; rows and scores are
        unchanged). Each committed write adds a segment that every query term is looked up in:
        SQuAD dev's index, as ingest left it, looked each term up in ~9 of them, and its keyword
        search p50 went from 0.36 to 0.30 ms once merged (0.51 -> 0.31 after 120 small writes).
        Merging takes 0.02 s there and 0.28 s at 50,000 chunks, where the BM25 impact index
        takes over (qa/stores/embedded/bm25.py)."""
        with self.transaction():
            self.db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('optimize')")

    def keyword_search(
        self,
        match: str,
        limit: int,
        filters: Filters | None = None,
        after: int | None = None,
    ) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) for an FTS5 ``match`` expression, best first (higher = better).

        ``filters`` join on the article columns inside the query, never as one SQL parameter per
        allowed chunk (a wide filter would pass SQLite's limit: "too many SQL variables").
        ``after`` limits the search to chunk ids above it (FTS5 seeks there, skipping the rest).
        """
        # bm25() is lower-is-better and negative; the title column weighs half as much as the text.
        sql = (
            "SELECT rowid, -bm25(chunks_fts, 0.5, 1.0) AS score FROM chunks_fts "
            "WHERE chunks_fts MATCH ?"
        )
        params: list[object] = [match]
        if after is not None:
            sql += " AND rowid > ?"
            params.append(after)
        if filters is not None and not filters.empty:
            where, filter_params = _filter_clause(filters)
            sql += (
                " AND rowid IN (SELECT c.id FROM chunks c JOIN articles a"
                f" ON a.id = c.article_id WHERE {where})"
            )
            params.extend(filter_params)
        sql += " ORDER BY score DESC LIMIT ?"
        params.append(limit)
        return [(int(row[0]), float(row[1])) for row in self.db.execute(sql, params)]

    def chunk_ids_where(self, filters: Filters) -> list[int]:
        """Ids of the chunks whose article passes ``filters``."""
        where, params = _filter_clause(filters)
        sql = f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {where}"
        return [int(row[0]) for row in self.db.execute(sql, params)]

    def existing(self, chunk_ids: Sequence[int]) -> set[int]:
        """Which of ``chunk_ids`` are still in the index."""
        found: set[int] = set()
        for begin in range(0, len(chunk_ids), 500):
            part = list(chunk_ids[begin : begin + 500])
            marks = ",".join("?" * len(part))
            rows = self.db.execute(f"SELECT id FROM chunks WHERE id IN ({marks})", part)
            found.update(int(row[0]) for row in rows)
        return found

    def passage_rows(self, chunk_ids: Sequence[int]) -> dict[int, PassageRow]:
        """What a citation needs of each chunk, by chunk id."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.db.execute(
            "SELECT c.id, a.id, a.title, a.url, a.date, a.source, c.text, c.start, c.end "
            f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})",
            list(chunk_ids),
        )
        return {int(row[0]): PassageRow(*row) for row in rows}

    # -- writes (call inside `transaction()`) ---------------------------------------------------

    def put_article(
        self, article: Article, chunks: Sequence[NewChunk]
    ) -> tuple[list[int], list[int]]:
        """Insert or replace ``article`` with ``chunks``; return (removed ids, new chunk ids)."""
        now = now_iso()
        removed = self._delete_chunks(article.id)
        self.db.execute(
            "INSERT INTO articles (id, title, source, url, date, author, text, content_hash, "
            "added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET title = excluded.title, source = excluded.source, "
            "url = excluded.url, date = excluded.date, author = excluded.author, "
            "text = excluded.text, content_hash = excluded.content_hash, "
            "updated_at = excluded.updated_at",
            (
                article.id, article.title, article.source, article.url, article.date,
                article.author, article.text, article.content_hash, now, now,
            ),
        )  # fmt: skip
        new_ids: list[int] = []
        next_id = self._next_chunk_id()
        sentence_format = self.sentence_format
        digest = RowsDigest()  # over the rows as written, in the order `qa check` reads them
        for item in sorted(chunks, key=lambda item: item.chunk.seq):
            chunk = item.chunk
            chunk_id = next_id
            next_id += 1
            # Columns as in integrity.CHUNK_DIGEST_COLUMNS and SENTENCE_DIGEST_COLUMNS.
            row = (
                chunk.seq, chunk.start, chunk.end, chunk.tokens, item.embed_hash,
                np.ascontiguousarray(item.vector, dtype=np.float32).tobytes(),
            )  # fmt: skip
            digest.chunk(row)
            self.db.execute(
                "INSERT INTO chunks (id, article_id, seq, start, end, tokens, embed_hash, "
                "vector, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (chunk_id, article.id, *row, chunk.text),
            )
            self.db.execute(
                "INSERT INTO chunks_fts (rowid, title, text) VALUES (?, ?, ?)",
                (chunk_id, article.title, chunk.text),
            )
            # Sentence vectors in the database's format (vector_format: int8 in new indexes);
            # the digest covers the bytes as stored.
            blobs = (
                vector_format.encode_many(
                    np.asarray([sentence.vector for sentence in item.sentences], dtype=np.float32),
                    sentence_format,
                )
                if item.sentences
                else []
            )
            sentences = sorted(
                (sentence.start, sentence.end, sentence.embed_hash, blob)
                for sentence, blob in zip(item.sentences, blobs, strict=True)
            )
            for sentence_row in sentences:
                digest.sentence(sentence_row)
            self.db.executemany(
                "INSERT INTO sentences (chunk_id, start, end, embed_hash, vector) "
                "VALUES (?, ?, ?, ?, ?)",
                [(chunk_id, *sentence_row) for sentence_row in sentences],
            )
            new_ids.append(chunk_id)
        self.record_digest(article.id, digest.hexdigest())
        self.set_meta("next_chunk_id", str(next_id))
        self._bump_generation()
        return removed, new_ids

    def record_digest(self, article_id: str, rows_sha256: str) -> None:
        """Record the digest of an article's rows (the table is made here for databases written
        before digests existed: readers never write)."""
        if not self.has_table("digests"):
            self.db.execute(DIGEST_TABLE)
        self.db.execute(
            "INSERT INTO digests (article_id, rows_sha256) VALUES (?, ?) "
            "ON CONFLICT(article_id) DO UPDATE SET rows_sha256 = excluded.rows_sha256",
            (article_id, rows_sha256),
        )

    def digests(self) -> dict[str, str]:
        """article id -> recorded digest of its rows (none for an index written before them)."""
        if not self.has_table("digests"):
            return {}
        rows = self.db.execute("SELECT article_id, rows_sha256 FROM digests")
        return {str(article_id): str(digest) for article_id, digest in rows}

    def _next_chunk_id(self) -> int:
        """Chunk ids are never reused, even after the newest chunks are deleted: caches built
        over "every id up to N" (the keyword index) stay correct."""
        recorded = self.int_meta("next_chunk_id")
        highest = int(self.db.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0])
        return max(recorded, highest + 1)

    def delete_article(self, article_id: str) -> list[int]:
        """Delete an article and its chunks; return the removed chunk ids."""
        removed = self._delete_chunks(article_id)
        self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        self._bump_generation()
        return removed

    def clear_chunks(self, article_id: str) -> list[int]:
        """Delete an article's chunks but keep the article (to re-chunk it); return their ids."""
        removed = self._delete_chunks(article_id)
        if self.has_table("digests"):  # the article's next rows record their own
            self.db.execute("DELETE FROM digests WHERE article_id = ?", (article_id,))
        self._bump_generation()
        return removed

    def delete_orphan_chunks(self) -> int:
        """Delete chunks whose article is gone (``qa check --repair``); return how many."""
        with self.transaction():
            cursor = self.db.execute(
                "DELETE FROM chunks WHERE article_id NOT IN (SELECT id FROM articles)"
            )
            deleted = cursor.rowcount
            self.delete_orphan_sentences()
            self._bump_generation()
        return deleted

    def orphan_sentences(self) -> int:
        """Sentence rows whose chunk is gone (the foreign key cascades, so only a database
        written without foreign keys has them)."""
        row = self.db.execute(
            "SELECT count(*) FROM sentences WHERE chunk_id NOT IN (SELECT id FROM chunks)"
        ).fetchone()
        return int(row[0])

    def delete_orphan_sentences(self) -> int:
        """Delete sentence rows whose chunk is gone (``qa check --repair``); return how many."""
        with self.transaction():
            cursor = self.db.execute(
                "DELETE FROM sentences WHERE chunk_id NOT IN (SELECT id FROM chunks)"
            )
        return cursor.rowcount

    def rebuild_keyword_index(self) -> int:
        """Recreate the FTS5 table from the chunks (``qa check --repair``); return its rows.

        FTS5's own 'rebuild' command only works for external-content tables; ours stores its
        text, so the table is dropped and filled again.
        """
        with self.transaction():
            self.db.execute("DROP TABLE IF EXISTS chunks_fts")
            self.db.execute(KEYWORD_TABLE)
            cursor = self.db.execute(
                "INSERT INTO chunks_fts (rowid, title, text) "
                "SELECT c.id, a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id"
            )
        return cursor.rowcount

    def _delete_chunks(self, article_id: str) -> list[int]:
        removed = self.chunk_ids(article_id)
        for begin in range(0, len(removed), 500):
            part = removed[begin : begin + 500]
            marks = ",".join("?" * len(part))
            self.db.execute(f"DELETE FROM chunks_fts WHERE rowid IN ({marks})", part)
            self.db.execute(f"DELETE FROM sentences WHERE chunk_id IN ({marks})", part)
            self.db.execute(f"DELETE FROM chunks WHERE id IN ({marks})", part)
        return removed


def _filter_clause(filters: Filters) -> tuple[str, list[object]]:
    """The SQL condition on ``articles a`` for ``filters``, and its parameters."""
    clauses: list[str] = []
    params: list[object] = []
    if filters.article_ids or filters.titles:
        parts = []
        if filters.article_ids:
            parts.append(f"a.id IN ({','.join('?' * len(filters.article_ids))})")
            params.extend(filters.article_ids)
        if filters.titles:
            parts.append(f"lower(a.title) IN ({','.join('?' * len(filters.titles))})")
            params.extend(title.lower() for title in filters.titles)
        clauses.append("(" + " OR ".join(parts) + ")")
    if filters.source_prefix:
        clauses.append("substr(a.source, 1, ?) = ?")
        params.extend([len(filters.source_prefix), filters.source_prefix])
    if filters.date_from:
        clauses.append("a.date IS NOT NULL AND substr(a.date, 1, 10) >= ?")
        params.append(filters.date_from[:10])
    if filters.date_to:
        clauses.append("a.date IS NOT NULL AND substr(a.date, 1, 10) <= ?")
        params.append(filters.date_to[:10])
    return " AND ".join(clauses) or "1", params


def _id_list(chunk_ids: Sequence[int]) -> str:
    """Chunk ids as one JSON parameter: any number of candidates binds one SQL variable."""
    return json.dumps(list(dict.fromkeys(int(i) for i in chunk_ids)))
