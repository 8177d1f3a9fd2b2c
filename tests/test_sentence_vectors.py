"""Sentence vectors (issue 15, phase 2): stored at ingest in both stores, next to the chunks,
replaced and removed with their article, read by the retriever's fusion and by answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings import HashEmbedder
from qa import Assistant
from qa.pipeline.chunking import embedding_text
from qa.pipeline.ingest import POOLED_CONTEXT_SHARE
from qa.pipeline.retrieval import CHUNK_FUSION, SENTENCE_FUSION, Retriever
from qa.pipeline.sentences import split_sentences
from qa.stores.base import SentenceRows, best_sentence_scores
from tests.conftest import MILVUS, source_text

HARBOUR = (
    "Harbour news\n\nThe harbour reopened on Monday after the storm. Fishing boats left at dawn. "
    "The mayor thanked the crews who cleared the wreckage.\n\nRepairs to the sea wall will take "
    "three months. The council voted to pay for them from the reserve fund."
)
BRIDGES = (
    "Bridges\n\nThe old bridge over the river was built in 1887. It carries two lanes of "
    "traffic. A footbridge opened next to it in 2019."
)


def expected_rows(assistant: Assistant, article_id: str) -> list[tuple[int, int, int]]:
    """(chunk id, start, end) of every sentence of every chunk of the article, as ingest
    should store them (sentences repeated by chunk overlap included)."""
    rows = []
    chunks = assistant.catalog.chunk_rows(article_id)
    for chunk_id, chunk in zip(assistant.catalog.chunk_ids(article_id), chunks, strict=True):
        for a, b in split_sentences(chunk.text):
            rows.append((chunk_id, chunk.start + a, chunk.start + b))
    return rows


def stored_rows(rows: SentenceRows) -> list[tuple[int, int, int]]:
    return list(zip(rows.chunk_ids.tolist(), rows.starts.tolist(), rows.ends.tolist(), strict=True))


def count_sentences(assistant: Assistant) -> int:
    return int(assistant.catalog.count_sentences())  # type: ignore[attr-defined]


def ingest_both(assistant: Assistant, write) -> list[int]:  # type: ignore[no-untyped-def]
    """Index HARBOUR and BRIDGES; every chunk id of both."""
    write("harbour.txt", HARBOUR)
    write("bridges.txt", BRIDGES)
    assistant.ingest([write.base])
    return [i for a in assistant.articles() for i in assistant.catalog.chunk_ids(a.id)]


def test_sentence_vectors_are_added_replaced_and_removed_with_their_article(
    assistant_on_each_store: Assistant, embedder: HashEmbedder, write
) -> None:
    assistant = assistant_on_each_store
    path = write("harbour.txt", HARBOUR)
    write("bridges.txt", BRIDGES)
    assistant.ingest([write.base])
    store = assistant.retriever.sentences
    assert store is not None
    (harbour,) = assistant.catalog.ids_by_source(str(path.resolve()))
    (bridges,) = {a.id for a in assistant.articles()} - {harbour}

    # Added: every sentence of every chunk, at its article offsets, with the vector of its
    # title-prefixed text (the text ingest embeds). The embedded store keeps them as int8.
    old_ids = assistant.catalog.chunk_ids(harbour)
    rows = store.sentence_rows(old_ids)  # type: ignore[attr-defined]
    assert stored_rows(rows) == expected_rows(assistant, harbour)
    text = source_text(str(path.resolve()), harbour)
    sentences = [text[start:end] for start, end in zip(rows.starts, rows.ends, strict=True)]
    assert "Fishing boats left at dawn." in sentences
    want = embedder.embed([embedding_text("Harbour news", s) for s in sentences])
    assert rows.vectors.shape == want.shape
    np.testing.assert_allclose((rows.vectors * want).sum(axis=1), 1.0, atol=1e-4)  # cosines
    vectors, owners = store.sentence_vectors(old_ids)
    assert owners.tolist() == rows.chunk_ids.tolist() and vectors.shape == want.shape
    total = count_sentences(assistant)
    assert total == len(expected_rows(assistant, harbour)) + len(expected_rows(assistant, bridges))

    # Replaced: the edited article's old rows are gone, the new ones are there; unchanged
    # sentences reuse their vectors. Only the new sentence (title-prefixed) and the edited
    # chunk's context line are embedded: the chunk's vector is pooled from its sentences'
    # ("pooled", the default), so the model never reads the chunk itself.
    embedder.embedded.clear()
    write("harbour.txt", HARBOUR.replace("Fishing boats left at dawn.", "Ferries sailed again."))
    report = assistant.ingest([write.base])
    assert report.updated == [harbour]
    assert report.sentences_embedded == 1 and report.sentences_reused >= 1
    assert report.chunks_embedded == 1
    assert embedder.embedded == [
        embedding_text("Harbour news", "Ferries sailed again."),
        "Harbour news",
    ]
    new_ids = assistant.catalog.chunk_ids(harbour)
    rows = store.sentence_rows(new_ids)  # type: ignore[attr-defined]
    assert stored_rows(rows) == expected_rows(assistant, harbour)
    gone = sorted(set(old_ids) - set(new_ids))
    assert gone and len(store.sentence_rows(gone).chunk_ids) == 0  # type: ignore[attr-defined]
    assert count_sentences(assistant) == total  # one sentence for another

    # Removed: with its article.
    assistant.remove([harbour])
    assert len(store.sentence_rows(new_ids).chunk_ids) == 0  # type: ignore[attr-defined]
    assert count_sentences(assistant) == len(expected_rows(assistant, bridges))


def test_the_retriever_fuses_best_sentences_when_the_store_has_them(
    assistant_on_each_store: Assistant, embedder: HashEmbedder, write
) -> None:
    assistant = assistant_on_each_store
    ingest_both(assistant, write)
    retriever = assistant.retriever
    assert retriever.sentences is not None and retriever.weights == SENTENCE_FUSION
    # Without a source of sentence vectors the two-way weights apply.
    assert Retriever(retriever.index, embedder).weights == CHUNK_FUSION

    calls: list[list[int]] = []
    store = retriever.sentences

    class Spy:
        def best_sentence_cosines(self, vector, chunk_ids: list[int]):  # type: ignore[no-untyped-def]
            calls.append(list(chunk_ids))
            return store.best_sentence_cosines(vector, chunk_ids)

    spied = Retriever(retriever.index, embedder, sentences=Spy())
    query = "When was the old bridge built?"
    vector = embedder.embed([query])[0]
    passages = spied.search(query, k=3)
    assert passages and calls, "hybrid search reads the stored sentence vectors"
    dense = dict(retriever.index.dense_search(vector, 50, None))
    keyword = dict(retriever.index.keyword_search_text(query, 50, None))
    dense.update(spied._cosines(sorted(keyword.keys() - dense.keys()), vector))
    scored = spied.fuse(dense, keyword, vector)
    # Each candidate's sentence score is its best stored sentence's cosine.
    vectors, owners = store.sentence_vectors(sorted(dense))
    best = best_sentence_scores(vector, vectors, owners)
    assert best and all(s.sentence == pytest.approx(best[s.chunk_id]) for s in scored)
    assert [p.chunk_id for p in passages] == [s.chunk_id for s in scored[:3]]
    # The keyword and dense baselines read none.
    calls.clear()
    spied.search(query, k=3, mode="keyword")
    spied.search(query, k=3, mode="dense")
    assert calls == []


def test_answers_embed_only_the_question(
    assistant_on_each_store: Assistant, embedder: HashEmbedder, write
) -> None:
    assistant = assistant_on_each_store
    ingest_both(assistant, write)
    embedder.embedded.clear()
    question = "When was the old bridge over the river built?"
    reply = assistant.ask(question, abstain_below=float("-inf"))
    assert reply.found and reply.citations
    # The sentences it scored came from the store: the model read the question alone.
    assert embedder.embedded == [question]


def test_check_finds_and_repairs_sentence_vectors_of_no_chunk(
    index_dir: Path, embedder: HashEmbedder, write
) -> None:
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        write("harbour.txt", HARBOUR)
        assistant.ingest([write.base])
        db = assistant.store.db
        # A chunk deleted without its sentences (a database written without foreign keys).
        db.execute("PRAGMA foreign_keys=OFF")
        chunk = assistant.catalog.chunk_ids(assistant.articles()[0].id)[0]
        orphans = len(assistant.store.sentence_rows([chunk]).chunk_ids)
        db.execute("DELETE FROM chunks_fts WHERE rowid = ?", (chunk,))
        db.execute("DELETE FROM chunks WHERE id = ?", (chunk,))
        db.execute("PRAGMA foreign_keys=ON")
        report = assistant.check()
        assert not report.ok
        assert any(f"{orphans} sentence vector" in p for p in report.problems), report.problems
        repaired = assistant.repair()
        assert any("sentence vector" in line for line in repaired.repaired)
        assert not any("sentence vector" in p for p in repaired.problems)
        assert assistant.store.orphan_sentences() == 0


def by_hand(assistant: Assistant, embedder: HashEmbedder, vector: np.ndarray) -> tuple[dict, dict]:  # type: ignore[type-arg]
    """Each chunk's cosine and its best sentence's cosine, computed from the texts alone, not
    from stored vectors: the model on each sentence's title-prefixed text, and each chunk's
    vector pooled from them as the default ("pooled") makes it: their length-weighted mean,
    less ``POOLED_CONTEXT_SHARE`` of the title's vector, normalised at each step."""
    chunk_cosines, sentence_cosines = {}, {}
    for article in assistant.articles():
        title = embedder.embed([article.title])[0].astype(np.float64)
        chunks = assistant.catalog.chunk_rows(article.id)
        for chunk_id, chunk in zip(assistant.catalog.chunk_ids(article.id), chunks, strict=True):
            spans = split_sentences(chunk.text)
            texts = [embedding_text(article.title, chunk.text[a:b]) for a, b in spans]
            vectors = embedder.embed(texts)
            own = (vectors.astype(np.float64) * [[b - a] for a, b in spans]).sum(axis=0)
            own = own / np.linalg.norm(own) - POOLED_CONTEXT_SHARE * title
            chunk_cosines[chunk_id] = float(own @ vector / np.linalg.norm(own))
            sentence_cosines[chunk_id] = float(np.max(vectors @ vector))
    return chunk_cosines, sentence_cosines


