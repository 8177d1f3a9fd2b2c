"""No traceback reaches a user, whatever happened to the index (issue 29, finding 9).

Each kind of damage below is applied to a healthy index, then every command that reads it runs
in-process: each ends in its normal output or in one line that says what is wrong and what to do
(``qa check`` prints one line per problem). A new traceback on any of them fails here. The slow
damage probe (benchmarks/damage_probe.py: bit flips in every index file, 10 seeds) runs last.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa import Assistant
from qa.cli.commands import cli
from tests.conftest import CORPUS

QUESTION = "Where does the Rhine begin?"
CHECK_PREFIXES = ("problem: ", "note: ", "repaired: ", "ok: ", "Error: ")


def sql(index: Path, *statements: str) -> None:
    db = sqlite3.connect(index / "index.sqlite", isolation_level=None)
    db.execute("PRAGMA foreign_keys=OFF")
    for statement in statements:
        db.execute(statement)
    db.close()


def flip_database_bytes(seed: int) -> Callable[[Path], None]:
    """Random bytes of the database file overwritten (after a checkpoint: no WAL beside it)."""

    def damage(index: Path) -> None:
        db = sqlite3.connect(index / "index.sqlite")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        path = index / "index.sqlite"
        data = bytearray(path.read_bytes())
        rng = random.Random(seed)
        for _ in range(48):
            data[rng.randrange(100, len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data))

    return damage


def config(value: object) -> Callable[[Path], None]:
    return lambda index: (index / "config.json").write_text(json.dumps(value), encoding="utf-8")


def text_dimension(index: Path) -> None:
    data = json.loads((index / "config.json").read_text(encoding="utf-8"))
    data["dimension"] = "sixty-four"
    (index / "config.json").write_text(json.dumps(data), encoding="utf-8")


def garbage_vectors(index: Path) -> None:
    path = index / "vectors.faiss"
    path.write_bytes(b"\x00garbage" * (path.stat().st_size // 8))


DAMAGE: dict[str, Callable[[Path], None]] = {
    **{f"database bytes, seed {seed}": flip_database_bytes(seed) for seed in range(6)},
    "sentences table dropped": lambda index: sql(index, "DROP TABLE sentences"),
    "keyword table dropped": lambda index: sql(index, "DROP TABLE chunks_fts"),
    "chunks table dropped": lambda index: sql(index, "DROP TABLE chunks"),
    "text in meta numbers": lambda index: sql(
        index, "UPDATE meta SET value = 'abc' WHERE key IN ('generation', 'next_chunk_id')"
    ),
    "text in every meta value": lambda index: sql(index, "UPDATE meta SET value = 'x y'"),
    "blob in an article's text": lambda index: sql(
        index, "UPDATE articles SET text = CAST(text AS BLOB) WHERE rowid = 1"
    ),
    "config is a JSON list": config([1, 2, 3]),
    "config has a text dimension": text_dimension,
    "config is a number": config(7),
    "config deleted": lambda index: (index / "config.json").unlink(),
    "database deleted": lambda index: [p.unlink() for p in index.glob("index.sqlite*")],
    "vector file garbage": garbage_vectors,
    "vector file is a folder": lambda index: (
        (index / "vectors.faiss").unlink(),
        (index / "vectors.faiss").mkdir(),
    ),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pristine") / "index"
    with Assistant.open(folder, model="hash") as assistant:
        assert assistant.ingest([CORPUS / "rhine.md", CORPUS / "warsaw.md"]).ok
    return folder


def invoke(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"qa {' '.join(args)} raised {result.exception!r}"
    )
    assert "Traceback" not in result.output
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


def one_line_or_output(args: list[str]) -> None:
    code, lines = invoke(*args)
    if args[0] == "check":
        assert all(line.startswith(CHECK_PREFIXES) for line in lines), lines
    elif code != 0:
        errors = [line for line in lines if line.startswith("Error: ")]
        assert len(errors) == 1 and lines[-1] == errors[0], lines


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damage_gives_one_line_never_a_traceback(pristine: Path, tmp_path: Path, kind: str) -> None:
    import shutil

    index = tmp_path / "index"
    shutil.copytree(pristine, index)
    DAMAGE[kind](index)
    for args in (
        ["ask", QUESTION],
        ["search", QUESTION],
        ["list"],
        ["stats"],
        ["check"],
        ["check", "--repair"],
        ["ask", QUESTION],
        ["ingest", str(CORPUS / "oxygen.md"), "-q"],
    ):
        one_line_or_output([*args, "--index", str(index)])


def test_an_index_folder_that_cannot_be_made_is_one_line() -> None:
    for args in (["ingest", str(CORPUS / "rhine.md")], ["ask", QUESTION], ["check"]):
        code, lines = invoke(*args, "--index", "/proc/x")
        assert code == 1 and len(lines) == 1 and lines[0].startswith("Error: "), lines
        assert "/proc/x" in lines[0]


def test_a_looping_symlink_fails_alone(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "loop.txt").symlink_to("loop.txt")
    (docs / "gone.md").symlink_to(tmp_path / "nowhere.md")
    (docs / "rhine.md").write_text((CORPUS / "rhine.md").read_text(encoding="utf-8"), "utf-8")
    code, lines = invoke("ingest", str(docs), "--index", str(tmp_path / "index"), "-q")
    assert code == 1  # some file failed, the rest was ingested
    assert any("loop.txt: is a symbolic link that loops" in line for line in lines), lines
    assert any("gone.md: is a symbolic link" in line for line in lines), lines
    assert lines[-1].startswith("added 1,"), lines
    code, lines = invoke("ingest", str(docs / "loop.txt"), "--index", str(tmp_path / "index"))
    assert code == 1 and "loops or points to nothing" in lines[0], lines


@pytest.mark.slow
def test_damage_probe_never_ends_in_a_wrong_answer_with_check_ok() -> None:
    from benchmarks.damage_probe import probe

    failures: list[str] = []
    # Six seeds per file and kind of damage (ten took 29 s of CI; benchmarks/damage_probe.py
    # runs as many as asked, and tests/test_check.py and test_integrity.py cover each kind).
    result = probe(seeds=6, bits=1, model="hash", question_count=4, log=failures.append)
    assert result.ok, failures
    assert len(result.cases) >= 18  # every index file, 6 seeds each
    damaged = probe(seeds=6, bits=32, keep_mtime=True, model="hash", question_count=4,
                    log=failures.append)  # fmt: skip
    assert damaged.ok, failures
