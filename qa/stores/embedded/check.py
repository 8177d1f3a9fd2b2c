"""``qa check``: verify an index folder, and rebuild what can be rebuilt from its database.

SQLite is the source of truth (articles, chunks with offsets and vectors); the FAISS file and the
FTS5 keyword table are derived from it, so both can always be rebuilt. What is checked:

- the database passes SQLite's own ``PRAGMA integrity_check``;
- the config is readable and every stored vector has the config's dimension;
- every chunk belongs to an article and ``article.text[start:end] == chunk.text``;
- every sentence vector belongs to a chunk and has the size of the format the database records
  (``qa.stores.vector_format``: float32 before issue 26, int8 since);
- the keyword index holds exactly the chunks, with their text;
- the FAISS file, when the database records it as current, has the recorded SHA-256 and holds
  exactly the chunk ids (a file left behind by an interrupted ingest is not a problem: it is
  rebuilt from the database when the index opens, and saved again by the next write).

Each problem is one line that says what is wrong and what to do.

    report = assistant.check()          # or: qa check --index index
    if not report.ok:
        report = assistant.repair()     # or: qa check --repair

The functions here take the ``EmbeddedStore`` (``EmbeddedStore.check`` / ``repair`` call them);
re-chunking and re-embedding is the pipeline's, passed in as ``reindex``.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embeddings import VectorIndex
from embeddings.index import file_sha256
from qa.layout import CONFIG_FILE, DB_FILE
from qa.stores import vector_format
from qa.stores.base import CheckReport, Reindex
from qa.stores.embedded.caches import VECTORS_FILE
from qa.stores.embedded.sqlite import SENTENCE_FORMAT_KEY

if TYPE_CHECKING:
    from qa.stores.embedded.store import EmbeddedStore

__all__ = ["CheckReport", "check_index", "plural", "repair_index", "some_ids"]

REPAIR = "Run `qa check --repair` to rebuild it from the database (nothing is lost)."
EXAMPLES = 3  # ids quoted in a message


@dataclass
class _Findings:
    """Problems, plus what ``repair`` needs to know about them."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    database_damaged: bool = False
    rebuild_vectors: bool = False
    rebuild_keywords: bool = False
    vectors_stale: bool = False  # left behind by an interrupted write: a note, not a problem
    reindex: set[str] = field(default_factory=set)  # article ids to re-chunk and re-embed
    leftovers: list[Path] = field(default_factory=list)  # temp files of interrupted writes
    orphans: int = 0
    orphan_sentences: int = 0


def some_ids(ids: list[Any]) -> str:
    shown = ", ".join(str(i) for i in ids[:EXAMPLES])
    return shown + (", …" if len(ids) > EXAMPLES else "")


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _ids(ids: list[Any]) -> str:
    return f"{'id' if len(ids) == 1 else 'ids'} {some_ids(ids)}"


