"""``qa check``: verify an index folder (``repair.py`` rebuilds what can be rebuilt).

SQLite is the source of truth (articles, chunks with offsets and vectors); the FAISS file and the
keyword indexes are derived from it, so they can always be rebuilt. What is checked, in order:

- the database passes SQLite's own ``PRAGMA integrity_check`` and has every table;
- numbers kept in its ``meta`` table are numbers;
- ``config.json`` is there, readable, and the same as the copy the database keeps;
- each article's title, text and metadata match its content hash (SHA-256, recorded at ingest);
- every chunk belongs to an article and ``article.text[start:end] == chunk.text``;
- every stored vector (chunks' and sentences') is finite and of unit length, in the format the
  database records for sentence vectors (``qa.stores.vector_format``: float32 before issue 26,
  int8 since; each format checked by its own rule), and each article's chunk and sentence rows
  match the digest recorded when they were written (``integrity``);
- the keyword index holds exactly the chunks, with their text and title, and passes FTS5's own
  integrity check;
- the FAISS file, when the database records it as current, has the recorded SHA-256 and holds
  exactly the chunk ids; it holds no vectors when the database has no chunks; the keyword cache
  of large indexes has the recorded checksums.

Each problem is one line that says what is wrong and what to do.

    report = assistant.check()          # or: qa check --index index
    if not report.ok:
        report = assistant.repair()     # or: qa check --repair
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embeddings import VectorIndex
from qa.config import same_config
from qa.errors import IndexConfigError, QAError
from qa.layout import CONFIG_FILE
from qa.stores import vector_format
from qa.stores.base import EXAMPLES, CheckReport, some_ids
from qa.stores.embedded import caches
from qa.stores.embedded.caches import VECTORS_FILE
from qa.stores.embedded.integrity import (
    CHUNK_DIGEST_COLUMNS,
    SENTENCE_DIGEST_COLUMNS,
    RowsDigest,
    vector_bytes,
    vector_faults,
)
from qa.stores.embedded.sqlite import SENTENCE_FORMAT_KEY, TABLES
from qa.types import Article
from qa.wording import plural

if TYPE_CHECKING:
    from qa.stores.embedded.folder import IndexFolder

__all__ = ["CheckReport", "Findings", "check_index", "examine", "plural", "some_ids"]

REPAIR = "Run `qa check --repair` to rebuild it from the database (nothing is lost)."
BEYOND_REPAIR = (
    "It cannot be repaired in place: move the index folder away and ingest your articles again "
    "into a new one (your files are not affected)."
)
META_NUMBERS = ("generation", "next_chunk_id")
# Tables a repair can make again: the sentences (embedded again from the chunks) and the
# keyword index (from the chunks' text). Without the others there is nothing to rebuild from.
REBUILDABLE_TABLES = ("sentences", "chunks_fts")
SCAN_ROWS = 2048  # vectors checked per numpy batch
# What PRAGMA integrity_check says when an index (not its table) is damaged.
INDEX_DAMAGE = re.compile(
    r"(row \d+ missing from index \w+|wrong # of entries in index \w+|"
    r"non-unique entry in index \w+)$"
)


@dataclass(frozen=True)
class Unverified:
    """An article whose stored title, text or metadata fail its content hash."""

    id: str
    title: str
    source: str
    hashes: frozenset[str]  # the recorded hash, and that of the stored fields as they are now


@dataclass
class Findings:
    """Problems, plus what ``repair`` needs to know about them."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    beyond_repair: bool = False  # nothing to repair from: the database or the config is lost
    reindex_sqlite: bool = False  # only SQLite's own indexes are damaged: REINDEX
    missing_tables: list[str] = field(default_factory=list)
    meta_reset: list[str] = field(default_factory=list)  # meta keys that are not numbers
    config_restore: bool = False  # write config.json from the database's copy
    config_record: bool = False  # the database keeps no copy yet: record config.json's
    rebuild_vectors: bool = False
    rebuild_keywords: bool = False
    rebuild_keyword_cache: bool = False
    vectors_stale: bool = False  # left behind by an interrupted write: a note, not a problem
    stray_vectors: bool = False  # vectors.faiss holds vectors, the database no chunks
    reindex: set[str] = field(default_factory=set)  # re-chunk and re-embed from stored text
    unverified: list[Unverified] = field(default_factory=list)  # read again from the source
    undigested: list[str] = field(default_factory=list)  # articles written before digests
    leftovers: list[Path] = field(default_factory=list)  # temp files of interrupted writes
    orphans: int = 0
    orphan_sentences: int = 0

    @property
    def rechunk(self) -> set[str]:
        """Articles to re-chunk from their stored text (never from text that fails its hash)."""
        return self.reindex - {article.id for article in self.unverified}