def assert_same_scores(
    found: dict[int, float], expected: dict[int, float], within: float = 1e-6
) -> None:
    assert found.keys() == expected.keys()
    assert all(found[i] == pytest.approx(expected[i], abs=within) for i in expected)


# Sentence vectors stored as int8 with a per-vector scale (the embedded store) move a cosine by a
# few thousandths with the hash model, whose vectors have a few large coordinates (a real model's
# 384 small ones move it by ~1e-4: tests/test_compact_vectors.py).
INT8_COSINE = 5e-3


def test_best_sentence_cosines_are_each_chunks_best_stored_sentence(
    assistant_on_each_store: Assistant, embedder: HashEmbedder, write
) -> None:
    """What the fusion adds per candidate; Milvus computes it on the engine (a filtered search)."""
    store = assistant_on_each_store.store
    ids = ingest_both(assistant_on_each_store, write)
    vector = embedder.embed(["When did the harbour reopen after the storm?"])[0]
    _, expected = by_hand(assistant_on_each_store, embedder, vector)
    assert sorted(expected) == sorted(ids) and len(ids) >= 2
    # A repeated id and an unknown one change nothing.
    found = store.best_sentence_cosines(vector, [*ids, ids[0], 10**12])
    assert_same_scores(found, expected, INT8_COSINE)
    assert store.best_sentence_cosines(vector, []) == {}


