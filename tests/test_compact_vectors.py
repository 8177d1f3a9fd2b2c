"""Sentence vectors stored compactly (int8 with a per-vector scale, issue 26), and indexes from
before it (float32 sentence vectors, each sentence embedded alone) that still open and answer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from embeddings import HashEmbedder
from qa import Assistant
from qa.cli.commands import cli
from qa.errors import IndexFormatError
from qa.pipeline.chunking import embedding_text
from qa.stores import vector_format
from qa.stores.embedded.integrity import vector_faults
from qa.stores.embedded.sqlite import SENTENCE_FORMAT_KEY, Store

HARBOUR = (
    "Harbour news\n\nThe harbour reopened on Monday after the storm. Fishing boats left at dawn. "
    "The mayor thanked the crews who cleared the wreckage."
)
BRIDGES = (
    "Bridges\n\nThe old bridge over the river was built in 1887. It carries two lanes of "
    "traffic. A footbridge opened next to it in 2019."
)


def unit_rows(count: int, dimension: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(count, dimension)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize(
    "name, size, worst_cosine",
    [("float32", 1536, 0.999999), ("float16", 768, 0.9999), ("int8", 388, 0.9999)],
)
def test_each_format_keeps_the_vectors(name: str, size: int, worst_cosine: float) -> None:
    rows = unit_rows(500, 384)
    blobs = vector_format.encode_many(rows, name)
    assert {len(blob) for blob in blobs} == {size} == {vector_format.blob_bytes(name, 384)}
    back = vector_format.decode(blobs, name)
    assert back.dtype == np.float32 and back.shape == rows.shape
    assert float((back * rows).sum(axis=1).min()) >= worst_cosine
    assert vector_format.encode(rows[0], name) == blobs[0]
    # Stored again after reuse (decoded, then encoded): the same vectors.
    np.testing.assert_allclose(
        vector_format.decode(vector_format.encode_many(back, name), name), back, atol=1e-6
    )


def test_a_wrong_size_or_an_unknown_format_is_refused() -> None:
    blobs = vector_format.encode_many(unit_rows(2, 8), "int8")
    with pytest.raises(ValueError, match="has 12 bytes, not the 8"):
        vector_format.decode(blobs, "int8", dimension=4)
    with pytest.raises(vector_format.UnknownFormatError, match="bfloat16"):
        vector_format.blob_bytes("bfloat16", 8)
    assert vector_format.decode([], "int8", 8).shape == (0, 8)
    assert vector_format.encode_many(np.zeros((1, 4), np.float32), "int8")[0][4:] == bytes(4)


def int8_damage(blob: bytes) -> dict[str, bytes]:
    """Ways one int8 vector can be damaged that decoding alone would not show (it renormalises)."""
    scale = np.frombuffer(blob[:4], dtype=np.float32)[0]
    codes = np.frombuffer(blob[4:], dtype=np.int8).copy()
    peak = int(np.argmax(np.abs(codes)))
    lowered = codes.copy()
    lowered[peak] = np.sign(lowered[peak]) * 100  # the largest code is no longer 127
    small = int(np.argmin(np.abs(codes)))
    wrapped = codes.copy()
    wrapped[small] = -128  # the encoder clips to -127
    return {
        "scale doubled": np.float32(scale * 2).tobytes() + blob[4:],
        "scale negative": np.float32(-scale).tobytes() + blob[4:],
        "scale not finite": np.float32(np.nan).tobytes() + blob[4:],
        "largest code lowered": blob[:4] + lowered.tobytes(),
        "code -128": blob[:4] + wrapped.tobytes(),
        "codes zeroed": blob[:4] + bytes(len(codes)),
        "one byte short": blob[:-1],
    }


def test_int8_vectors_are_checked_by_their_own_rule() -> None:
    rows = unit_rows(300, 384, seed=3)
    for name in vector_format.FORMATS:
        assert vector_faults(vector_format.encode_many(rows, name), 384, name) == []
    blob = vector_format.encode(rows[0], "int8")
    for kind, damaged in int8_damage(blob).items():
        assert vector_faults([blob, damaged, blob], 384, "int8") == [1], kind
    # Decoding renormalises: a changed scale reads back as the same unit vector, so only the
    # rule above sees it.
    doubled = int8_damage(blob)["scale doubled"]
    np.testing.assert_allclose(
        vector_format.decode([doubled], "int8"), vector_format.decode([blob], "int8")
    )
    # float32 bytes are not int8 vectors of the same dimension (and the other way round).
    assert vector_faults(vector_format.encode_many(rows[:2], "float32"), 384, "int8") == [0, 1]


def test_qa_check_finds_a_damaged_int8_sentence_vector_and_repairs_it(
    index_dir: Path, embedder: HashEmbedder, write
) -> None:
    write("harbour.txt", HARBOUR)
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        assistant.ingest([write.base])
        assert assistant.check().ok
        db = assistant.store.db
        rowid, blob = db.execute("SELECT rowid, vector FROM sentences LIMIT 1").fetchone()
        with assistant.store.transaction():
            db.execute(
                "UPDATE sentences SET vector = ? WHERE rowid = ?",
                (int8_damage(blob)["scale doubled"], rowid),
            )
        (problem,) = assistant.check().problems
        assert "1 sentence vector (of chunk" in problem
        assert "not 64 finite numbers of unit length" in problem
        repaired = assistant.repair()
        assert repaired.ok and any(
            "re-chunked and re-embedded 1 article" in r for r in repaired.repaired
        )
        assert assistant.check().ok


def test_a_new_index_stores_sentence_vectors_as_int8(
    index_dir: Path, embedder: HashEmbedder, write
) -> None:
    write("harbour.txt", HARBOUR)
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        assistant.ingest([write.base])
        db = assistant.store.db
        assert assistant.store.get_meta(SENTENCE_FORMAT_KEY) == "int8"
        sizes = {row[0] for row in db.execute("SELECT length(vector) FROM sentences")}
        assert sizes == {4 + embedder.dimension}
        chunk_sizes = {row[0] for row in db.execute("SELECT length(vector) FROM chunks")}
        assert chunk_sizes == {4 * embedder.dimension}  # chunk vectors stay float32 (FAISS's)
        assert assistant.check().ok


def make_old_index(folder: Path, embedder: HashEmbedder, write) -> None:
    """An index as article-qa wrote it before issue 26: config.json without sentence_vectors,
    a database that records no sentence format and holds float32 sentence vectors of each
    sentence embedded alone, title-prefixed."""
    write("harbour.txt", HARBOUR)
    folder.mkdir(parents=True)
    Store(folder / "index.sqlite", sentence_format="float32").close()
    with Assistant.open(folder, embedder=embedder, sentence_vectors="titled") as assistant:
        assistant.ingest([write.base])
        with assistant.store.transaction():
            assistant.store.db.execute("DELETE FROM meta WHERE key = ?", (SENTENCE_FORMAT_KEY,))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    del config["sentence_vectors"]
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")


def test_an_index_from_before_opens_answers_and_grows_the_old_way(
    index_dir: Path, embedder: HashEmbedder, write
) -> None:
    make_old_index(index_dir, embedder, write)
    # The answer path that reads stored sentence vectors (the trained reader reads text).
    with Assistant.open(index_dir, embedder=embedder, reader=False) as assistant:
        assert assistant.sentence_vectors == "titled"
        assert assistant.store.sentence_format == "float32"
        reply = assistant.ask("When did the harbour reopen?", abstain_below=float("-inf"))
        assert reply.found and "harbour reopened on Monday" in reply.citations[0].quote
        # A new article is embedded the index's way: sentences alone, stored as float32.
        embedder.embedded.clear()
        write("bridges.txt", BRIDGES)
        report = assistant.ingest([write.base])
        assert report.added and report.sentences_embedded == 3
        assert embedding_text("Bridges", "It carries two lanes of traffic.") in embedder.embedded
        chunk = BRIDGES.split("\n\n", 1)[1]
        assert embedding_text("Bridges", chunk) in embedder.embedded  # its chunk read, not pooled
        sizes = {
            row[0] for row in assistant.store.db.execute("SELECT length(vector) FROM sentences")
        }
        assert sizes == {4 * embedder.dimension}
        # Every sentence vector reads back as the title-prefixed sentence's, old and new.
        for article in assistant.articles():
            text = assistant.store.article_text(article.id) or ""
            rows = assistant.store.sentence_rows(assistant.catalog.chunk_ids(article.id))
            spans = zip(rows.starts, rows.ends, strict=True)
            want = embedder.embed([embedding_text(article.title, text[a:b]) for a, b in spans])
            np.testing.assert_allclose(rows.vectors, want, atol=1e-6)
        report = assistant.check()
        assert report.ok, report.problems
        assert any("stored as float32 (256 bytes each)" in note for note in report.notes)


def test_qa_check_reads_an_index_from_before(
    index_dir: Path, embedder: HashEmbedder, write, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_old_index(index_dir, embedder, write)
    monkeypatch.setattr("qa.config.load_embedder", lambda spec, backend: embedder)
    result = CliRunner().invoke(cli, ["check", "--index", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "note: Sentence vectors are stored as float32" in result.output
    assert "ok: 1 article, 1 chunk;" in result.output


def test_check_finds_sentence_vectors_of_the_wrong_size_and_repairs_them(
    index_dir: Path, embedder: HashEmbedder, write
) -> None:
    write("harbour.txt", HARBOUR)
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        assistant.ingest([write.base])
        db = assistant.store.db
        with assistant.store.transaction():
            db.execute("UPDATE sentences SET vector = zeroblob(100) WHERE rowid = 1")
        report = assistant.check()
        (problem,) = report.problems
        assert "1 sentence vector has the wrong size (expected 68 bytes: 64 numbers as int8" in (
            problem
        )
        repaired = assistant.repair()
        assert repaired.ok and any("re-embedded 1 article" in line for line in repaired.repaired)
        sizes = {row[0] for row in db.execute("SELECT length(vector) FROM sentences")}
        assert sizes == {68}


def test_a_sentence_format_from_a_newer_version_is_named(
    index_dir: Path, embedder: HashEmbedder, write
) -> None:
    write("harbour.txt", HARBOUR)
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        assistant.ingest([write.base])
        with assistant.store.transaction():
            assistant.store.set_meta(SENTENCE_FORMAT_KEY, "int4")
    with Assistant.open(index_dir, embedder=embedder, reader=False) as assistant:
        (problem,) = assistant.check().problems
        assert "stored as 'int4', which this article-qa cannot read" in problem
        with pytest.raises(IndexFormatError, match="written by a newer version"):
            assistant.ask("When did the harbour reopen?")


def test_sentence_vectors_that_are_no_vectors_of_the_format_are_one_line(
    index_dir: Path, embedder: HashEmbedder, write
) -> None:
    write("harbour.txt", HARBOUR)
    with Assistant.open(index_dir, embedder=embedder, reader=False) as assistant:
        assistant.ingest([write.base])
        with assistant.store.transaction():  # all the same size, but too short for an int8 one
            assistant.store.db.execute("UPDATE sentences SET vector = x'0102'")
        with pytest.raises(IndexFormatError, match="holds a sentence vector that is not a vector"):
            assistant.ask("When did the harbour reopen?")