def _ids(ids: list[Any]) -> str:
    return f"{'id' if len(ids) == 1 else 'ids'} {some_ids(ids)}"


def _verb(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def examine(store: IndexFolder) -> Findings:
    """Everything ``check`` finds (read-only)."""
    found = Findings()
    _leftovers(store, found)
    try:
        _examine_database(store, found)
    except sqlite3.DatabaseError as error:  # damage SQLite's integrity check did not see
        found.beyond_repair = True
        reason = " ".join(str(error).split())
        found.problems.append(f"The database {store.path} is damaged ({reason}). {BEYOND_REPAIR}")
    return found


def _leftovers(store: IndexFolder, found: Findings) -> None:
    # Atomic writes go through ".NAME.PID.tmp" files; one left behind is a killed or failed write.
    found.leftovers = sorted(store.folder.glob(".*.tmp"))
    if found.leftovers:
        size = sum(
            file.stat().st_size
            for path in found.leftovers
            for file in ([path] if path.is_file() else path.rglob("*"))
            if file.is_file()
        )
        found.notes.append(
            f"{plural(len(found.leftovers), 'temporary file')} left by interrupted writes "
            f"({size / 2**20:.1f} MB, e.g. {found.leftovers[0].name}); `qa check --repair` "
            "deletes them."
        )


def _examine_database(store: IndexFolder, found: Findings) -> None:
    db = store.db
    path = store.path
    try:
        verdict = [str(row[0]) for row in db.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        verdict = [str(error)]
    reported = "; ".join(" ".join(v.split()) for v in verdict[:EXAMPLES])
    if verdict != ["ok"] and all(INDEX_DAMAGE.match(v) for v in verdict):
        # Only the lookup indexes disagree with their tables: REINDEX rebuilds them from the
        # rows. Nothing else is checked before that (queries would read the damaged indexes).
        found.reindex_sqlite = True
        found.problems.append(
            f"The database {path} has damaged lookup indexes (SQLite reports: {reported}). Run "
            "`qa check --repair` to rebuild them from the tables (nothing is lost)."
        )
        return
    if verdict != ["ok"]:
        found.beyond_repair = True
        found.problems.append(
            f"The database {path} is damaged (SQLite reports: {reported}). {BEYOND_REPAIR}"
        )
        return
    missing = [table for table in TABLES if not store.has_table(table)]
    beyond = [table for table in missing if table not in REBUILDABLE_TABLES]
    if beyond:
        found.beyond_repair = True
        found.problems.append(
            f"The database {path} has no {' or '.join(beyond)} table, so there is nothing to "
            f"rebuild from. {BEYOND_REPAIR}"
        )
        return
    found.missing_tables = missing
    if "sentences" in missing:
        found.problems.append(
            f"The database {path} has no sentences table (it was dropped). Run "
            "`qa check --repair` to make it again and embed every article's sentences again."
        )
    if "chunks_fts" in missing:
        found.rebuild_keywords = True
        found.problems.append(f"The database {path} has no keyword index table. {REPAIR}")
    for key in META_NUMBERS:
        try:
            store.int_meta(key)
        except QAError as error:
            found.meta_reset.append(key)
            found.problems.append(str(error))
    chunk_ids = [int(row[0]) for row in db.execute("SELECT id FROM chunks ORDER BY id")]
    if not _check_config(store, found, bool(chunk_ids)):
        return
    _check_articles(store, found)
    _check_chunks(store, found)
    if "sentences" not in missing:
        _check_rows(store, found, _sentence_format(store, found))
    if "chunks_fts" not in missing:
        _check_keywords(store, found, chunk_ids)
    if not found.meta_reset:  # the FAISS file is keyed by the generation
        _check_vector_file(store, found, chunk_ids)
    _check_keyword_cache(store, found)


def _check_config(store: IndexFolder, found: Findings, has_chunks: bool) -> bool:
    """Compare config.json with the database's copy; False when nothing more can be checked."""
    path = store.folder / CONFIG_FILE
    recorded = store.recorded_config()
    damaged = False
    trouble: str | None
    try:
        on_disk = store.config_file()
    except IndexConfigError as error:
        on_disk, trouble, damaged = None, error.what, True
    else:
        trouble = None if on_disk is not None else f"{path} is missing."
    if on_disk is not None and recorded is not None and not same_config(on_disk, recorded):
        if same_config(on_disk, recorded, layout=False):
            # A write records the new layout in config.json a moment before the database's
            # copy: one interrupted in between leaves this. The vector file is rebuilt to fit.
            found.config_restore = True
            found.notes.append(
                f"{path} records another vector index layout than the database's copy (a write "
                "was interrupted); `qa check --repair` writes the copy back."
            )
        else:
            trouble = (
                f"{path} differs from the copy the database keeps (changed by another program, "
                "or damaged)."
            )
    if trouble is None:
        if recorded is None and has_chunks:
            found.config_record = True
            found.notes.append(
                "The database keeps no copy of config.json yet (the index was written by an "
                "older article-qa); `qa check --repair` records one, so a lost config can be "
                "rebuilt."
            )
        return True
    if recorded is not None:
        found.config_restore = True
        found.problems.append(
            f"{trouble} Run `qa check --repair` to write it again from the copy the database "
            f"keeps (model {recorded.model!r})."
        )
        return True
    if has_chunks:
        found.beyond_repair = True
        found.problems.append(
            f"{trouble} The database keeps no copy of it, so nobody knows which model built the "
            "stored vectors: ingest your articles again into a new index folder."
        )
    elif damaged:
        found.problems.append(
            f"{trouble} The index holds no articles: delete {path}, then ingest your articles."
        )
    else:
        found.notes.append("The index is empty: add articles with `qa ingest PATH`.")
    return False


def _check_articles(store: IndexFolder, found: Findings) -> None:
    """Each article's stored title, text and metadata against its content hash."""
    rows = store.db.execute(
        "SELECT id, title, text, source, url, date, author, content_hash FROM articles ORDER BY id"
    )
    for article_id, title, text, source, url, date, author, recorded in rows:
        fields = (article_id, title, text, source)
        optional = (url, date, author)
        if all(isinstance(v, str) for v in fields) and all(
            v is None or isinstance(v, str) for v in optional
        ):
            now = Article(article_id, title, text, source, url, date, author).content_hash
            if now == recorded:
                continue
        else:
            now = ""
        found.unverified.append(
            Unverified(
                str(article_id), str(title)[:80], str(source), frozenset({str(recorded), now})
            )
        )
    if found.unverified:
        first = found.unverified[0]
        count = len(found.unverified)
        found.problems.append(
            f"The stored text of {plural(count, 'article')} {_verb(count, 'does', 'do')} not "
            f"match the content hash recorded at ingest (e.g. {first.title!r} ({first.id}), "
            f"from {first.source}): it was damaged. Run `qa check --repair` to read "
            f"{_verb(count, 'it', 'them')} again from the source, which is used only if it "
            "still matches the hash (else the article is removed, to be ingested again)."
        )


def _check_chunks(store: IndexFolder, found: Findings) -> None:
    db = store.db
    orphans = [
        int(row[0])
        for row in db.execute(
            "SELECT c.id FROM chunks c LEFT JOIN articles a ON a.id = c.article_id "
            "WHERE a.id IS NULL"
        )
    ]
    if orphans:
        found.orphans = len(orphans)
        found.problems.append(
            f"{plural(len(orphans), 'chunk')} {_verb(len(orphans), 'belongs', 'belong')} to no "
            f"article (chunk {_ids(orphans)}). "
            "Run `qa check --repair` to delete them."
        )
    if "sentences" not in found.missing_tables:
        orphan_sentences = store.orphan_sentences()
        if orphan_sentences:
            found.orphan_sentences = orphan_sentences
            found.problems.append(
                f"{plural(orphan_sentences, 'sentence vector')} "
                f"{_verb(orphan_sentences, 'belongs', 'belong')} to no chunk. "
                "Run `qa check --repair` to delete them."
            )
    # substr() counts characters (code points), as Python's slicing does; offsets are 0-based.
    sliced = db.execute(
        "SELECT a.id, a.title, c.seq, c.start, c.end FROM chunks c JOIN articles a "
        "ON a.id = c.article_id WHERE c.start < 0 OR c.end > length(a.text) OR c.start > c.end "
        "OR substr(a.text, c.start + 1, c.end - c.start) IS NOT c.text ORDER BY a.id, c.seq"
    ).fetchall()
    if sliced:
        articles = sorted({str(row[0]) for row in sliced})
        article_id, title, seq, start, end = sliced[0]
        found.reindex.update(articles)
        found.problems.append(
            f"{plural(len(sliced), 'chunk')} of {plural(len(articles), 'article')} "
            f"{_verb(len(sliced), 'does', 'do')} not match "
            f"the article text at their offsets (e.g. {title!r} ({article_id}), chunk {seq}, "
            f"chars {start}-{end}). Run `qa check --repair` to re-chunk and re-embed "
            f"{'it' if len(articles) == 1 else 'them'} from the stored article text."
        )
    empty = [
        str(row[0])
        for row in db.execute(
            "SELECT a.id FROM articles a WHERE NOT EXISTS "
            "(SELECT 1 FROM chunks c WHERE c.article_id = a.id) ORDER BY a.id"
        )
    ]
    if empty:
        found.reindex.update(empty)
        found.problems.append(
            f"{plural(len(empty), 'article')} {_verb(len(empty), 'has', 'have')} no chunks, so "
            f"{_verb(len(empty), 'it', 'they')} cannot be found ({_ids(empty)}). "
            "Run `qa check --repair` to chunk and embed them again."
        )


def _sentence_format(store: IndexFolder, found: Findings) -> str | None:
    """The format the database records for its sentence vectors (None: one this version cannot
    read, a problem), with a note when it is the float32 of indexes made before compact ones."""
    recorded = store.get_meta(SENTENCE_FORMAT_KEY)
    name = recorded or vector_format.LEGACY_FORMAT
    if name not in vector_format.FORMATS:
        found.problems.append(
            f"The sentence vectors are stored as {name!r}, which this article-qa cannot read "
            f"(it reads {', '.join(vector_format.FORMATS)}): the index was written by a newer "
            "version. Upgrade article-qa, or ingest your articles again into a new index folder."
        )
        return None
    if recorded is None and store.count_sentences():
        config = store.config
        assert config is not None
        compact = vector_format.DEFAULT_SENTENCE_FORMAT
        found.notes.append(
            f"Sentence vectors are stored as {name} "
            f"({vector_format.blob_bytes(name, config.dimension)} bytes each), as in indexes "
            f"made before compact vectors; a new index stores them as {compact} "
            f"({vector_format.blob_bytes(compact, config.dimension)} bytes): ingest into a new "
            "folder to shrink this one."
        )
    return name


def _check_rows(store: IndexFolder, found: Findings, sentence_format: str | None) -> None:
    """Vectors (finite, unit length) and each article's rows against their recorded digest.
    Sentence vectors are read in ``sentence_format`` (None: unreadable, only digested)."""
    config = store.config
    assert config is not None
    db = store.db
    recorded = store.digests()
    bad_chunks: list[tuple[str, int]] = []  # (article id, chunk id)
    bad_sentences: list[tuple[str, int]] = []
    changed: list[str] = []
    pending: list[tuple[str, int, object]] = []  # vectors waiting for a batch check
    pending_sentences: list[tuple[str, int, object]] = []

    wrong_size: list[tuple[str, int]] = []  # chunk vectors of another length than the model's
    wrong_size_sentences: list[tuple[str, int]] = []  # not the size of the recorded format
    width = vector_bytes(config.dimension)
    sentence_width = vector_bytes(config.dimension, sentence_format or vector_format.FLOAT32)

    def flush(rows: list[tuple[str, int, object]], bad: list[tuple[str, int]]) -> None:
        sentences = bad is bad_sentences
        if sentences and sentence_format is None:
            rows.clear()
            return
        size = sentence_width if sentences else width
        dtype = sentence_format if sentences and sentence_format else vector_format.FLOAT32
        for n in vector_faults([row[2] for row in rows], config.dimension, dtype):
            blob = rows[n][2]
            sized = isinstance(blob, bytes) and len(blob) == size
            (bad if sized else wrong_size_sentences if sentences else wrong_size).append(
                rows[n][:2]
            )
        rows.clear()

    digest: RowsDigest | None = None
    current: str | None = None

    def close(article_id: str | None) -> None:
        if article_id is None or digest is None:
            return
        expected = recorded.get(article_id)
        if expected is None:
            found.undigested.append(article_id)
        elif expected != digest.hexdigest():
            changed.append(article_id)

    chunk_columns = ", ".join(f"c.{name}" for name in CHUNK_DIGEST_COLUMNS)
    sentence_columns = ", ".join(SENTENCE_DIGEST_COLUMNS)
    chunks = db.execute(
        f"SELECT c.article_id, c.id, {chunk_columns} FROM chunks c JOIN articles a "
        "ON a.id = c.article_id ORDER BY c.article_id, c.seq, c.id"
    )
    for article_id, chunk_id, *values in chunks:
        if article_id != current:
            close(current)
            current, digest = str(article_id), RowsDigest()
        assert digest is not None
        digest.chunk(values)
        pending.append((str(article_id), int(chunk_id), values[-1]))
        sentences = db.execute(
            f"SELECT {sentence_columns} FROM sentences WHERE chunk_id = ? "
            "ORDER BY start, end, embed_hash, vector",
            (chunk_id,),
        )
        for sentence in sentences:
            digest.sentence(sentence)
            pending_sentences.append((str(article_id), int(chunk_id), sentence[-1]))
        if len(pending) >= SCAN_ROWS:
            flush(pending, bad_chunks)
        if len(pending_sentences) >= SCAN_ROWS:
            flush(pending_sentences, bad_sentences)
    close(current)
    flush(pending, bad_chunks)
    flush(pending_sentences, bad_sentences)
    if wrong_size:
        found.reindex.update(article for article, _ in wrong_size)
        found.problems.append(
            f"{plural(len(wrong_size), 'chunk')} "
            f"{_verb(len(wrong_size), 'holds a vector', 'hold vectors')} of the wrong size "
            f"(expected {config.dimension} numbers for the model {config.model!r}; chunk "
            f"{_ids([chunk for _, chunk in wrong_size])}). Run `qa check --repair` to embed "
            f"{_verb(len(wrong_size), 'it', 'them')} again."
        )
    if wrong_size_sentences:
        found.reindex.update(article for article, _ in wrong_size_sentences)
        owners = sorted({chunk for _, chunk in wrong_size_sentences})
        count = len(wrong_size_sentences)
        found.problems.append(
            f"{plural(count, 'sentence vector')} {_verb(count, 'has', 'have')} the wrong size "
            f"(expected {sentence_width} bytes: {config.dimension} numbers as {sentence_format}; "
            f"chunk {_ids(owners)}). Run `qa check --repair` to embed "
            f"{_verb(len(owners), 'it', 'them')} again."
        )
    if bad_chunks or bad_sentences:
        articles = sorted({article for article, _ in bad_chunks + bad_sentences})
        found.reindex.update(articles)
        parts = []
        if bad_chunks:
            parts.append(f"{plural(len(bad_chunks), 'chunk vector')} (chunk "
                         f"{some_ids([c for _, c in bad_chunks])})")  # fmt: skip
        if bad_sentences:
            parts.append(f"{plural(len(bad_sentences), 'sentence vector')} (of chunk "
                         f"{some_ids(sorted({c for _, c in bad_sentences}))})")  # fmt: skip
        found.problems.append(
            f"{' and '.join(parts)} of {plural(len(articles), 'article')} "
            f"{_verb(len(bad_chunks) + len(bad_sentences), 'is', 'are')} not "
            f"{config.dimension} finite numbers of unit length (damaged). Run "
            "`qa check --repair` to embed them again."
        )
    changed = [article for article in changed if article not in found.reindex]
    # (an article flagged above for its vectors has, of course, other rows than recorded)
    if changed:
        found.reindex.update(changed)
        found.problems.append(
            f"The chunk and sentence rows (vectors, offsets) of {plural(len(changed), 'article')} "
            f"do not match the digest recorded when they were written ({_ids(changed)}): they "
            "were damaged. Run `qa check --repair` to chunk and embed them again from the "
            "stored text."
        )
    if found.undigested:
        found.notes.append(
            f"{plural(len(found.undigested), 'article')} "
            f"{_verb(len(found.undigested), 'was', 'were')} written before article-qa recorded "
            "digests of chunk rows: their vectors are checked for finite values and unit length "
            "only. `qa check --repair` records digests of the rows as they are now."
        )


def _check_keywords(store: IndexFolder, found: Findings, chunk_ids: list[int]) -> None:
    db = store.db
    try:
        rows = {int(row[0]) for row in db.execute("SELECT rowid FROM chunks_fts")}
        differ = [
            int(row[0])
            for row in db.execute(
                "SELECT c.id FROM chunks c JOIN chunks_fts f ON f.rowid = c.id "
                "JOIN articles a ON a.id = c.article_id "
                "WHERE f.text IS NOT c.text OR f.title IS NOT a.title ORDER BY c.id"
            )
        ]
        # FTS5's own check: the inverted index agrees with the text it stores.
        db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
    except sqlite3.DatabaseError as error:
        found.rebuild_keywords = True
        found.problems.append(f"The keyword index cannot be read ({error}). {REPAIR}")
        return
    missing = sorted(set(chunk_ids) - rows)
    extra = sorted(rows - set(chunk_ids))
    if missing or extra or differ:
        found.rebuild_keywords = True
        parts = []
        if missing:
            parts.append(f"misses {plural(len(missing), 'chunk')} ({_ids(missing)})")
        if extra:
            parts.append(f"has {len(extra)} rows for chunks that do not exist ({some_ids(extra)})")
        if differ:
            parts.append(f"has other text than {plural(len(differ), 'chunk')} ({some_ids(differ)})")
        found.problems.append(f"The keyword index {' and '.join(parts)}. {REPAIR}")


def _check_vector_file(store: IndexFolder, found: Findings, chunk_ids: list[int]) -> None:
    config = store.config
    assert config is not None
    path = store.folder / VECTORS_FILE
    recorded = store.get_meta("faiss_generation")
    if recorded != str(store.generation):
        stored = _vector_count(path, config.dimension) if not chunk_ids else None
        if stored:
            found.stray_vectors = True
            found.problems.append(
                f"{path.name} holds {plural(stored, 'vector')} but the database has no chunks: "
                f"the database was lost or replaced. The articles cannot be rebuilt from "
                "vectors: ingest them again (`qa ingest PATH`); `qa check --repair` deletes the "
                "stray vector file."
            )
        elif chunk_ids:
            found.vectors_stale = True
            found.notes.append(
                f"{path.name} is older than the database (an ingest or removal was interrupted): "
                "the index rebuilds it from the database each time it opens, until the next "
                "ingest or `qa check --repair` saves it."
            )
        return
    if not path.exists():
        found.rebuild_vectors = True
        found.problems.append(f"{path} is missing. {REPAIR}")
        return
    if not caches.vector_file_intact(store.folder, store, full=True):
        found.rebuild_vectors = True
        found.problems.append(
            f"{path} does not match its recorded SHA-256 checksum (it was damaged or changed by "
            f"another program). {REPAIR}"
        )
        return
    try:
        vectors = VectorIndex.load(path, config.dimension)
        stored_ids = vectors.ids().tolist()
    except Exception as error:  # faiss raises RuntimeError, ValueError, ...
        found.rebuild_vectors = True
        found.problems.append(f"{path} cannot be read ({error}). {REPAIR}")
        return
    missing = sorted(set(chunk_ids) - set(stored_ids))
    extra = sorted(set(stored_ids) - set(chunk_ids))
    if missing or extra or len(stored_ids) != len(chunk_ids):
        found.rebuild_vectors = True
        found.problems.append(
            f"{path.name} does not match the database: it holds {len(stored_ids)} vectors for "
            f"{plural(len(chunk_ids), 'chunk')}; {plural(len(missing), 'chunk')} "
            f"{_verb(len(missing), 'has', 'have')} no vector ({some_ids(missing) or 'none'}), "
            f"{plural(len(extra), 'vector')} {_verb(len(extra), 'has', 'have')} no chunk "
            f"({some_ids(extra) or 'none'}). {REPAIR}"
        )


def _vector_count(path: Path, dimension: int) -> int:
    """How many vectors a FAISS file holds (0 when there is none, or it cannot be read)."""
    if not path.exists():
        return 0
    try:
        return len(VectorIndex.load(path, dimension))
    except Exception:  # a damaged stray file holds nothing usable either
        return 1 if path.stat().st_size else 0


def _check_keyword_cache(store: IndexFolder, found: Findings) -> None:
    name = caches.keywords_name(store)
    if name is None or not (store.folder / name).is_dir():
        return
    if not caches.keywords_intact(store.folder, store, name, full=True):
        found.rebuild_keyword_cache = True
        found.problems.append(
            f"The keyword cache {store.folder / name} does not match the checksums recorded "
            f"when it was built (damaged). {REPAIR}"
        )


def report(store: IndexFolder, found: Findings, repaired: list[str]) -> CheckReport:
    try:
        articles, chunks = store.count_articles(), store.count_chunks()
    except sqlite3.DatabaseError:
        articles = chunks = 0
    return CheckReport(
        index_dir=str(store.folder),
        articles=articles,
        chunks=chunks,
        problems=found.problems,
        notes=found.notes,
        repaired=repaired,
    )


def check_index(store: IndexFolder) -> CheckReport:
    """Check the index ``store`` holds; read-only. ``Assistant.check`` calls this with the
    write lock held, so the FAISS file cannot change under it."""
    with store.snapshot():
        return report(store, examine(store), [])
