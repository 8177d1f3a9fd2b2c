"""``qa chat`` saves its conversations; ``qa history`` and ``qa chat --resume`` use them
(in-process through click's runner, on the hash test model)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa import Conversations
from qa.cli.commands import cli

HARBOUR = (
    "---\ntitle: Harbour storm\nurl: https://news.example/h\n---\n\n"
    "A storm closed the harbour for three days. The harbour master Ana Lima reopened the "
    "harbour on Monday. Fishing boats returned at dawn."
)
BRIDGE = "# New bridge\n\nThe new bridge over the Vale river opened in May."


@pytest.fixture
def run(index_dir: Path, write):
    write("harbour.md", HARBOUR)
    write("bridge.md", BRIDGE)
    runner = CliRunner()

    def _run(*args: str, code: int = 0, input: str | None = None) -> str:
        result = runner.invoke(cli, [*args], env={"QA_INDEX": str(index_dir)}, input=input)
        assert result.exit_code == code, result.output
        return result.output

    _run("ingest", str(write.base), "--model", "hash", "-q")
    return _run


def test_chat_is_saved_and_history_lists_shows_exports(run, tmp_path: Path) -> None:
    assert "No saved conversations yet" in run("history", "list")
    out = run("chat", input="Who reopened the harbour?\nWhen did the new bridge open?\n")
    assert "Ana Lima" in out
    (info,) = json.loads(run("history", "list", "--json"))
    assert info["title"] == "Who reopened the harbour?" and info["turns"] == 2
    assert info["id"] in run("history", "list")
    shown = run("history", "show", info["id"])
    assert "## 1. Who reopened the harbour?" in shown
    assert "## 2. When did the new bridge open?" in shown
    assert '- [1] Harbour storm — "' in shown and "(https://news.example/h#:~:text=" in shown
    data = json.loads(run("history", "export", info["id"], "--format", "json"))
    assert [t["answer"]["question"] for t in data["turns"]] == [
        "Who reopened the harbour?", "When did the new bridge open?"
    ]  # fmt: skip
    assert data["turns"][0]["answer"]["citations"][0]["title"] == "Harbour storm"
    target = tmp_path / "chat.md"
    run("history", "export", info["id"], "-o", str(target))
    assert target.read_text(encoding="utf-8") == shown
    out = run("history", "export", info["id"], "-o", str(tmp_path / "no" / "chat.md"), code=1)
    assert "Cannot write" in out and "No such file or directory" in out and "Traceback" not in out
    run("history", "rename", info["id"], "Harbour and bridge")
    assert "Harbour and bridge" in run("history", "list")
    run("history", "delete", info["id"])
    assert "No saved conversations yet" in run("history", "list")
    out = run("history", "show", info["id"], code=1)
    assert "No saved conversation" in out and "Traceback" not in out


def test_chat_resume_continues_the_latest_or_a_given_conversation(run, index_dir: Path) -> None:
    run("chat", input="Who reopened the harbour?\n")
    run("chat", input="When did the new bridge open?\n")
    older, _ = reversed(Conversations(index_dir).list(None))
    out = run("chat", "--resume", input="Who reopened the harbour?\n")
    assert "Resuming 'When did the new bridge open?' (1 turn)" in out
    out = run("chat", "--resume", older.id, input="When did the new bridge open?\n")
    assert "Resuming 'Who reopened the harbour?'" in out
    chats = Conversations(index_dir)
    assert [c.turns for c in chats.list(None)] == [2, 2]
    assert [a.question for a in chats.get(None, older.id).answers] == [
        "Who reopened the harbour?", "When did the new bridge open?"
    ]  # fmt: skip
    assert "No saved conversation 'nope'" in run("chat", "--resume", "nope", code=1)


def test_resume_with_nothing_saved_says_how_to_start(run) -> None:
    assert "qa chat" in run("chat", "--resume", code=1)


@pytest.mark.parametrize("command", ["list", "show", "export", "rename", "delete"])
def test_history_commands_have_help(run, command: str) -> None:
    out = run("history", command, "--help")
    assert "Usage: " in out and "--index" in out


def test_a_conversation_is_named_by_the_start_of_its_id_when_only_it_starts_so(
    run, index_dir: Path
) -> None:
    run("chat", input="Who reopened the harbour?\n")
    (info,) = Conversations(index_dir).list(None)
    assert "## 1. Who reopened the harbour?" in run("history", "show", info.id[:4])
    out = run("chat", "--resume", info.id[:6], input="When did the new bridge open?\n")
    assert "Resuming 'Who reopened the harbour?'" in out
    too_short = run("history", "show", info.id[:3], code=1)
    assert f"{info.id[:3]!r} is too short to name a conversation: give at least 4" in too_short
    assert "No saved conversation" in run("history", "show", "zzz", code=1)  # begins none
    # Two ids beginning alike: the start of both names neither.
    chats = Conversations(index_dir)
    with sqlite3.connect(index_dir / "conversations.sqlite") as db:
        db.execute("UPDATE conversations SET id = ? WHERE id = ?", ("abcd1111", info.id))
        db.execute(
            "UPDATE turns SET conversation_id = ? WHERE conversation_id = ?", ("abcd1111", info.id)
        )
    run("chat", input="When did the new bridge open?\n")
    other = next(c.id for c in chats.list(None) if c.id != "abcd1111")
    with sqlite3.connect(index_dir / "conversations.sqlite") as db:
        db.execute("UPDATE conversations SET id = ? WHERE id = ?", ("abcd2222", other))
        db.execute(
            "UPDATE turns SET conversation_id = ? WHERE conversation_id = ?", ("abcd2222", other)
        )
    out = run("history", "delete", "abcd", code=1)
    assert "'abcd' begins 2 conversations' ids (abcd2222, abcd1111): give more of it." in out
    assert run("history", "delete", "abcd1").strip() == "deleted abcd1111"
    assert [c.id for c in chats.list(None)] == ["abcd2222"]
