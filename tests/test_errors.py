"""Every user-facing error path: the message says what happened and what to do, in one line.

Each case runs the real command line in-process (click's runner) and checks: exit status 1, a
single ``Error: ...`` line, no traceback. A full disk and refused permissions are simulated (the
tests run as root, for whom chmod denies nothing) by making the write point raise what the OS or
SQLite would.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from embeddings import VectorIndex
from qa import Assistant
from qa.cli.commands import cli
from qa.config import FORMAT_VERSION
from qa.stores.embedded.sqlite import Store
from tests.conftest import CORPUS


def fails(*args: str) -> str:
    """Run ``qa ARGS``; it must fail with one line of message. Return that line."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert "Traceback" not in result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


@pytest.fixture
def built(index_dir: Path) -> Path:
    with Assistant.open(index_dir, model="hash") as assistant:
        assert assistant.ingest([CORPUS / "rhine.md"]).ok
    return index_dir


@pytest.mark.parametrize(
    "command",
    [["ask", "Where?"], ["search", "river"], ["list"], ["stats"], ["check"], ["remove", "x"]],
)
def test_missing_index(tmp_path: Path, command: list[str]) -> None:
    line = fails(*command, "--index", str(tmp_path / "nowhere"))
    assert f"No index found in {tmp_path / 'nowhere'}" in line  # what happened
    assert "Create one with: qa ingest PATH --index" in line  # what to do


def test_wrong_model_for_the_index(built: Path) -> None:
    line = fails("ingest", str(CORPUS / "rhine.md"), "--index", str(built), "--model", "hash-32")
    assert "was built with the model 'hash-64', not 'hash-32'" in line
    assert "Leave --model out" in line and "new index folder" in line


def test_model_folder_that_does_not_exist(tmp_path: Path) -> None:
    line = fails("ingest", str(CORPUS), "--index", str(tmp_path / "i"), "--model", "/no/model")
    assert "is not a local folder" in line and "pass the folder" in line


def test_garbage_database(built: Path) -> None:
    (built / "index.sqlite").write_bytes(b"garbage, not SQLite " * 500)
    for name in ("index.sqlite-wal", "index.sqlite-shm"):
        (built / name).unlink(missing_ok=True)
    line = fails("ask", "Where does the Rhine begin?", "--index", str(built))
    assert "cannot be opened as an index database" in line
    assert "Move the folder away and ingest your articles again" in line


def test_damaged_config(built: Path) -> None:
    (built / "config.json").write_text('{"model": "hash-64", "dimen', encoding="utf-8")
    line = fails("search", "river", "--index", str(built))
    assert f"{built / 'config.json'} is damaged" in line and "qa check --repair" in line


def test_config_from_a_newer_version(built: Path) -> None:
    path = built / "config.json"
    path.write_text(
        path.read_text().replace(f'"format_version": {FORMAT_VERSION}', '"format_version": 99')
    )
    line = fails("list", "--index", str(built))
    assert "format version 99" in line and "Re-ingest your articles into a new index" in line


def test_disk_full_while_saving_vectors_loses_nothing(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: VectorIndex, path: Path) -> str:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(VectorIndex, "save", full)
    line = fails("ingest", str(CORPUS), "--index", str(built), "-q")
    assert f"The disk is full: could not write {built / 'vectors.faiss'}" in line
    assert "Nothing was lost" in line and "Free some disk space, then run the same command" in line
    monkeypatch.undo()
    # The articles committed before the failed write are all there, and the index is sound.
    with Assistant.open(built, model="hash") as assistant:
        assert assistant.stats().articles == 12 and assistant.check().ok
        assert assistant.search("Where does the Rhine begin?", k=1)[0].title == "Rhine"


def test_disk_full_inside_the_database_loses_nothing(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real SQLITE_FULL: the database may not grow past its current size."""
    real_init = Store.__init__

    def capped(self: Store, path: Path) -> None:
        real_init(self, path)
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages + 2}")

    monkeypatch.setattr(Store, "__init__", capped)
    line = fails("ingest", str(CORPUS), "--index", str(built), "-q")
    assert f"The disk is full: could not write {built / 'index.sqlite'}" in line
    assert "Nothing was lost" in line
    monkeypatch.undo()
    with Assistant.open(built, model="hash") as assistant:
        assert [a.title for a in assistant.articles()] == ["Rhine"]  # as before the ingest
        assert assistant.check().ok
        assert assistant.ingest([CORPUS]).ok  # with space again, the same command finishes
        assert assistant.stats().articles == 12


def test_permission_denied_on_the_vector_file(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(self: VectorIndex, path: Path) -> str:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(VectorIndex, "save", denied)
    line = fails("remove", str(CORPUS / "rhine.md"), "--index", str(built))
    assert f"Cannot write {built / 'vectors.faiss'} (permission denied)" in line
    assert "owner and permissions" in line and "--index" in line


def test_permission_denied_on_the_lock_file(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import qa.locking

    def denied(path: str, *args: object) -> int:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(qa.locking.os, "open", denied)
    line = fails("ingest", str(CORPUS / "rhine.md"), "--index", str(built), "-q")
    assert f"Cannot write {built / 'write.lock'} (permission denied)" in line


def test_permission_denied_creating_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    target = tmp_path / "locked" / "index"
    line = fails("ingest", str(CORPUS), "--index", str(target), "-q")
    assert f"Cannot write {target} (permission denied)" in line


def test_read_only_database(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(self: Store, *args: object, **kwargs: object) -> object:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(Store, "put_article", read_only)
    line = fails("ingest", str(CORPUS / "warsaw.md"), "--index", str(built), "-q")
    assert f"Cannot write {built / 'index.sqlite'}" in line and "Nothing was changed" in line


def test_unsupported_file_type(tmp_path: Path, index_dir: Path) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG\r\n")
    result = CliRunner().invoke(cli, ["ingest", str(photo), "--index", str(index_dir), "-q",
                                      "--model", "hash"])  # fmt: skip
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert line.startswith(f"failed: {photo}: unsupported file type")
    assert "supported: .txt, .md" in line and "optionally gzipped" in line  # what to use instead
    assert result.stdout.strip().endswith(
        "failed 1 (0 chunks + 0 sentences embedded, 0 reused, 0.0 s)"
    )


def test_summaries_count_one_thing_in_the_singular_and_thousands_with_commas() -> None:
    from qa.types import IngestReport

    one = IngestReport(["a"], [], [], [], [], [], 1, 0, 30, 0.25, sentences_embedded=1)
    assert one.summary().endswith("(1 chunk + 1 sentence embedded, 0 reused, 0.2 s)")
    many = IngestReport(["a"], [], [], [], [], [], 1200, 3, 9000, 2.0, sentences_embedded=4500)
    assert "(1,200 chunks + 4,500 sentences embedded, 3 reused" in many.summary()
