"""``qa check --repair``: rebuild what ``check`` found broken, from what can still be trusted.

- Derived data (the FAISS file, the keyword index and its cache, a dropped sentences table,
  config.json from the database's copy, a non-number in ``meta``) is rebuilt from the database.
- Chunks whose rows are damaged are re-chunked and re-embedded from the stored article text,
  which is used only when it matches its content hash.
- An article whose stored text fails its hash is read again from its source (file or web
  address: ``recover``) and restored only if the source still matches the hash; otherwise it is
  removed, and the report says which to ingest again. Repair never re-chunks damaged text.

The functions take the index folder (``folder.IndexFolder``; ``EmbeddedStore.repair`` calls
them); re-chunking and re-embedding are the pipeline's, passed in as ``reindex``, and re-reading
as ``recover``.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from typing import TYPE_CHECKING

from qa.config import config_json, write_config
from qa.stores.base import CheckReport, Recover, Reindex
from qa.stores.embedded import caches
from qa.stores.embedded.check import Findings, check_index, examine, plural, report
from qa.stores.embedded.integrity import CHUNK_DIGEST_COLUMNS, SENTENCE_DIGEST_COLUMNS, RowsDigest
from qa.stores.embedded.sqlite import SCHEMA
from qa.types import Article

if TYPE_CHECKING:
    from qa.stores.embedded.folder import IndexFolder


def repair_index(
    store: IndexFolder, reindex: Reindex, recover: Recover | None, reindexed: bool = False
) -> CheckReport:
    """Rebuild what can be rebuilt, then check again (``Assistant.repair`` calls this with the
    write lock held). Re-chunking loads the model; the rest does not."""
    with store.snapshot():
        found = examine(store)
    repaired: list[str] = []
    for path in found.leftovers:  # no writer runs: we hold the write lock
        if path.is_dir():  # a cache written as a folder, then renamed
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if found.leftovers:
        repaired.append(f"deleted {plural(len(found.leftovers), 'temporary file')}")
    if found.reindex_sqlite and not reindexed:
        try:
            store.db.execute("REINDEX")
        except sqlite3.DatabaseError:  # the tables are damaged too: the report says so
            return report(store, found, repaired)
        again = repair_index(store, reindex, recover, True)  # now the rest can be checked
        return replace(again, repaired=[*repaired, "rebuilt the database's lookup indexes",
                                        *again.repaired])  # fmt: skip
    if found.beyond_repair or found.reindex_sqlite:  # (still damaged after a REINDEX)
        return report(store, found, repaired)
    _repair_tables(store, found, repaired)
    _repair_config(store, found, repaired)
    if store.config is None:
        return report(store, found, repaired)
    if found.orphans:
        store.delete_orphan_chunks()
        repaired.append(f"deleted {plural(found.orphans, 'chunk')} that belonged to no article")
    if found.orphan_sentences:
        store.delete_orphan_sentences()
        repaired.append(
            f"deleted {plural(found.orphan_sentences, 'sentence vector')} that belonged to no chunk"
        )
    restored = _recover_articles(store, found, recover, repaired)
    rechunk = found.rechunk
    if "sentences" in found.missing_tables:  # every article's sentences must be embedded again
        rechunk |= {article.id for article in store.list_articles()}
        rechunk -= {article.id for article in found.unverified}
    if rechunk or restored:
        count = store.reindex_articles(sorted(rechunk), reindex, restored)
        what = []
        if restored:
            what.append(f"restored {plural(len(restored), 'article')} from the source")
        if rechunk:
            what.append(f"re-chunked and re-embedded {plural(len(rechunk), 'article')}")
        repaired.append(f"{' and '.join(what)} ({plural(count, 'chunk')})")
    undigested = sorted(set(found.undigested) - rechunk)
    if undigested:
        _record_digests(store, undigested)
        repaired.append(f"recorded digests of the rows of {plural(len(undigested), 'article')}")
    rewritten = bool(rechunk or restored or found.orphans or found.unverified)
    if found.rebuild_keywords or rewritten:
        rows = store.rebuild_keyword_index()
        repaired.append(f"rebuilt the keyword index ({plural(rows, 'chunk')})")
    if (
        found.rebuild_vectors
        or found.vectors_stale
        or found.stray_vectors
        or found.rebuild_keyword_cache
        or found.meta_reset
        or found.config_restore
        or found.config_record
        or rewritten
    ):
        # Saves the config's copy and refreshes the keyword cache too.
        count = store.rebuild_vectors(keywords=found.rebuild_keyword_cache)
        repaired.append(f"rebuilt vectors.faiss from the database ({plural(count, 'vector')})")
    after = check_index(store)
    # The report is the state after repair, plus what the repair did.
    return replace(after, repaired=repaired)


def _repair_tables(store: IndexFolder, found: Findings, repaired: list[str]) -> None:
    db = store
    if found.missing_tables:
        db.db.executescript(f"BEGIN IMMEDIATE;{SCHEMA}COMMIT;")  # CREATE ... IF NOT EXISTS
        repaired.append(f"made the {' and '.join(found.missing_tables)} table again")
    if found.meta_reset:
        with db.transaction():
            faiss = db.get_meta("faiss_generation") or ""
            # A generation the FAISS file does not claim: it is rebuilt below.
            db.set_meta("generation", str((int(faiss) if faiss.isdigit() else 0) + 1))
            db.db.execute("DELETE FROM meta WHERE key = 'next_chunk_id'")  # recomputed from ids
        repaired.append(f"reset {' and '.join(found.meta_reset)} in the database's meta table")


def _repair_config(store: IndexFolder, found: Findings, repaired: list[str]) -> None:
    recorded = store.recorded_config()
    if found.config_restore and recorded is not None:
        write_config(store.folder, recorded)
        store.forget_config()
        repaired.append(
            f"wrote config.json again from the database's copy (model {recorded.model!r})"
        )
    elif found.config_record and store.config is not None:
        with store.transaction():
            store.set_meta(caches.CONFIG_COPY, config_json(store.config))
        repaired.append("recorded a copy of config.json in the database")


def _recover_articles(
    store: IndexFolder, found: Findings, recover: Recover | None, repaired: list[str]
) -> list[Article]:
    """Articles whose stored text fails its hash: read again from the source when it still
    matches, else removed (the report names each, and the source to ingest again)."""
    restored: list[Article] = []
    for damaged in found.unverified:
        article = recover(damaged.id, damaged.source, damaged.hashes) if recover else None
        if article is not None and article.id == damaged.id:
            restored.append(article)
            continue
        with store.transaction():
            store.delete_article(damaged.id)
        repaired.append(
            f"removed {damaged.title!r} ({damaged.id}): its stored text was damaged and its "
            f"source no longer matches it; ingest it again: qa ingest {damaged.source}"
        )
    return restored


def _record_digests(store: IndexFolder, article_ids: list[str]) -> None:
    """Record the digest of the rows as they are now (articles written before digests)."""
    db = store
    chunk_columns = ", ".join(CHUNK_DIGEST_COLUMNS)
    sentence_columns = ", ".join(SENTENCE_DIGEST_COLUMNS)
    with db.transaction():
        for article_id in article_ids:
            digest = RowsDigest()
            chunks = db.db.execute(
                f"SELECT id, {chunk_columns} FROM chunks WHERE article_id = ? ORDER BY seq, id",
                (article_id,),
            ).fetchall()
            for chunk_id, *values in chunks:
                digest.chunk(values)
                for sentence in db.db.execute(
                    f"SELECT {sentence_columns} FROM sentences WHERE chunk_id = ? "
                    "ORDER BY start, end, embed_hash, vector",
                    (chunk_id,),
                ):
                    digest.sentence(sentence)
            db.record_digest(article_id, digest.hexdigest())
