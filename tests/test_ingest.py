"""Incremental ingestion into a persistent index, with the fast hash embedder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from embeddings import HashEmbedder
from qa import (
    ArticleNotFoundError,
    Assistant,
    IndexBusyError,
    IndexFormatError,
    IndexNotFoundError,
    ModelMismatchError,
)
from qa.locking import WriteLock
from qa.stores.embedded.store import VECTORS_FILE
from tests.conftest import CORPUS, source_text
from tests.pdf_fixtures import notes_docx, report_pdf

STORY = "Harbour news\n\n" + " ".join(
    f"Sentence {n} says the harbour reopened after the storm on day {n}." for n in range(60)
)


@pytest.fixture
def assistant(assistant_on_each_store: Assistant) -> Assistant:
    """The ingest tests that use only the public API run on the embedded store and on Milvus."""
    return assistant_on_each_store


def chunk_table(assistant: Assistant) -> list[tuple[int, str, int, int, str, bytes]]:
    """Every chunk: (id, article id, start, end, text, vector), from either store."""
    rows = []
    for info in assistant.articles():
        ids = assistant.catalog.chunk_ids(info.id)
        chunks = assistant.catalog.chunk_rows(info.id)
        vectors = assistant.retriever.index.vectors(ids)
        for chunk_id, chunk, vector in zip(ids, chunks, vectors, strict=True):
            rows.append((chunk_id, chunk.article_id, chunk.start, chunk.end, chunk.text,
                         vector.tobytes()))  # fmt: skip
    return sorted(rows)


def assert_consistent(assistant: Assistant) -> None:
    """Offsets slice each article's text as read from its file; the searchable chunks are
    exactly the stored ones (FAISS and FTS5 for the embedded store, Milvus's for Milvus)."""
    chunk_ids: set[int] = set()
    for info in assistant.articles():
        text = source_text(info.source, info.id)
        chunks = assistant.catalog.chunk_rows(info.id)
        assert len(chunks) == info.chunks >= 1
        assert all(text[chunk.start : chunk.end] == chunk.text for chunk in chunks)
        chunk_ids.update(assistant.catalog.chunk_ids(info.id))
    assert len(chunk_ids) == assistant.stats().chunks
    if assistant.store_uri is not None:
        if chunk_ids:
            vector = assistant.embedder.embed(["anything"])[0]
            found = assistant.retriever.index.dense_search(vector, len(chunk_ids) + 10, None)
            assert {chunk_id for chunk_id, _ in found} == chunk_ids
        return
    db = assistant.store.db
    assert {row[0] for row in db.execute("SELECT id FROM chunks")} == chunk_ids
    fts_ids = {row[0] for row in db.execute("SELECT rowid FROM chunks_fts")}
    assert fts_ids == chunk_ids
    if assistant.config is not None:
        assert set(assistant.store.vector_index.ids().tolist()) == chunk_ids


def test_ingest_demo_corpus(assistant: Assistant) -> None:
    report = assistant.ingest([CORPUS])
    assert report.ok and len(report.added) == len(list(CORPUS.glob("*.md")))
    stats = assistant.stats()
    assert stats.articles == len(report.added)
    assert stats.chunks == report.chunks_embedded + report.chunks_reused > stats.articles
    assert stats.model == "hash-64" and stats.dimension == 64
    assert (assistant.index_dir / VECTORS_FILE).exists() == (assistant.store_uri is None)
    assert_consistent(assistant)


def test_reingest_unchanged_does_no_work(assistant: Assistant, embedder: HashEmbedder) -> None:
    assistant.ingest([CORPUS])
    before = chunk_table(assistant)
    calls = embedder.calls
    report = assistant.ingest([CORPUS])
    assert report.added == report.updated == report.removed == []
    assert sorted(report.unchanged) == sorted(a.id for a in assistant.articles())
    assert len(report.unchanged) == len(list(CORPUS.glob("*.md")))
    assert embedder.calls == calls, "unchanged articles must not be embedded again"
    assert chunk_table(assistant) == before


def test_changed_article_replaces_its_chunks_and_reuses_unchanged_ones(
    assistant: Assistant, embedder: HashEmbedder, write
) -> None:
    path = write("story.txt", STORY)
    write("other.txt", "Other\n\nA different article about bridges.")
    assistant.ingest([write.base])
    (story_id,) = assistant.catalog.ids_by_source(str(path.resolve()))
    old_chunks = assistant.catalog.chunk_rows(story_id)
    embedder.embedded.clear()
    write("story.txt", STORY + " A new closing sentence about boats.")
    report = assistant.ingest([write.base])
    assert report.updated == [story_id] and len(report.unchanged) == 1
    new_chunks = assistant.catalog.chunk_rows(story_id)
    assert new_chunks[-1].text.endswith("about boats.")
    # Only the chunk and the sentence that changed went through the model; the others kept
    # their vectors (the new sentence alone, not the 70 that the chunks already had).
    assert 1 <= report.chunks_embedded < len(new_chunks)
    assert report.chunks_reused == len(new_chunks) - report.chunks_embedded
    assert report.sentences_embedded == 1 and report.sentences_reused > 1
    assert len(embedder.embedded) == report.chunks_embedded + report.sentences_embedded
    assert len(old_chunks) <= len(new_chunks)
    assert_consistent(assistant)


def test_record_removed_from_a_file_is_removed(assistant: Assistant, write) -> None:
    records = [{"id": f"r{n}", "title": f"R{n}", "text": f"Record {n} text."} for n in range(3)]
    path = write("r.jsonl", "\n".join(json.dumps(r) for r in records))
    assistant.ingest([path])
    write("r.jsonl", "\n".join(json.dumps(r) for r in records[:2]))
    report = assistant.ingest([path])
    assert report.removed == ["r2"]
    assert [a.id for a in assistant.articles()] == ["r0", "r1"]
    assert_consistent(assistant)


def test_file_with_a_bad_record_prunes_nothing(assistant: Assistant, write) -> None:
    path = write(
        "r.jsonl",
        '{"id": "a", "title": "A", "text": "a."}\n{"id": "b", "title": "B", "text": "b."}',
    )
    assistant.ingest([path])
    write("r.jsonl", '{"id": "a", "title": "A", "text": "a."}\n{broken')
    report = assistant.ingest([path])
    assert not report.ok and report.removed == []
    assert {a.id for a in assistant.articles()} == {"a", "b"}


def test_prune_removes_articles_of_deleted_files(assistant: Assistant, write) -> None:
    gone = write("gone.md", "# Gone\n\nSoon deleted.")
    write("kept.md", "# Kept\n\nStays.")
    assistant.ingest([write.base])
    gone.unlink()
    assert assistant.ingest([write.base]).removed == []  # without --prune nothing is removed
    report = assistant.ingest([write.base], prune=True)
    assert len(report.removed) == 1
    assert [a.title for a in assistant.articles()] == ["Kept"]


def test_remove_by_id_and_by_path(assistant: Assistant, write) -> None:
    a = write("a.md", "# A\n\nAlpha text.")
    write("sub/b.md", "# B\n\nBeta text.")
    write("sub/c.md", "# C\n\nGamma text.")
    assistant.ingest([write.base])
    (a_id,) = assistant.catalog.ids_by_source(str(a.resolve()))
    assert assistant.remove([a_id]) == [a_id]
    assert len(assistant.remove([str(write.base / "sub")])) == 2
    assert assistant.articles() == []
    assert_consistent(assistant)
    with pytest.raises(ArticleNotFoundError, match="no-such-id"):
        assistant.remove(["no-such-id"])


def test_failures_do_not_stop_the_rest(assistant: Assistant, write) -> None:
    write("good.md", "# Good\n\nFine text.")
    write("empty.txt", "")
    write("bad.jsonl", "{oops")
    report = assistant.ingest([write.base, write.base / "missing.txt"])
    assert len(report.added) == 1 and not report.ok
    assert sorted(Path(f.source).name for f in report.failed) == [
        "bad.jsonl (line 1)",
        "empty.txt",
        "missing.txt",
    ]


def test_duplicate_ids_in_one_run_are_reported(assistant: Assistant, write) -> None:
    write("a.jsonl", '{"id": "same", "title": "A", "text": "a."}')
    write("b.jsonl", '{"id": "same", "title": "B", "text": "b."}')
    report = assistant.ingest([write.base])
    assert report.added == ["same"]
    assert "already read" in report.failed[0].reason


def test_reopen_gives_same_chunk_ids_and_vectors(index_dir: Path, write) -> None:
    write("story.txt", STORY)
    with Assistant.open(index_dir, embedder=HashEmbedder()) as first:
        first.ingest([write.base])
        before = chunk_table(first)
        query = first.embedder.embed(["harbour storm day 7"])
        scores, ids = first.store.vector_index.search(query, 5)
    with Assistant.open(index_dir, model="hash-64") as again:
        assert chunk_table(again) == before
        again_scores, again_ids = again.store.vector_index.search(query, 5)
        assert again_ids.tolist() == ids.tolist()
        np.testing.assert_allclose(again_scores, scores)
        for chunk_id, *_rest, blob in before:
            np.testing.assert_array_equal(
                again.store.vector_index.vector(chunk_id), np.frombuffer(blob, np.float32)
            )


def test_stale_or_missing_vector_file_is_rebuilt_from_sqlite(index_dir: Path, write) -> None:
    write("story.txt", STORY)
    with Assistant.open(index_dir, embedder=HashEmbedder()) as first:
        first.ingest([write.base])
        ids = sorted(first.store.vector_index.ids().tolist())
    (index_dir / VECTORS_FILE).unlink()
    with Assistant.open(index_dir, embedder=HashEmbedder()) as again:
        assert sorted(again.store.vector_index.ids().tolist()) == ids
    (index_dir / VECTORS_FILE).write_bytes(b"garbage")
    with Assistant.open(index_dir, embedder=HashEmbedder()) as again:
        assert sorted(again.store.vector_index.ids().tolist()) == ids


def test_other_model_is_a_clear_error(index_dir: Path, write) -> None:
    write("a.md", "# A\n\ntext")
    with Assistant.open(index_dir, embedder=HashEmbedder(64)) as first:
        first.ingest([write.base])
    with pytest.raises(ModelMismatchError, match="hash-64"):
        Assistant.open(index_dir, model="hash-32")


def test_same_name_but_different_vectors_is_caught(index_dir: Path, write) -> None:
    class Shifted(HashEmbedder):
        def embed(self, texts: list[str]):
            return np.roll(super().embed(texts), 1, axis=1)

    write("a.md", "# A\n\ntext")
    with Assistant.open(index_dir, embedder=HashEmbedder()) as first:
        first.ingest([write.base])
    with (
        Assistant.open(index_dir, embedder=Shifted()) as impostor,
        pytest.raises(ModelMismatchError, match="different vectors"),
    ):
        impostor.ingest([write.base])


def test_chunk_settings_of_an_existing_index_cannot_change(index_dir: Path, write) -> None:
    write("a.md", "# A\n\ntext")
    with Assistant.open(index_dir, embedder=HashEmbedder(), chunk_tokens=120) as first:
        first.ingest([write.base])
        assert first.stats().chunk_tokens == 120
    with pytest.raises(IndexFormatError, match="chunk_tokens=120"):
        Assistant.open(index_dir, embedder=HashEmbedder(), chunk_tokens=200)


def test_a_small_chunk_overlaps_by_a_fifth_and_a_bad_pair_writes_nothing(tmp_path: Path) -> None:
    with Assistant.open(tmp_path / "small", embedder=HashEmbedder(), chunk_tokens=32) as small:
        assert (small.stats().chunk_tokens, small.stats().overlap_tokens) == (32, 6)
    with pytest.raises(
        IndexFormatError,
        match="overlap_tokens is 20 and chunk_tokens is 16: give an overlap from 0 to 15",
    ):
        Assistant.open(
            tmp_path / "bad", embedder=HashEmbedder(), chunk_tokens=16, overlap_tokens=20
        )
    assert not (tmp_path / "bad").exists()  # refused before anything was written


def test_missing_index_and_foreign_folder(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="qa ingest"):
        Assistant.open(tmp_path / "nothing", create=False)
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"x")
    with pytest.raises(IndexFormatError, match="not an article-qa index"):
        Assistant.open(tmp_path / "photos", model="hash")


