"""The command line as people meet it (issue 28, point 9; dates of issue 29, point 6): whole
command summaries, a piped ``qa chat`` transcript, a progress bar that counts what the summary
says, the wording of a missing index, and dates that are checked."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from qa.cli import cli
from qa.conversations import Conversations

ROOT = Path(__file__).resolve().parent.parent


def summaries(help_text: str) -> dict[str, str]:
    """Command name -> its summary as the Commands section shows it (wrapped lines joined)."""
    section = help_text.split("Commands:\n", 1)[1]
    found: dict[str, str] = {}
    name = ""
    for line in section.splitlines():
        match = re.match(r"  (\S+)\s+(.*)", line)
        if match and not line.startswith("   "):
            name = match.group(1)
            found[name] = match.group(2).strip()
        elif name and line.strip():
            found[name] += " " + line.strip()
    return found


def first_sentence(command: click.Command) -> str:
    text = inspect.cleandoc(command.help or "").split("\n\n")[0]
    text = " ".join(text.split())
    end = re.search(r"\.(\s|$)", text)
    return text[: end.start() + 1] if end else text


@pytest.mark.parametrize("group", [[], ["history"]], ids=["qa", "qa history"])
def test_help_lists_whole_summaries(group: list[str]) -> None:
    shown = summaries(CliRunner().invoke(cli, [*group, "--help"], terminal_width=80).output)
    command = cli if not group else cli.commands[group[0]]
    assert isinstance(command, click.Group)
    assert set(shown) == set(command.commands)
    for name, sub in command.commands.items():
        assert "..." not in shown[name], shown[name]
        assert shown[name] == first_sentence(sub), name


def qa(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("QA_INDEX", None)
    return subprocess.run(
        [sys.executable, "-m", "qa", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def test_missing_index_reads_no_index_found_in_dot_slash_index(tmp_path: Path) -> None:
    done = qa("ask", "Anything?", cwd=tmp_path)
    assert done.returncode == 1
    assert "No index found in ./index." in done.stderr and "Traceback" not in done.stderr


def harbour_index(tmp_path: Path) -> Path:
    """./index in ``tmp_path`` holding one article (in ``tmp_path/docs``), on the hash model."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbour.md").write_text(
        "# Harbour storm\n\nThe harbour master Ana Lima reopened the harbour on Monday.\n", "utf-8"
    )
    assert qa("ingest", str(docs), "--model", "hash", "-q", cwd=tmp_path).returncode == 0
    return docs


def test_piped_chat_shows_each_question_and_how_to_resume(tmp_path: Path) -> None:
    docs = harbour_index(tmp_path)
    done = qa("chat", "--index", "index", cwd=tmp_path, stdin="Who reopened the harbour?\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("? Who reopened the harbour?\n")  # the question, echoed
    assert "Ana Lima" in done.stdout
    resume = re.search(r"Continue it with: qa chat --resume (\w+)\n", done.stderr)
    assert resume is not None, done.stderr
    again = qa("chat", "--resume", resume.group(1), cwd=tmp_path, stdin="")
    assert again.returncode == 0 and "Resuming 'Who reopened the harbour?' (1 turn)" in again.stderr
    # A blank line in a file of questions ends nothing, and no prompt is left after the last.
    two = qa("chat", cwd=tmp_path, stdin="Who reopened the harbour?\n\n  \nWhen was it reopened?\n")
    assert two.returncode == 0, two.stderr
    assert re.findall(r"^\? (.*)$", two.stdout, re.MULTILINE) == [
        "Who reopened the harbour?",
        "When was it reopened?",
    ]
    assert two.stdout.rstrip().splitlines()[-1] != "?"
    # Elsewhere than ./index, the command names the index too.
    other = qa("chat", "--index", str(tmp_path / "index"), cwd=docs, stdin="Who reopened it?\n")
    assert f"--index {tmp_path / 'index'}" in other.stderr


def test_exit_or_quit_ends_the_chat_and_is_not_asked(tmp_path: Path) -> None:
    harbour_index(tmp_path)
    for word in ("quit", "Exit"):
        done = qa("chat", cwd=tmp_path, stdin=f"Who reopened the harbour?\n{word}\nWhen?\n")
        assert done.returncode == 0, done.stderr
        asked = re.findall(r"^\? (.*)$", done.stdout, re.MULTILINE)
        assert asked == ["Who reopened the harbour?", word], done.stdout
        assert done.stdout.rstrip().endswith(f"? {word}")  # nothing answered after it
    listed = qa("history", "list", cwd=tmp_path)
    assert listed.stdout.count("1 turn") == 2, listed.stdout  # neither word was saved as a turn


def in_a_terminal(*args: str, cwd: Path, typed: list[str]) -> str:
    """Run ``qa`` with a terminal (a pseudo-terminal) as its stdin and stdout, typing each of
    ``typed`` once the prompt "? " shows; everything it printed."""
    import pty
    import select

    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm"}
    env.pop("QA_INDEX", None)
    main, side = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "qa", *args], stdin=side, stdout=side, stderr=side, cwd=cwd, env=env
    )
    os.close(side)
    shown, pending = b"", list(typed)
    try:
        while True:
            ready, _, _ = select.select([main], [], [], 120)
            if not ready:
                raise AssertionError(f"no output for 120 s: {shown.decode(errors='replace')}")
            try:
                data = os.read(main, 4096)
            except OSError:  # the terminal closed: the command ended
                break
            if not data:
                break
            shown += data
            if pending and shown.endswith(b"? "):
                os.write(main, pending.pop(0).encode())
    finally:
        process.wait(timeout=60)
        os.close(main)
    return shown.decode(errors="replace")


