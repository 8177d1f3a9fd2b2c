"""The README must stay true: each ``qa`` command it shows exists and has help, and the
quickstart's two commands are real Makefile targets."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from qa.cli.commands import cli
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(set(re.findall(r"^\s*(?:\$ )?qa ([a-z][a-z-]*)", README, re.MULTILINE)))


def test_readme_shows_commands() -> None:
    assert {"ingest", "list", "stats", "remove"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_exists_and_has_help(command: str) -> None:
    assert command in cli.commands, f"README shows `qa {command}`, which does not exist"
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert cli.commands[command].help, f"`qa {command}` has no help text"


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_is_documented(command: str) -> None:
    assert command in COMMANDS, f"`qa {command}` is missing from README.md"


def test_quickstart_has_exactly_two_commands_that_exist() -> None:
    section = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", section, re.DOTALL)
    assert block is not None
    commands = [
        line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")
    ]
    assert len(commands) == 2, commands
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for command in commands:
        target = command.split("#")[0].split()[-1]
        assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), command
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _shown_options() -> list[tuple[str, str]]:
    """(command, --option) for every option the README's examples pass to a ``qa`` command."""
    shown = set()
    for line in re.findall(r"^\s*(?:\$ )?qa ([a-z][a-z-]*[^\n#]*)", README, re.MULTILINE):
        command, *words = line.split()
        shown.update((command, word.split("=")[0]) for word in words if word.startswith("--"))
    return sorted(shown)


@pytest.mark.parametrize(("command", "option"), _shown_options())
def test_readme_options_exist(command: str, option: str) -> None:
    shown = cli.commands[command]
    # A group (qa history) takes its subcommands' options: `qa history export --format md`.
    commands = [shown, *getattr(shown, "commands", {}).values()]
    known = {name for each in commands for param in each.params for name in param.opts}
    assert option in known, f"README passes {option} to `qa {command}`, which has no such option"


def _shown_answers() -> list[tuple[str, list[str]]]:
    """(question, the lines the README shows it printing) of each ``$ qa ask "…"`` example
    without options, on the demo corpus."""
    shown = []
    for block in re.findall(r"```\n(\$ qa ask .*?)```", README, re.DOTALL):
        first, *printed = block.rstrip("\n").splitlines()
        match = re.fullmatch(r'\$ qa ask "([^"]+)"', first)
        if match:
            shown.append((match.group(1), printed))
    return shown


def test_readme_shows_answers() -> None:
    assert len(_shown_answers()) >= 2  # an answer, and an abstention


@pytest.mark.parametrize(("question", "printed"), _shown_answers())
def test_readme_answers_are_what_qa_ask_prints(
    question: str, printed: list[str], demo_index: object
) -> None:
    """The answers the README shows are the ones the demo corpus gets (the models and the
    reader's constants change them: then the README must change too)."""
    result = CliRunner().invoke(cli, ["ask", question], env={"QA_INDEX": str(demo_index)})
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip("\n").splitlines() == printed


# Where the project names its own files: docs, docstrings and comments (tests and the store
# contract name files they create in temporary folders, so they are not read here).
NAMED_FILE = re.compile(
    r"\b((?:benchmarks|qa|embeddings|ui|docs|\.ci)/[\w./-]+\.(?:py|md|json|onnx))"
)
NAMED_IN = ("README.md", "docs", "benchmarks", "qa", "embeddings", "ui")
# Files a doc tells the reader to create, not files of the project; and what the benchmarks
# write (benchmarks/results/ is git-ignored: a fresh clone has none of it).
MADE_BY_HAND = {"embeddings/trained/verifier-float.onnx"}
WRITTEN_BY_RUNS = "benchmarks/results/"


def test_every_project_file_named_exists() -> None:
    """A comment citing a benchmark that is not there (or moved) sends the reader nowhere."""
    sources = [ROOT / "README.md"]
    for top in NAMED_IN[1:]:
        sources += sorted((ROOT / top).rglob("*.py")) + sorted((ROOT / top).rglob("*.md"))
    missing = [
        f"{source.relative_to(ROOT)}:{number}: {named}"
        for source in sources
        if "testing" not in source.relative_to(ROOT).parts
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1)
        for named in NAMED_FILE.findall(line)
        if named not in MADE_BY_HAND and not named.startswith(WRITTEN_BY_RUNS)
        if not (ROOT / named.rstrip(".")).exists()
    ]
    assert not missing, "\n".join(missing)
