"""``qa check`` finds each kind of damage and says what to do; ``--repair`` fixes what it can."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from embeddings import HashEmbedder
from qa import Assistant, IndexBusyError
from qa.cli.commands import cli
from qa.locking import WriteLock
from qa.stores.embedded.store import VECTORS_FILE
from tests.conftest import CORPUS
from tests.test_ingest import assert_consistent

Damage = Callable[[Path], None]


@pytest.fixture
def built(index_dir: Path) -> Path:
    """A healthy index of the demo corpus (hash model), closed."""
    with Assistant.open(index_dir, model="hash") as assistant:
        assert assistant.ingest([CORPUS]).ok
    return index_dir


def sql(index: Path, *statements: str) -> None:
    db = sqlite3.connect(index / "index.sqlite", isolation_level=None)
    db.execute("PRAGMA foreign_keys=OFF")  # damage the way another program could
    for statement in statements:
        db.execute(statement)
    db.close()


def run_check(index: Path, *args: str, code: int) -> str:
    result = CliRunner().invoke(cli, ["check", "--index", str(index), *args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def test_healthy_index_passes(built: Path) -> None:
    out = run_check(built, code=0)
    assert out.startswith("ok: 12 articles") and "agree" in out
    data = json.loads(run_check(built, "--json", code=0))
    assert data["ok"] is True and data["problems"] == [] and data["articles"] == 12
    with Assistant.open(built, model="hash") as assistant:
        report = assistant.check()
    assert report.ok and report.chunks > 100 and report.notes == []


def truncate(index: Path) -> None:
    path = index / VECTORS_FILE
    path.write_bytes(path.read_bytes()[:1000])


def flip(index: Path) -> None:
    path = index / VECTORS_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte of one vector: same size, wrong contents
    path.write_bytes(bytes(data))


def extra_chunk(index: Path) -> None:
    # A chunk row (with its keyword row) that the FAISS file never saw.
    sql(
        index,
        "INSERT INTO chunks (article_id, seq, start, end, tokens, text, embed_hash, vector) "
        "SELECT article_id, seq + 1000, start, end, tokens, text, embed_hash, vector FROM chunks "
        "WHERE id = 1",
        "INSERT INTO chunks_fts (rowid, title, text) SELECT c.id, a.title, c.text FROM chunks c "
        "JOIN articles a ON a.id = c.article_id WHERE c.seq >= 1000",
    )


DAMAGE: dict[str, tuple[Damage, str]] = {
    "vector file deleted": (lambda index: (index / VECTORS_FILE).unlink(), "is missing"),
    "vector file truncated": (truncate, "does not match its recorded SHA-256"),
    "vector file byte flipped": (flip, "does not match its recorded SHA-256"),
    "keyword row deleted": (
        lambda index: sql(index, "DELETE FROM chunks_fts WHERE rowid = 3"),
        "The keyword index misses 1 chunk (id 3)",
    ),
    "keyword text changed": (
        lambda index: sql(index, "UPDATE chunks_fts SET text = 'nothing' WHERE rowid = 4"),
        "The keyword index has other text than 1 chunk (4)",
    ),
    "wrong offsets": (
        lambda index: sql(index, "UPDATE chunks SET start = start + 7 WHERE id = 5"),
        "does not match the article text at their offsets",
    ),
    "chunk without a vector": (extra_chunk, "1 chunk has no vector"),
    "vector of the wrong size": (
        lambda index: sql(index, "UPDATE chunks SET vector = zeroblob(12) WHERE id = 6"),
        "holds a vector of the wrong size",
    ),
    "article without chunks": (
        lambda index: sql(
            index,
            "DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE article_id = "
            "(SELECT article_id FROM chunks WHERE id = 1))",
            "DELETE FROM chunks WHERE article_id = (SELECT article_id FROM chunks WHERE id = 1)",
        ),
        "has no chunks",
    ),
    "chunk of no article": (
        lambda index: sql(
            index,
            "INSERT INTO chunks (article_id, seq, start, end, tokens, text, embed_hash, vector) "
            "SELECT 'gone', 0, start, end, tokens, text, embed_hash, vector FROM chunks "
            "WHERE id = 1",
        ),
        "belongs to no article",
    ),
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damage_is_reported_and_repaired(built: Path, kind: str) -> None:
    damage, message = DAMAGE[kind]
    damage(built)
    out = run_check(built, code=1)
    problems = [line for line in out.splitlines() if line.startswith("problem: ")]
    assert len(problems) >= 1 and message in out, out
    assert all("qa check --repair" in line for line in problems)  # ... and what to do
    out = run_check(built, "--repair", code=0)
    assert "repaired: " in out and "ok: " in out
    run_check(built, code=0)
    with Assistant.open(built, model="hash") as assistant:
        assert_consistent(assistant)
        assert assistant.search("Where does the Rhine begin?", k=1)[0].title == "Rhine"


def test_repair_rechunks_exactly_the_damaged_article(built: Path) -> None:
    with Assistant.open(built, model="hash") as assistant:
        before = {info.id: info.chunks for info in assistant.articles()}
    sql(built, "UPDATE chunks SET end = end - 3 WHERE id = 7")
    with Assistant.open(built, model="hash") as assistant:
        report = assistant.repair()
        assert report.ok
        assert report.repaired[0].startswith("re-chunked and re-embedded 1 article")
        assert {info.id: info.chunks for info in assistant.articles()} == before


def test_vector_file_left_by_an_interrupted_ingest_is_a_note(built: Path) -> None:
    # An ingest killed after a database commit and before saving the FAISS file leaves this.
    sql(built, "UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    out = run_check(built, code=0)
    assert "note: vectors.faiss is older than the database" in out and "ok: " in out
    out = run_check(built, "--repair", code=0)
    assert "rebuilt vectors.faiss" in out and "note:" not in out.split("repaired:")[-1]
    with Assistant.open(built, model="hash") as assistant:
        assert assistant.check().notes == []


def test_damaged_database_cannot_be_repaired_and_says_what_to_do(built: Path) -> None:
    path = built / "index.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'chunks_article'").fetchone()
    db.close()
    data = bytearray(path.read_bytes())
    start = (root[0] - 1) * page_size
    data[start : start + 8] = b"\x0a\x00\x05\x00\x00\x00\x00\x00"  # wrong page header
    path.write_bytes(bytes(data))
    for repair in ((), ("--repair",)):
        out = run_check(built, *repair, code=1)
        assert "is damaged (SQLite reports" in out and "ingest your articles again" in out


def test_garbage_database_and_missing_index_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "index.sqlite").write_bytes(b"not a database at all" * 200)
    out = run_check(tmp_path / "bad", code=1)
    assert "cannot be opened as an index database" in out
    out = run_check(tmp_path / "none", code=1)
    assert "No index found in" in out and "qa ingest" in out


def test_check_waits_for_no_writer(built: Path) -> None:
    with (
        Assistant.open(built, embedder=HashEmbedder()) as assistant,
        WriteLock(built),
        pytest.raises(IndexBusyError, match="being written"),
    ):
        assistant.check()
    out = CliRunner().invoke(cli, ["check", "--index", str(built)])
    assert out.exit_code == 0


def test_leftover_temporary_files_are_noted_and_deleted(built: Path) -> None:
    leftover = built / ".vectors.faiss.12345.tmp"  # what a write killed before its rename leaves
    leftover.write_bytes(b"half a file")
    folder = built / ".keywords.777.tmp"  # caches may be written as a folder, then renamed
    folder.mkdir()
    (folder / "part.npy").write_bytes(b"x" * 100)
    out = run_check(built, code=0)
    assert "note: 2 temporary files left by interrupted writes" in out
    out = run_check(built, "--repair", code=0)
    assert "repaired: deleted 2 temporary files" in out
    assert not leftover.exists() and not folder.exists()