def _verb(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _examine(store: EmbeddedStore) -> _Findings:
    found = _Findings()
    db = store.sqlite.db
    folder = store.folder
    # Atomic writes go through ".NAME.PID.tmp" files; one left behind is a killed or failed write.
    found.leftovers = sorted(folder.glob(".*.tmp"))
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
    try:
        verdict = [row[0] for row in db.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        verdict = [str(error)]
    if verdict != ["ok"]:
        found.database_damaged = True
        found.problems.append(
            f"The database {folder / DB_FILE} is damaged (SQLite reports: "
            f"{'; '.join(verdict[:EXAMPLES])}). It cannot be repaired in place: move the index "
            "folder away and ingest your articles again into a new one (your files are not "
            "affected)."
        )
        return found

    chunk_ids = [int(row[0]) for row in db.execute("SELECT id FROM chunks ORDER BY id")]
    config = store.config
    if config is None:
        if chunk_ids:
            found.problems.append(
                f"{folder / CONFIG_FILE} is missing, so nobody knows which model built the "
                f"{len(chunk_ids)} stored vectors. Ingest your articles again into a new index "
                "folder."
            )
        else:
            found.notes.append("The index is empty: add articles with `qa ingest PATH`.")
        return found

    _check_chunks(store, found)
    _check_sentences(store, found)
    _check_keywords(store, found, chunk_ids)
    _check_vector_file(store, found, chunk_ids)
    return found


def _check_chunks(store: EmbeddedStore, found: _Findings) -> None:
    db = store.sqlite.db
    assert store.config is not None
    dimension = store.config.dimension
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
    orphan_sentences = store.sqlite.orphan_sentences()
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
        "OR substr(a.text, c.start + 1, c.end - c.start) != c.text ORDER BY a.id, c.seq"
    ).fetchall()
    if sliced:
        articles = sorted({row[0] for row in sliced})
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
    wrong = db.execute(
        "SELECT c.article_id, c.id FROM chunks c WHERE length(c.vector) != ? ORDER BY c.id",
        (dimension * 4,),
    ).fetchall()
    if wrong:
        found.reindex.update(str(row[0]) for row in wrong)
        found.problems.append(
            f"{plural(len(wrong), 'chunk')} {_verb(len(wrong), 'holds a vector', 'hold vectors')} "
            f"of the wrong size (expected {dimension} numbers for the model "
            f"{store.config.model!r}; chunk {_ids([row[1] for row in wrong])}). "
            "Run `qa check --repair` to embed them again."
        )


def _check_sentences(store: EmbeddedStore, found: _Findings) -> None:
    """Sentence vectors are in the format the database records and of the model's size."""
    assert store.config is not None
    db = store.sqlite.db
    recorded = store.get_meta(SENTENCE_FORMAT_KEY)
    name = recorded or vector_format.LEGACY_FORMAT
    if name not in vector_format.FORMATS:
        found.problems.append(
            f"The sentence vectors are stored as {name!r}, which this article-qa cannot read "
            f"(it reads {', '.join(vector_format.FORMATS)}): the index was written by a newer "
            "version. Upgrade article-qa, or ingest your articles again into a new index folder."
        )
        return
    dimension = store.config.dimension
    size = vector_format.blob_bytes(name, dimension)
    wrong = db.execute(
        "SELECT c.article_id, s.chunk_id FROM sentences s JOIN chunks c ON c.id = s.chunk_id "
        "WHERE length(s.vector) != ? ORDER BY s.chunk_id",
        (size,),
    ).fetchall()
    if wrong:
        found.reindex.update(str(row[0]) for row in wrong)
        chunks = sorted({int(row[1]) for row in wrong})
        found.problems.append(
            f"{plural(len(wrong), 'sentence vector')} {_verb(len(wrong), 'has', 'have')} the "
            f"wrong size (expected {size} bytes: {dimension} numbers as {name}; chunk "
            f"{_ids(chunks)}). Run `qa check --repair` to embed {_verb(len(chunks), 'it', 'them')}"
            " again."
        )
    if recorded is None and store.sqlite.count_sentences():
        compact = vector_format.DEFAULT_SENTENCE_FORMAT
        found.notes.append(
            f"Sentence vectors are stored as {name} ({size} bytes each), as in indexes made "
            f"before compact vectors; a new index stores them as {compact} "
            f"({vector_format.blob_bytes(compact, dimension)} bytes): ingest into a new folder "
            "to shrink this one."
        )


def _check_keywords(store: EmbeddedStore, found: _Findings, chunk_ids: list[int]) -> None:
    db = store.sqlite.db
    try:
        rows = {int(row[0]) for row in db.execute("SELECT rowid FROM chunks_fts")}
        differ = [
            int(row[0])
            for row in db.execute(
                "SELECT c.id FROM chunks c JOIN chunks_fts f ON f.rowid = c.id "
                "WHERE f.text IS NOT c.text ORDER BY c.id"
            )
        ]
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


def _check_vector_file(store: EmbeddedStore, found: _Findings, chunk_ids: list[int]) -> None:

    assert store.config is not None
    path = store.folder / VECTORS_FILE
    recorded = store.get_meta("faiss_generation")
    if recorded != str(store.sqlite.generation):
        if chunk_ids:
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
    expected = store.get_meta("faiss_sha256")
    actual = file_sha256(path)
    if expected is not None and actual != expected:
        found.rebuild_vectors = True
        found.problems.append(
            f"{path} does not match its recorded SHA-256 checksum (it was damaged or changed by "
            f"another program). {REPAIR}"
        )
        return
    try:
        vectors = VectorIndex.load(path, store.config.dimension)
        stored = vectors.ids().tolist()
    except Exception as error:  # faiss raises RuntimeError, ValueError, ...
        found.rebuild_vectors = True
        found.problems.append(f"{path} cannot be read ({error}). {REPAIR}")
        return
    missing = sorted(set(chunk_ids) - set(stored))
    extra = sorted(set(stored) - set(chunk_ids))
    if missing or extra or len(stored) != len(chunk_ids):
        found.rebuild_vectors = True
        found.problems.append(
            f"{path.name} does not match the database: {plural(len(missing), 'chunk')} "
            f"{_verb(len(missing), 'has', 'have')} no vector ({some_ids(missing) or 'none'}), "
            f"{plural(len(extra), 'vector')} {_verb(len(extra), 'has', 'have')} no chunk "
            f"({some_ids(extra) or 'none'}). {REPAIR}"
        )


def _report(store: EmbeddedStore, found: _Findings, repaired: list[str]) -> CheckReport:
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


def check_index(store: EmbeddedStore) -> CheckReport:
    """Check the index ``store`` holds; read-only. ``Assistant.check`` calls this with the
    write lock held, so the FAISS file cannot change under it."""
    with store.sqlite.snapshot():
        return _report(store, _examine(store), [])


def repair_index(store: EmbeddedStore, reindex: Reindex) -> CheckReport:
    """Rebuild what can be rebuilt from the database, then check again (``Assistant.repair``
    calls this with the write lock held).

    Articles whose chunks are wrong are re-chunked and re-embedded from their stored text (this
    loads the model); the keyword index and the FAISS file are rebuilt from the chunks.
    """
    with store.sqlite.snapshot():
        found = _examine(store)
    repaired: list[str] = []
    for path in found.leftovers:  # no writer runs: we hold the write lock
        if path.is_dir():  # a cache written as a folder, then renamed
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if found.leftovers:
        repaired.append(f"deleted {plural(len(found.leftovers), 'temporary file')}")
    if found.database_damaged or store.config is None:
        return _report(store, found, repaired)
    if found.orphans:
        store.sqlite.delete_orphan_chunks()
        repaired.append(f"deleted {plural(found.orphans, 'chunk')} that belonged to no article")
    if found.orphan_sentences:
        store.sqlite.delete_orphan_sentences()
        repaired.append(
            f"deleted {plural(found.orphan_sentences, 'sentence vector')} that belonged to no chunk"
        )
    if found.reindex:
        count = store.reindex_articles(sorted(found.reindex), reindex)
        repaired.append(
            f"re-chunked and re-embedded {plural(len(found.reindex), 'article')} "
            f"({plural(count, 'chunk')})"
        )
    if found.rebuild_keywords or found.reindex or found.orphans:
        rows = store.sqlite.rebuild_keyword_index()
        repaired.append(f"rebuilt the keyword index ({plural(rows, 'chunk')})")
    if found.rebuild_vectors or found.reindex or found.orphans or found.vectors_stale:
        count = store.rebuild_vectors()
        repaired.append(f"rebuilt vectors.faiss from the database ({plural(count, 'vector')})")
    after = check_index(store)
    # The report is the state after repair, plus what the repair did.
    return replace(after, repaired=repaired)
