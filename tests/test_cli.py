"""The ``qa`` command line, run in-process through click's runner on the hash test model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.cli.commands import cli
from tests.conftest import CORPUS


@pytest.fixture
def run(index_dir: Path):
    runner = CliRunner()

    def _run(*args: str, code: int = 0) -> str:
        result = runner.invoke(
            cli, [*args], env={"QA_INDEX": str(index_dir)}, catch_exceptions=False
        )
        assert result.exit_code == code, result.output
        return result.output

    return _run


def test_ingest_list_stats_remove(run) -> None:
    out = run("ingest", str(CORPUS), "--model", "hash", "-q")
    assert out.strip().splitlines()[-1].startswith("added 12, updated 0, unchanged 0")
    assert "unchanged 12" in run("ingest", str(CORPUS), "-q")
    listing = json.loads(run("list", "--json"))
    assert len(listing) == 12 and {"id", "title", "chunks", "source"} <= set(listing[0])
    stats = json.loads(run("stats", "--json"))
    assert stats["articles"] == 12 and stats["model"] == "hash-64"
    assert "articles: 12" in run("stats")
    warsaw = next(a for a in listing if a["title"] == "Warsaw")
    assert "removed 1 article" in run("remove", warsaw["id"])
    assert "removed 1 article" in run("remove", str(CORPUS / "rhine.md"))
    assert json.loads(run("stats", "--json"))["articles"] == 10


def test_ingest_counts_the_files_it_skipped_in_plain_words(run, write) -> None:
    write("good.md", "# Good\n\nFine.")
    photo = write("photo.png", "not text")
    read = "(read: .txt, .md, .markdown, .html, .htm, .json, .jsonl, .pdf, .docx)"
    assert f"skipped 1 file that is not an article: {photo} {read}\n" in run(
        "ingest", str(write.base), "--model", "hash", "-q"
    )
    scan = write("scan.jpg", "not text")
    said = run("ingest", str(write.base), "-q")
    assert f"skipped 2 files that are not articles: {photo}, {scan} {read}\n" in said
    for n in range(3):
        write(f"table{n}.csv", "a,b")
    said = run("ingest", str(write.base), "-q")
    assert "skipped 5 files that are not articles: " in said and " and 2 more (read: " in said


def test_list_counts_one_article_as_one(run, write) -> None:
    write("good.md", "# Good\n\nFine.")
    run("ingest", str(write.base), "--model", "hash", "-q")
    assert run("list").splitlines()[-1] == "1 article"


def test_ingest_json_report_and_failure_exit_status(run, write) -> None:
    write("good.md", "# Good\n\nFine.")
    write("empty.txt", "")
    report = json.loads(run("ingest", str(write.base), "--model", "hash", "--json", code=1))
    assert report["ok"] is False and len(report["added"]) == 1
    assert report["failed"][0]["reason"] == "is empty"


def test_failures_are_one_line_each_on_stderr(index_dir: Path, write) -> None:
    write("good.md", "# Good\n\nFine.")
    bad = write("bad.txt", b"\x00\x01\x02 binary")
    result = CliRunner().invoke(
        cli, ["ingest", str(write.base), str(write.base / "nope.md"), "--model", "hash", "-q",
              "--index", str(index_dir)],
    )  # fmt: skip
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(lines) == 2
    assert any(str(bad) in line for line in lines) and any("nope.md" in line for line in lines)
    assert "added 1" in result.stdout


def test_errors_are_messages_not_tracebacks(run, tmp_path: Path) -> None:
    out = run("list", "--index", str(tmp_path / "missing"), code=1)
    assert "No index found in" in out and "Traceback" not in out
    out = run("ingest", str(CORPUS), "--model", str(tmp_path / "no-model"), code=1)
    assert "not a local folder" in out and "never downloads" in out
    run("ingest", str(CORPUS / "rhine.md"), "--model", "hash", "-q")
    out = run("ingest", str(CORPUS / "rhine.md"), "--model", "hash-32", code=1)
    assert "was built with the model 'hash-64'" in out
    assert "No article matches" in run("remove", "nothing-like-this", code=1)


def test_empty_index_says_how_to_add_articles(run) -> None:
    run("ingest", str(CORPUS / "rhine.md"), "--model", "hash", "-q")
    run("remove", str(CORPUS / "rhine.md"))
    assert "qa ingest" in run("list")


@pytest.mark.parametrize("command", ["ingest", "list", "stats", "remove", "ask", "search", "chat"])
def test_every_command_has_help_with_an_example_or_summary(run, command: str) -> None:
    out = run(command, "--help")
    assert "Usage: " in out and "--index" in out


def test_ask_search_and_chat(run, write) -> None:
    write(
        "harbour.md",
        "---\ntitle: Harbour storm\nurl: https://news.example/h\n---\n\n"
        "A storm closed the harbour for three days. The harbour master Ana Lima reopened the "
        "harbour on Monday. Fishing boats returned at dawn.",
    )
    write("bridge.md", "# New bridge\n\nThe new bridge over the Vale river opened in May.")
    run("ingest", str(write.base), "--model", "hash", "-q")
    out = run("ask", "Who reopened the harbour?")
    assert "Ana Lima" in out and "[1]" in out
    assert '[1] Harbour storm — "' in out and "(https://news.example/h)" in out
    data = json.loads(run("ask", "Who reopened the harbour?", "--json"))
    assert data["found"] and data["citations"][0]["number"] == 1
    out = run("ask", "Quantum chromodynamics lattice gauge theory")
    assert "don't answer" in out and "Possibly related" in out
    out = run("search", "bridge Vale river", "-k", "1")
    assert out.startswith("1. New bridge") and "score" in out
    passages = json.loads(run("search", "harbour", "--json", "--article", "New bridge"))
    assert {p["title"] for p in passages} == {"New bridge"}
    result = CliRunner().invoke(
        cli,
        ["chat", "--index", str(write.base.parent / "index")],
        input="Who reopened the harbour?\n",
    )
    assert result.exit_code == 0 and "Ana Lima" in result.stdout


def test_ask_errors(run, index_dir: Path) -> None:
    assert "No index found in" in run("ask", "anything?", code=1)
    run("ingest", str(CORPUS / "rhine.md"), "--model", "hash", "-q")
    assert "question is empty" in run("ask", "  ", code=1)
    run("remove", str(CORPUS / "rhine.md"))
    assert "has no articles yet" in run("ask", "Where does the Rhine begin?", code=1)
