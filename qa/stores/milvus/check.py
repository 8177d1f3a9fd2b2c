"""``qa check`` on a Milvus store: what an interrupted write can leave behind, and its repair.

Milvus has no transactions, so ``MilvusStore.put_article`` orders its writes (new chunks, then
deleting the old version's, then the article's text, then the article row as the commit marker;
see there). A process
killed in between leaves one of these, each found here and repaired without the model:

- chunks whose article row is missing (a new article interrupted, its file since deleted):
  searchable text no article lists. Repair deletes them, and the article's text if it was
  written.
- chunks of an older version next to the new one (an update interrupted before the delete):
  a search could cite the old text. Repair deletes the version the article row does not name.
- an article whose row counts other chunks than it has (e.g. a removal interrupted): repair
  marks it changed, so the next ``qa ingest`` of its file writes it again (a note says so).
- a chunk whose text is not ``end - start`` characters long: offsets that cannot be right.
  Repair deletes it and marks its article changed, as above.
- sentence rows whose chunk is gone (a write interrupted between deleting old chunks and their
  sentences): never searched, but stored. Repair deletes them.
- a chunk or sentence vector that is not finite numbers of unit length (``vector_faults``, as
  the embedded store checks them): repair deletes the chunk and marks its article changed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np

from qa.stores.base import CheckReport, some_ids
from qa.stores.embedded.integrity import vector_faults
from qa.stores.milvus.schema import Collections
from qa.wording import plural


def _examine(milvus: Collections) -> dict[str, Any]:
    articles = {
        str(row["article_id"]): row
        for row in milvus.scan(milvus.articles, ["article_id", "content_hash", "chunks", "source"])
    }
    orphans: list[int] = []
    stale: list[int] = []
    bad_offsets: list[int] = []
    damaged: set[str] = set()  # articles with a chunk whose offsets are wrong
    current: Counter[str] = Counter()
    chunk_ids: set[int] = set()
    vectors: list[tuple[int, bytes]] = []  # (chunk id, a chunk's or a sentence's vector)
    article_of: dict[int, str] = {}
    for row in milvus.scan(
        milvus.chunks, ["chunk_id", "article_id", "content_hash", "start", "end", "text", "dense"]
    ):
        chunk_id, article_id = int(row["chunk_id"]), str(row["article_id"])
        article_of[chunk_id] = article_id
        vectors.append((chunk_id, _vector_bytes(row["dense"])))
        chunk_ids.add(chunk_id)
        article = articles.get(article_id)
        if article is None:
            orphans.append(chunk_id)
        elif article["content_hash"] == "":  # marked changed by a repair: re-ingest pending
            pass
        elif row["content_hash"] != article["content_hash"]:
            stale.append(chunk_id)
        else:
            current[article_id] += 1
        if len(str(row["text"])) != int(row["end"]) - int(row["start"]):
            bad_offsets.append(chunk_id)
            if article is not None:
                damaged.add(article_id)
    orphan_sentences: list[int] = []
    for row in milvus.scan(milvus.sentences, ["sentence_id", "chunk_id", "dense"]):
        if int(row["chunk_id"]) not in chunk_ids:
            orphan_sentences.append(int(row["sentence_id"]))
        else:
            vectors.append((int(row["chunk_id"]), _vector_bytes(row["dense"])))
    faults = vector_faults([blob for _, blob in vectors], milvus.dimension)
    bad_vectors = sorted({vectors[n][0] for n in faults})
    damaged.update(article_of[chunk] for chunk in bad_vectors if article_of[chunk] in articles)
    # Texts are written after the chunks, so text of no article comes with orphan chunks.
    orphan_texts = sorted(
        {str(row["article_id"]) for row in milvus.scan(milvus.texts, ["article_id"])}
        - articles.keys()
    )
    pending = sorted(a for a, row in articles.items() if row["content_hash"] == "")
    miscounted = sorted(
        a for a, row in articles.items() if int(row["chunks"]) != current[a] and a not in pending
    )
    return {
        "pending": pending,
        "articles": articles,
        "orphans": orphans,
        "orphan_sentences": orphan_sentences,
        "orphan_texts": orphan_texts,
        "stale": stale,
        "bad_offsets": bad_offsets,
        "bad_vectors": [chunk for chunk in bad_vectors if chunk not in bad_offsets],
        "damaged": sorted(damaged),
        "miscounted": miscounted,
    }


def _problems(found: dict[str, Any]) -> list[str]:
    problems = []
    if found["orphans"]:
        problems.append(
            f"{plural(len(found['orphans']), 'chunk')} belong to no article (an interrupted "
            f"ingest): {some_ids(found['orphans'])}. Run `qa check --repair` to delete them."
        )
    if found["orphan_sentences"]:
        problems.append(
            f"{plural(len(found['orphan_sentences']), 'sentence vector')} of no chunk (an "
            "interrupted update). Run `qa check --repair` to delete them."
        )
    if found["stale"]:
        problems.append(
            f"{plural(len(found['stale']), 'chunk')} of older article versions are still "
            f"searchable (an interrupted update): {some_ids(found['stale'])}. Run `qa check "
            "--repair` to delete them."
        )
    if found["miscounted"]:
        problems.append(
            f"{plural(len(found['miscounted']), 'article')} do not have the chunks their row "
            f"records: {some_ids(found['miscounted'])}. Run `qa check --repair`, then `qa ingest` "
            "their files again."
        )
    if found["bad_offsets"]:
        problems.append(
            f"{plural(len(found['bad_offsets']), 'chunk')} have offsets that do not match "
            f"their text: {some_ids(found['bad_offsets'])}. Run `qa check --repair`, then "
            "`qa ingest` their files again."
        )
    if found["bad_vectors"]:
        problems.append(
            f"{plural(len(found['bad_vectors']), 'chunk')} hold a chunk or sentence vector that "
            f"is not finite numbers of unit length (damaged): {some_ids(found['bad_vectors'])}. "
            "Run `qa check --repair`, then `qa ingest` their files again."
        )
    return problems


def _vector_bytes(value: Any) -> bytes:
    return np.asarray(value, dtype=np.float32).tobytes()


def _pending_note(found: dict[str, Any]) -> list[str]:
    if not found["pending"]:
        return []
    sources = sorted({str(found["articles"][a]["source"]) for a in found["pending"]})
    return [
        f"{plural(len(found['pending']), 'article')} wait to be ingested again (marked by a "
        f"repair): qa ingest {' '.join(sources[:3])}{' …' if len(sources) > 3 else ''}"
    ]


def _report(milvus: Collections, found: dict[str, Any], repaired: list[str]) -> CheckReport:
    return CheckReport(
        index_dir=str(milvus.index_dir or ""),
        articles=milvus.count_articles(),
        chunks=milvus.count_chunks(),
        problems=_problems(found),
        notes=[f"store: {milvus.uri}", *_pending_note(found)],
        repaired=repaired,
    )


def check_milvus(milvus: Collections) -> CheckReport:
    """Check a Milvus store; read-only (``MilvusStore.check``)."""
    return _report(milvus, _examine(milvus), [])


def repair_milvus(milvus: Collections) -> CheckReport:
    """Delete orphan and stale chunks; mark miscounted articles changed; check again
    (``MilvusStore.repair``)."""
    found = _examine(milvus)
    repaired: list[str] = []
    for key, what in (
        ("orphans", "that belonged to no article"),
        ("stale", "of old versions"),
        ("bad_offsets", "with wrong offsets"),
        ("bad_vectors", "with damaged vectors"),
    ):
        if found[key]:
            milvus.delete_chunks(found[key])
            repaired.append(f"deleted {plural(len(found[key]), 'chunk')} {what}")
    if found["orphan_texts"]:  # an interrupted new article's text: never read, not reported
        milvus.delete_texts(found["orphan_texts"])
    # After the chunk deletions above: their sentences went with them.
    if found["orphan_sentences"]:
        milvus.delete_sentences(found["orphan_sentences"])
        repaired.append(
            f"deleted {plural(len(found['orphan_sentences']), 'sentence vector')} of no chunk"
        )
    changed = sorted(set(found["miscounted"]) | set(found["damaged"]))
    if changed:
        sources = sorted({str(found["articles"][article_id]["source"]) for article_id in changed})
        milvus.mark_changed(changed)
        repaired.append(
            f"marked {plural(len(changed), 'article')} changed: the next `qa ingest` of "
            f"{some_ids(sources)} writes them again"
        )
    if repaired:
        milvus.flush()
    after = check_milvus(milvus)
    # The report is the state after repair, plus what the repair did.
    return replace(after, repaired=repaired)
