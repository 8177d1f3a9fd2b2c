"""Terminal control sequences in an article never reach the terminal (issue 29, finding 11).

An article can hold escape sequences that set the window title, write the clipboard (OSC 52),
clear the screen or move the cursor. ``qa ask``, ``qa search``, ``qa list``, ``qa history`` and
``--json`` output show them as visible escapes; only newline and tab pass as they are.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa import Assistant
from qa.cli.commands import cli

TITLE_SET = "\x1b]0;pwned\x07"
CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
CLEAR = "\x1b[2J"
EIGHT_BIT_CSI = "\x9b31m"
ARTICLE = (
    f"# Harbour{CLEAR} storm\n\n"
    f"A storm closed the harbour for three days.{CLIPBOARD} The harbour master {TITLE_SET}Ana "
    f"Lima reopened the harbour on Monday.{EIGHT_BIT_CSI} Fishing boats\breturned at dawn.\n"
)
CONTROLS = ("\x1b", "\x07", "\x9b", "\x08")


@pytest.fixture
def hostile(index_dir: Path, write) -> Path:  # type: ignore[no-untyped-def]
    write("harbour.md", ARTICLE)
    with Assistant.open(index_dir, model="hash") as assistant:
        assert assistant.ingest([write.base]).ok
        assert TITLE_SET in assistant.store.article_text(assistant.articles()[0].id)  # stored
    return index_dir


def output(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "Who reopened the harbour?"],
        ["search", "Who reopened the harbour?"],
        ["list"],
    ],
)
def test_control_sequences_are_shown_as_escapes(hostile: Path, args: list[str]) -> None:
    text = output(*args, "--index", str(hostile))
    assert not any(control in text for control in CONTROLS), repr(text)
    assert "\\x1b" in text  # shown, not hidden: the reader sees something odd is there


def test_ask_shows_the_quote_with_its_escapes(hostile: Path) -> None:
    text = output("ask", "Who reopened the harbour?", "--index", str(hostile))
    assert "\\x1b]0;pwned\\x07Ana Lima reopened the harbour" in text


@pytest.mark.parametrize("args", [["ask", "Who reopened the harbour?"], ["list"]])
def test_json_output_escapes_them_too(hostile: Path, args: list[str]) -> None:
    text = output(*args, "--json", "--index", str(hostile))
    assert not any(control in text for control in CONTROLS), repr(text)
    assert "\x1b" in "".join(strings(json.loads(text)))  # the data itself is intact


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [text for item in value for text in strings(item)] if isinstance(value, list) else []


def test_terminal_text_keeps_newlines_and_tabs() -> None:
    from qa.cli.output import terminal_text

    assert terminal_text("a\tb\nc\rd\x00e\x7f") == "a\tb\nc\\x0dd\\x00e\\x7f"