def test_milvus_reads_the_vectors_of_chunks_a_full_search_window_left_out(
    index_dir: Path, embedder: HashEmbedder, write, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Milvus returns at most SEARCH_LIMIT sentence hits; chunks whose sentences all fall beyond
    a full window still get their best sentence (read from their vectors)."""
    if not MILVUS:  # not installed; installed but broken fails the import below
        pytest.skip("the milvus extra is not installed")
    import qa.stores.milvus.store as milvus

    with Assistant.open(index_dir, embedder=embedder, store="milvus") as assistant:
        ids = ingest_both(assistant, write)
        vector = embedder.embed(["Who thanked the crews?"])[0]
        expected = best_sentence_scores(vector, *assistant.store.sentence_vectors(ids))
        assert len(expected) >= 2
        monkeypatch.setattr(milvus, "SEARCH_LIMIT", 1)  # a window of one sentence
        assert_same_scores(assistant.store.best_sentence_cosines(vector, ids), expected)


def test_chunk_cosines_equal_the_stored_vectors_cosines(
    assistant_on_each_store: Assistant, embedder: HashEmbedder, write
) -> None:
    """The exact cosine of keyword-only candidates (Milvus: a search restricted to them)."""
    store = assistant_on_each_store.store
    ids = ingest_both(assistant_on_each_store, write)
    vector = embedder.embed(["When was the old bridge built?"])[0]
    expected, _ = by_hand(assistant_on_each_store, embedder, vector)
    assert sorted(expected) == sorted(ids)
    assert_same_scores(store.cosines(vector, [*ids, ids[0]]), expected)
    assert store.cosines(vector, []) == {}
