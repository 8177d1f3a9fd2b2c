"""The formats table (qa/pipeline/formats.py) is the one list of what article-qa reads: lookups
go by it, and the CLI help, the web UI's texts and the README's list are held to it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.cli.commands import cli
from qa.pipeline import formats
from qa.pipeline.formats import FORMATS, Format, format_of, is_paged
from tests.conftest import ROOT
from ui.uploads import save_uploads


def test_files_are_matched_by_their_longest_suffix() -> None:
    assert format_of("a.jsonl") is format_of("B.JSONL") is FORMATS[4]
    assert format_of("a.json.gz") is FORMATS[3]
    assert format_of("notes.markdown") is format_of("notes.md") is FORMATS[1]
    assert format_of("photo.png") is None and format_of("archive.gz") is None
    assert is_paged("/x/report.pdf") and is_paged("/x/report.PDF.gz")
    assert not is_paged("/x/report.docx") and not is_paged("https://example.org/page")


def test_a_format_names_its_suffixes_with_a_dot() -> None:
    with pytest.raises(ValueError, match="Currently, suffixes is"):
        Format(("md",), formats.read_markdown, ".md")


def test_the_cli_help_lists_every_format() -> None:
    text = " ".join(CliRunner().invoke(cli, ["ingest", "--help"]).output.split())
    assert f"Reads {formats.listed()}, and their .gz versions" in text
    for known in FORMATS:
        assert known.label in text


def test_the_readme_lists_every_format_in_order() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Article formats", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| (`\.[^|]*) \|", section, re.MULTILINE)
    listed = [tuple(re.findall(r"`(\.[a-z0-9]+)`", row)) for row in rows]
    assert listed == [known.suffixes for known in FORMATS]


def _ui_text(name: str) -> str:
    """The string a module of ui/ assigns to ``name`` (read from the source, so gradio is not
    imported here)."""
    for path in sorted((ROOT / "ui").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == name for target in node.targets
            ):
                value = ast.literal_eval(node.value)
                assert isinstance(value, str)
                return value
    raise AssertionError(f"no module of ui/ sets {name}")


def test_the_web_ui_names_every_format() -> None:
    empty_index = _ui_text("EMPTY_INDEX")
    for known in FORMATS:
        assert known.suffixes[0] in empty_index, known.label


def test_an_upload_of_another_type_names_what_is_read(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG")
    saved = save_uploads([str(photo)], tmp_path / "uploads")
    assert saved.paths == [] and formats.listed() in saved.rejected[0]
