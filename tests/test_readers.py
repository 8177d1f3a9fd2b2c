"""PDF and Word files: text, reading order, pages, headings, tables, and clear failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.cli import cli
from qa.pipeline.readers.pdf import PAGE_BREAK, drop_running_lines, page_at, pdf_date, reflow
from tests.conftest import read_file
from tests.pdf_fixtures import HEADER, PAGES, notes_docx, report_pdf, scanned_pdf


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "docs" / "report.pdf"
    path.parent.mkdir(parents=True)
    path.write_bytes(report_pdf())
    return path


def test_pdf_text_in_order_with_pages_metadata_and_no_running_lines(report: Path) -> None:
    result = read_file(report)
    assert result.complete, result.failures
    (article,) = result.articles
    assert article.title == "Harbour report 2024"
    assert article.author == "Ana Lima" and article.date == "2024-03-05"
    text = article.text
    assert HEADER not in text and "Page 1 of 3" not in text and "of 3" not in text
    assert "kept information on each vessel" in text  # hyphenation at the line end repaired
    assert text.count(PAGE_BREAK) == 2
    # Every written line comes back, in order, on its own page.
    position = 0
    for number, lines in sorted(PAGES.items()):
        for line in filter(None, lines):
            if line.endswith("-"):
                continue
            tail = line.split()[-1]
            found = text.find(tail, position)
            assert found >= position, (line, text)
            assert page_at(text, found) == number, line
            position = found


def test_reflow_keeps_a_hyphen_before_a_capital_and_breaks_paragraphs_at_short_lines() -> None:
    lines = [
        "A long line that runs across the page and ends with well-",
        "Known names.",
        "",
        "Next.",
    ]
    assert reflow(lines) == [
        "A long line that runs across the page and ends with well- Known names.",
        "Next.",
    ]
    assert reflow(["Short end.", "New paragraph here that is long enough."]) == [
        "Short end.", "New paragraph here that is long enough."
    ]  # fmt: skip


def test_running_lines_need_most_pages() -> None:
    bodies = ["Storms.", "Boats.", "Piers.", "Lights."]
    pages = [["Report", body, f"{n}"] for n, body in enumerate(bodies, start=1)]
    assert drop_running_lines(pages) == [[body] for body in bodies]
    two = [["Report", "body"], ["Report", "more"]]  # too few pages to call anything running
    assert drop_running_lines(two) == two


def test_pdf_dates() -> None:
    assert pdf_date("D:20240131120000+01'00'") == "2024-01-31"
    assert pdf_date("D:2024") == "2024-01-01"
    assert pdf_date("yesterday") is None and pdf_date("D:20241399") is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (scanned_pdf(), "has no text layer (a scanned or image-only PDF)"),
        (report_pdf(password="secret"), "is encrypted (password-protected)"),
        (b"%PDF-1.7\n garbage", "is not a readable PDF"),
        (b"hello", "is not a PDF file"),
    ],
    ids=["scanned", "encrypted", "broken", "not-pdf"],
)
def test_pdf_failures_are_one_clear_line(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(content)
    result = read_file(path)
    assert not result.articles
    (failure,) = result.failures
    assert failure.source == str(path) and reason in failure.reason and "\n" not in failure.reason


def test_docx_headings_paragraphs_and_tables(tmp_path: Path) -> None:
    result = read_file(notes_docx(tmp_path / "notes.docx"))
    assert result.complete, result.failures
    (article,) = result.articles
    assert article.title == "Field notes" and article.author == "Tomas Berg"
    assert article.text.split("\n\n") == [
        "# Field notes",
        "The survey started on the eastern pier.",
        "# Methods",
        "Divers inspected every pile below the waterline.",
        "## Results",
        "Pier | Piles | Damaged\nEast | 40 | 7",
        "Seven piles need replacing before winter.",
    ]


def test_docx_failures(tmp_path: Path) -> None:
    path = tmp_path / "old.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0 an old binary .doc")
    (failure,) = read_file(path).failures
    assert "is not a Word .docx file" in failure.reason


def test_citations_into_a_pdf_name_their_page(report: Path, assistant_on_each_store) -> None:
    with assistant_on_each_store as assistant:
        assert assistant.ingest([report]).ok
        reply = assistant.ask(
            "The lighthouse keeper Tomas Berg repainted the lantern room in bright red."
        )
        assert reply.found
        assert reply.citations[0].page == 3, reply.citations
        assert reply.to_dict()["citations"][0]["page"] == 3
        reply = assistant.ask("Who reopened the harbour on a cold Monday morning?")
        assert reply.citations[0].page == 2, reply.citations


def test_cli_shows_the_page(report: Path, index_dir: Path) -> None:
    runner = CliRunner()
    env = {"QA_INDEX": str(index_dir)}
    result = runner.invoke(cli, ["ingest", str(report), "--model", "hash", "-q"], env=env)
    assert result.exit_code == 0, result.output
    question = "The lighthouse keeper Tomas Berg repainted the lantern room in bright red."
    result = runner.invoke(cli, ["ask", question], env=env)
    assert "[1] Harbour report 2024, p. 3 — " in result.output, result.output
    data = json.loads(runner.invoke(cli, ["ask", question, "--json"], env=env).output)
    assert data["citations"][0]["page"] == 3


def test_ui_source_shows_the_page() -> None:
    from qa.types import Answer, Citation, Passage
    from ui.sources import sources_html

    passage = Passage(1, "a", "Report", None, None, "/r.pdf", "Hello there.", 0, 12, 1, 1, 1, 0)
    citation = Citation(1, "a", "Report", None, "Hello there.", 0, 12, 1.0, 1, page=4)
    html = sources_html([Answer("q", "Hello there. [1]", True, [citation], [passage], 1.0)])
    assert "p. 4" in html