def test_in_a_terminal_the_up_arrow_brings_back_earlier_questions(tmp_path: Path) -> None:
    harbour_index(tmp_path)
    up = "\x1b[A"
    first = in_a_terminal(
        "chat", cwd=tmp_path, typed=["Who reopened the harbour?\r", up + "\r", "exit\r"]
    )
    assert first.count("Ana Lima reopened the harbour") >= 2, first  # asked twice
    # Resumed, the conversation's questions are there too.
    in_a_terminal("chat", "--resume", cwd=tmp_path, typed=[up + "\r", "exit\r"])
    saved = Conversations(tmp_path / "index").latest(None)
    assert saved is not None
    assert [turn.question for turn in saved.history()] == ["Who reopened the harbour?"] * 3


def test_ingest_progress_counts_what_the_summary_counts(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(3):
        (docs / f"a{n}.md").write_text(
            f"# Article {n}\n\nThe first sentence of {n}. The second one of {n}. A third.\n",
            "utf-8",
        )
    result = CliRunner().invoke(
        cli, ["ingest", str(docs), "--model", "hash", "--index", str(tmp_path / "index")]
    )
    assert result.exit_code == 0, result.output
    bars = re.findall(r"Embedding: +100%\|[^|]*\| (\d+)/(\d+) ", result.stderr)
    assert bars, result.stderr
    done, total = map(int, bars[-1])
    summary = re.search(r"\((\d+) chunks \+ (\d+) sentences embedded", result.stdout)
    assert summary is not None, result.stdout
    chunks, sentences = map(int, summary.groups())
    assert chunks == 3 and sentences == 9
    assert done == total == chunks + sentences


@pytest.fixture
def dated(tmp_path: Path) -> Path:
    """An index of three articles: dated 2019-12-30, dated 2024-06-01, and undated."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, when, text in (
        ("old", "2019-12-30", "The old harbour wall was built of granite."),
        ("new", "2024-06-01", "The new harbour wall was built of concrete."),
        ("undated", None, "The harbour wall of the island was built of wood."),
    ):
        front = f"---\ntitle: {name}\ndate: {when}\n---\n\n" if when else f"# {name}\n\n"
        (docs / f"{name}.md").write_text(front + text + "\n", "utf-8")
    index = tmp_path / "index"
    result = CliRunner().invoke(
        cli, ["ingest", str(docs), "--model", "hash", "--index", str(index), "-q"]
    )
    assert result.exit_code == 0, result.output
    return index


def titles_found(index: Path, *options: str) -> set[str]:
    import json

    result = CliRunner().invoke(
        cli, ["search", "harbour wall built", "--json", "--index", str(index), *options]
    )
    assert result.exit_code == 0, result.output
    return {p["title"] for p in json.loads(result.output)}


def test_since_and_until_take_iso_days_months_and_years(dated: Path) -> None:
    assert titles_found(dated, "--since", "2020-01-01") == {"new"}
    assert titles_found(dated, "--since", "2024") == {"new"}
    assert titles_found(dated, "--until", "2019") == {"old"}
    assert titles_found(dated, "--since", "2019-12", "--until", "2019-12") == {"old"}
    assert titles_found(dated, "--until", "2024-06") == {"old", "new"}


@pytest.mark.parametrize("typed", ["1/1/2020", "garbage", "2024-13", "2023-02-30", "24"])
@pytest.mark.parametrize("command", ["ask", "search"])
def test_a_date_that_is_not_one_is_refused_with_an_example(
    dated: Path, typed: str, command: str
) -> None:
    result = CliRunner().invoke(cli, [command, "harbour?", "--index", str(dated), "--since", typed])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f'"{typed}" is not' in result.output and "2024-03-01" in result.output


def test_a_filter_that_leaves_nothing_says_so_and_counts_the_undated(dated: Path) -> None:
    for command in ("ask", "search"):
        result = CliRunner().invoke(
            cli, [command, "harbour wall?", "--index", str(dated), "--since", "2030-01-01"]
        )
        assert result.exit_code == 1, result.output
        assert "No article is dated since 2030-01-01 (the index has 3)." in result.output
        assert "1 article has no date" in result.output
    result = CliRunner().invoke(
        cli, ["ask", "harbour?", "--index", str(dated), "--since", "2025", "--until", "2024"]
    )
    assert result.exit_code == 1
    assert "start date 2025-01-01 is after the end date 2024-12-31" in result.output