def test_second_writer_is_refused(assistant: Assistant, write) -> None:
    write("a.md", "# A\n\ntext")
    with WriteLock(assistant.index_dir), pytest.raises(IndexBusyError, match="being written"):
        assistant.ingest([write.base])


def test_offsets_round_trip_for_every_loader(assistant: Assistant, write) -> None:
    import gzip

    from tests.test_corpus import HTML

    body = " ".join(f"Sentence {n} of the story has some words in it." for n in range(80))
    write("a.txt", f"Plain title\n\n{body}")
    write(
        "b.md", f"---\ntitle: Front\nauthor: Bo\n---\n\n# Head\n\n{body}\n\n- item one\n- item two"
    )
    write("c.html", HTML.replace("officials said.", "officials said. " + body))
    write("d.jsonl", json.dumps({"id": "j1", "title": "J", "text": body}) + "\n")
    write("e.json", json.dumps([{"title": "K", "text": "Ünïcödé ✓ text.\r\n\r\n" + body}]))
    squad = {"data": [{"title": "S_1", "paragraphs": [{"context": body}, {"context": "Two."}]}]}
    write("f.json.gz", gzip.compress(json.dumps(squad).encode()))
    write("g.pdf", report_pdf())  # three pages, a hyphenated line end, running headers
    notes_docx(write("h.docx", b""))  # headings, paragraphs and a table
    report = assistant.ingest([write.base])
    assert report.ok and len(report.added) == 8
    assert_consistent(assistant)
    for info in assistant.articles():
        chunks = assistant.catalog.chunk_rows(info.id)
        text = source_text(info.source, info.id)
        assert chunks and all(text[c.start : c.end] == c.text for c in chunks)
    # Citations too: ask for a sentence of each binary format, check the quote's offsets.
    for question, name in [
        ("The lighthouse keeper Tomas Berg repainted the lantern room in bright red.", "g.pdf"),
        ("Divers inspected every pile below the waterline.", "h.docx"),
    ]:
        reply = assistant.ask(question)
        cited = [c for c in reply.citations if c.title in ("Harbour report 2024", "Field notes")]
        assert cited, (name, reply.text)
        source = {p.article_id: p.source for p in reply.passages}
        for citation in cited:
            assert source[citation.article_id].endswith(name)
            text = source_text(source[citation.article_id], citation.article_id)
            assert text[citation.start : citation.end] == citation.quote
