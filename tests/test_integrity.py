"""Integrity end to end (issue 29): what the index verifies, when, and what repair trusts.

- article text is checked against its content hash, and repair restores it only from a source
  that still matches the hash (else it removes the article and says what to ingest again);
- the vector file is checked against the checksum recorded when it was saved, each time it is
  opened, and a damaged one is rebuilt from the database;
- stored vectors are checked for finite values, unit length and their recorded digest;
- a lost config.json is a clear error, rebuilt by repair from the database's copy, never replaced.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from embeddings import HashEmbedder
from embeddings.base import Vectors
from qa import Assistant, QAError
from qa.cli.commands import cli
from qa.stores import vector_format
from qa.stores.embedded import bm25
from qa.stores.embedded.sqlite import SENTENCE_FORMAT_KEY
from tests.test_web import ARTICLE, Site, site  # noqa: F401 (the local web server fixture)

BLACK_DEATH = (
    "# Black Death\n\n"
    "Plague was first introduced to Europe via Genoese traders at the port city of Kaffa in "
    "the Crimea in 1347. From there it spread along the trade routes.\n\n"
    "The harbour of Messina in Sicily received the first infected galleys that autumn.\n"
)
QUESTION = "Who introduced plague to Europe?"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def sql(index: Path, *statements: str, params: tuple[object, ...] = ()) -> None:
    db = sqlite3.connect(index / "index.sqlite", isolation_level=None)
    db.execute("PRAGMA foreign_keys=OFF")  # damage the way another program could
    for statement in statements:
        db.execute(statement, params)
    db.close()


@pytest.fixture
def built(index_dir: Path, write) -> Path:  # type: ignore[no-untyped-def]
    write("black-death.md", BLACK_DEATH)
    write("rhine.md", "# Rhine\n\nThe Rhine begins in the Swiss Alps and flows to the North Sea.\n")
    with Assistant.open(index_dir, model="hash") as assistant:
        assert assistant.ingest([write.base]).ok
    return index_dir


def answer(index: Path) -> str:
    code, out = run("ask", QUESTION, "--index", str(index))
    assert code == 0, out
    return out


def test_repair_restores_damaged_text_from_the_source_file(built: Path) -> None:
    assert "Genoese" in answer(built)
    # One word of the stored text changed, chunks and keyword index with it: offsets still agree.
    for table in ("articles", "chunks", "chunks_fts"):
        sql(built, f"UPDATE {table} SET text = replace(text, 'Genoese', 'Venetia')")
    code, out = run("check", "--index", str(built))
    assert code == 1 and "does not match the content hash recorded at ingest" in out, out
    code, out = run("check", "--repair", "--index", str(built))
    assert code == 0 and "restored 1 article from the source" in out, out
    reply = answer(built)
    assert "Genoese traders" in reply and "Venetia" not in reply
    assert run("check", "--index", str(built))[0] == 0


def test_repair_removes_damaged_text_whose_source_changed(built: Path, write) -> None:  # type: ignore[no-untyped-def]
    sql(built, "UPDATE articles SET text = replace(text, 'Genoese', 'Venetia')")
    source = write("black-death.md", BLACK_DEATH.replace("1347", "1348"))  # edited since
    code, out = run("check", "--repair", "--index", str(built))
    assert code == 0, out
    assert "removed 'Black Death'" in out and f"ingest it again: qa ingest {source}" in out
    with Assistant.open(built, model="hash") as assistant:
        assert [a.title for a in assistant.articles()] == ["Rhine"]
        assert assistant.check().ok


def test_repair_restores_damaged_text_from_its_web_address(site: Site, index_dir: Path) -> None:  # noqa: F811
    url = f"{site.base}/article"
    with Assistant.open(index_dir, model="hash") as assistant:
        assert assistant.ingest([url]).ok
    sql(index_dir, "UPDATE articles SET text = replace(text, 'Ana Lima', 'Eva Kohl')")
    with Assistant.open(index_dir, model="hash") as assistant:
        report = assistant.repair()
        assert report.ok and "restored 1 article from the source" in report.repaired[0]
        reply = assistant.ask("Who reopened the harbour?")
        assert "Ana Lima" in reply.text
    site.article = ARTICLE.replace(b"Ana Lima", b"Eva Kohl")  # the page changed since
    sql(index_dir, "UPDATE articles SET text = replace(text, 'harbour', 'harbor')")
    with Assistant.open(index_dir, model="hash") as assistant:
        report = assistant.repair()
        assert report.ok and f"ingest it again: qa ingest {url}" in " ".join(report.repaired)
        assert assistant.articles() == []


def negate_vector_in_file(index: Path, chunk_id: int) -> None:
    """Overwrite a chunk's vector inside vectors.faiss with its negation: same size, and that
    chunk now ranks last for the questions it answers."""
    db = sqlite3.connect(index / "index.sqlite")
    (blob,) = db.execute("SELECT vector FROM chunks WHERE id = ?", (chunk_id,)).fetchone()
    db.close()
    path = index / "vectors.faiss"
    data = path.read_bytes()
    assert data.count(blob) == 1
    negated = (-np.frombuffer(blob, dtype=np.float32)).astype(np.float32).tobytes()
    path.write_bytes(data.replace(blob, negated))


def best_chunk(index: Path) -> int:
    with Assistant.open(index, model="hash") as assistant:
        return assistant.search(QUESTION, k=1, mode="dense")[0].chunk_id


def test_a_changed_vector_file_is_not_used(built: Path, caplog: pytest.LogCaptureFixture) -> None:
    top = best_chunk(built)
    negate_vector_in_file(built, top)
    with caplog.at_level(logging.WARNING, logger="article_qa"):
        assert best_chunk(built) == top  # rebuilt from the database, not read from the file
    assert "does not match the checksum recorded when it was saved" in caplog.text
    code, out = run("check", "--index", str(built))
    assert code == 1 and "does not match its recorded SHA-256" in out
    assert run("check", "--repair", "--index", str(built))[0] == 0


def test_a_changed_vector_file_with_its_old_mtime_is_not_used(built: Path) -> None:
    top = best_chunk(built)
    before = (built / "vectors.faiss").stat()
    negate_vector_in_file(built, top)
    os.utime(built / "vectors.faiss", ns=(before.st_atime_ns, before.st_mtime_ns))
    assert best_chunk(built) == top  # the sampled blocks cover a small file whole


def test_random_bytes_in_a_stored_vector_are_a_problem(built: Path) -> None:
    sql(built, "UPDATE chunks SET vector = ? WHERE id = 2", params=(os.urandom(64 * 4),))
    code, out = run("check", "--index", str(built))
    assert code == 1 and "not 64 finite numbers of unit length" in out, out
    code, out = run("check", "--repair", "--index", str(built))
    assert code == 0 and "re-chunked and re-embedded 1 article" in out, out


def test_a_unit_vector_changed_by_a_sign_is_caught_by_the_rows_digest(built: Path) -> None:
    db = sqlite3.connect(built / "index.sqlite")
    rowid, blob = db.execute("SELECT rowid, vector FROM sentences LIMIT 1").fetchone()
    (stored_as,) = db.execute(
        "SELECT value FROM meta WHERE key = ?", (SENTENCE_FORMAT_KEY,)
    ).fetchone()
    db.close()
    vector = vector_format.decode([blob], stored_as)[0]
    vector[np.flatnonzero(vector)[0]] *= -1  # still finite, still of unit length
    flipped = vector_format.encode(vector, stored_as)
    assert flipped != blob and len(flipped) == len(blob)
    sql(built, f"UPDATE sentences SET vector = ? WHERE rowid = {rowid}", params=(flipped,))
    code, out = run("check", "--index", str(built))
    assert code == 1 and "do not match the digest recorded when they were written" in out, out
    assert run("check", "--repair", "--index", str(built))[0] == 0
    assert run("check", "--index", str(built))[0] == 0


def test_vectors_beside_a_lost_database_are_a_problem(built: Path) -> None:
    for path in built.glob("index.sqlite*"):
        path.unlink()
    code, out = run("check", "--index", str(built))
    assert code == 1 and "vectors.faiss holds" in out and "the database has no chunks" in out, out


def test_a_lost_config_is_an_error_never_replaced(built: Path, write) -> None:  # type: ignore[no-untyped-def]
    (built / "config.json").unlink()
    code, out = run("ingest", str(write.base), "--model", "hash-32", "--index", str(built))
    assert code == 1 and "was built with the model 'hash-64'" in out  # the database's copy says
    for command in (["ingest", str(write.base)], ["ask", QUESTION], ["list"]):
        code, out = run(*command, "--index", str(built))
        assert code == 1 and "has no config.json" in out and "qa check --repair" in out, out
        assert not (built / "config.json").exists()
    code, out = run("check", "--index", str(built))
    assert code == 1 and "config.json is missing" in out and "model 'hash-64'" in out
    code, out = run("check", "--repair", "--index", str(built))
    assert code == 0 and "wrote config.json again" in out, out
    assert "Genoese" in answer(built)


@pytest.mark.parametrize(
    "text",
    ["[1, 2]", '{"model": "hash-64", "dimension": "64"}', '{"model": "hash-64", "dimen'],
)
def test_a_damaged_config_is_one_line_and_repaired(built: Path, text: str) -> None:
    (built / "config.json").write_text(text, encoding="utf-8")
    code, out = run("ask", QUESTION, "--index", str(built))
    assert code == 1 and out.count("\n") == 1 and "is damaged" in out and "--repair" in out
    with pytest.raises(QAError, match="is damaged"), Assistant.open(built, model="hash") as a:
        a.articles()
    assert run("check", "--repair", "--index", str(built))[0] == 0
    assert "Genoese" in answer(built)


def test_a_config_that_differs_from_the_database_copy_is_refused(built: Path) -> None:
    path = built / "config.json"
    path.write_text(path.read_text().replace('"chunk_tokens": 200', '"chunk_tokens": 90'))
    code, out = run("ingest", str(built.parent / "docs"), "--index", str(built))
    assert code == 1 and "differs from the copy the index database keeps" in out, out
    assert run("check", "--repair", "--index", str(built))[0] == 0
    assert '"chunk_tokens": 200' in path.read_text()


def test_a_damaged_keyword_folder_name_never_deletes_outside_the_index(
    built: Path,
    write,  # type: ignore[no-untyped-def]
) -> None:
    victim = built.parent / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine", encoding="utf-8")
    sql(built, "INSERT OR REPLACE INTO meta(key, value) VALUES ('keywords_dir', '../victim')")
    write("new.md", "# New\n\nA new article arrives.\n")
    with Assistant.open(built, model="hash") as assistant:
        assistant.ingest([write.base])
    assert (victim / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_a_damaged_keyword_cache_is_not_used(
    built: Path,
    monkeypatch: pytest.MonkeyPatch,
    write,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(bm25, "CACHE_FROM", 1)  # give this small index the cache of large ones
    write("new.md", "# New\n\nA new article arrives.\n")
    with Assistant.open(built, model="hash") as assistant:
        assistant.ingest([write.base])
        assert assistant.store.keywords is not None
    (folder,) = built.glob("keywords-*")
    impacts = folder / "impacts.npy"
    data = bytearray(impacts.read_bytes())
    data[-3] ^= 0x40
    impacts.write_bytes(bytes(data))
    with Assistant.open(built, model="hash") as assistant:
        assert assistant.store.keywords is None  # FTS5 alone answers
        report = assistant.check()
        assert not report.ok and "keyword cache" in report.problems[0]
        assert assistant.repair().ok


class SkewedEmbedder(HashEmbedder):
    """The hash model, except that a text with the word "skewed" gets a vector twice as long:
    a model (or a store) that hands back vectors nobody normalised."""

    def embed(self, texts: list[str]) -> Vectors:
        vectors = super().embed(texts)
        for row, text in enumerate(texts):
            if "skewed" in text.lower():
                vectors[row] *= 2
        return vectors


def test_vectors_not_of_unit_length_are_a_problem_on_each_store(
    index_dir: Path,
    store_kind: str,
    write,  # type: ignore[no-untyped-def]
) -> None:
    write("ferry.md", "# Ferry\n\nThe skewed ferry left at noon.\n")
    write("tram.md", "# Tram\n\nThe tram arrived at dawn.\n")
    with Assistant.open(index_dir, embedder=SkewedEmbedder(), store=store_kind) as assistant:
        assert assistant.ingest([write.base]).ok
        report = assistant.check()
        assert not report.ok, report
        assert "finite numbers of unit length" in " ".join(report.problems)


def test_damaged_lookup_indexes_are_rebuilt(built: Path) -> None:
    db = sqlite3.connect(built / "index.sqlite")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (digest,) = db.execute("SELECT embed_hash FROM chunks WHERE id = 1").fetchone()
    db.close()
    path = built / "index.sqlite"
    pristine = path.read_bytes()
    # The hash is stored twice: in its chunk row and in the chunks_embed_hash index. Change one
    # character of the index's copy (the one whose change damages an index only).
    for copy in (pristine.find(digest.encode()), pristine.rfind(digest.encode())):
        data = bytearray(pristine)
        data[copy + 39] = ord("0") if data[copy + 39] != ord("0") else ord("1")
        path.write_bytes(bytes(data))
        code, out = run("check", "--index", str(built))
        if "damaged lookup indexes" in out:
            break
    assert code == 1 and "damaged lookup indexes" in out and "nothing is lost" in out, out
    code, out = run("check", "--repair", "--index", str(built))
    assert code == 0 and "rebuilt the database's lookup indexes" in out, out
    assert "Genoese" in answer(built)


def test_a_chunk_cut_from_its_article_is_left_out_of_answers(built: Path) -> None:
    top = best_chunk(built)
    sql(built, f"UPDATE chunks SET article_id = 'gone' WHERE id = {top}")  # a flipped bit
    with Assistant.open(built, model="hash") as assistant:
        passages = assistant.search(QUESTION, k=3)
        assert passages and top not in [p.chunk_id for p in passages]
        assert [p.rank for p in passages] == list(range(1, len(passages) + 1))
        assistant.ask(QUESTION)  # answers from what is left, no KeyError
    code, out = run("check", "--index", str(built))
    assert code == 1 and "belongs to no article" in out, out
