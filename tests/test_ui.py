"""The functions behind the web UI, without a browser: rendering, escaping, uploads, handlers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qa import Answer, Assistant, Citation, Passage
from ui.app import EMPTY_INDEX, add_files, remove_article, respond
from ui.command import parse_auth
from ui.render import answer_markdown, cite_id, escape_markdown, safe_url, sources_html
from ui.state import AppState
from ui.uploads import safe_name, save_uploads

HOSTILE = '<script>alert("x")</script> <img src=x onerror="alert(1)"> **bold** [link](javascript:x)'


def passage(text: str, start: int = 10, url: str | None = "https://example.org/a") -> Passage:
    return Passage(1, "a1", "<b>Title</b>", url, "2024-01-02", "/x", text, start,
                   start + len(text), 1.0, 1, 0.6, 3.0)  # fmt: skip


def cited(quote_text: str, source: Passage, offset: int) -> Answer:
    start = source.start + offset
    citation = Citation(1, "a1", source.title, source.url, quote_text, start,
                        start + len(quote_text), 0.8, source.chunk_id)  # fmt: skip
    return Answer("Why <script>?", f"{quote_text} [1]", True, [citation], [source], 0.8)


def test_escape_markdown_shows_markup_as_text() -> None:
    escaped = escape_markdown(HOSTILE)
    assert "<" not in escaped and ">" not in escaped.replace("\\>", "")
    assert "&lt;script&gt;" in escaped
    assert "\\*\\*bold\\*\\*" in escaped and "\\[link\\]\\(javascript:x\\)" in escaped


def test_answer_markdown_links_each_marker_to_its_source() -> None:
    source = passage("Before. " + HOSTILE + " After.")
    reply = cited(HOSTILE, source, len("Before. "))
    text = answer_markdown(reply, turn=3)
    assert text.endswith(f"[\\[1\\]](#{cite_id(3, 1)})")
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_sources_panel_marks_the_quote_by_offsets_and_escapes_everything() -> None:
    source = passage("Before. " + HOSTILE + " Before.")
    reply = cited(HOSTILE, source, len("Before. "))
    panel = sources_html([reply])
    assert "<script>" not in panel and "<img" not in panel
    assert f'id="{cite_id(0, 1)}"' in panel and "&lt;b&gt;Title&lt;/b&gt;" in panel
    marked = panel.split("<mark>")[1].split("</mark>")[0]
    assert marked.startswith("&lt;script&gt;") and marked.endswith("[link](javascript:x)")
    assert panel.count("<mark>") == 1  # the second "Before." is not marked: offsets, not search
    assert 'href="https://example.org/a#:~:text=' in panel  # opens the page at the quote


def test_only_http_links_become_links() -> None:
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,x") is None
    assert safe_url("https://example.org") == "https://example.org"
    panel = sources_html(
        [cited("Quote here.", passage("Quote here.", url="javascript:alert(1)"), 0)]
    )
    assert "javascript:" not in panel


def test_not_found_lists_related_passages() -> None:
    reply = Answer("q", "The indexed articles don't answer this question.", False, [],
                   [passage("Something close.")], 0.2)  # fmt: skip
    assert "Possibly related" in answer_markdown(reply, 0)
    assert "related" in sources_html([reply]) and "<mark>" not in sources_html([reply])


def test_possibly_related_lists_each_article_once_with_its_best_passage() -> None:
    rhine = [replace(passage(f"Rhine part {n}."), chunk_id=n, title="Rhine") for n in (1, 2)]
    other = replace(passage("Danube part."), chunk_id=3, article_id="a2", title="Danube")
    reply = Answer("q", "The indexed articles don't answer this question.", False, [],
                   [*rhine, other], 0.2)  # fmt: skip
    message = answer_markdown(reply, 0)
    assert message.count("Rhine") == 1 and "Danube" in message
    panel = sources_html([reply])
    assert "Rhine part 1." in panel and "Rhine part 2." not in panel and "Danube part." in panel


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\windows\\evil.txt", "evil.txt"),
        (".hidden.md", "hidden.md"),
        ("my report (final).html", "my_report_final_.html"),
        ("a..b.json", "a.b.json"),
        ("", "upload"),
    ],
)
def test_safe_name_cannot_escape(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def test_save_uploads_checks_type_size_and_names(tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    good = incoming / "story.md"
    good.write_text("# Story\n\nText.", encoding="utf-8")
    bad_type = incoming / "photo.png"
    bad_type.write_bytes(b"png")
    big = incoming / "big.txt"
    big.write_bytes(b"x" * (2 * 2**20))
    saved = save_uploads([str(good), str(bad_type), str(big)], tmp_path / "uploads", max_mb=1)
    assert [p.name for p in saved.paths] == ["story.md"]
    assert saved.paths[0].parent == (tmp_path / "uploads").resolve()
    assert "photo.png: not an article file" in saved.rejected[0]
    assert saved.rejected[1] == "big.txt: 2.0 MB is over the upload limit of 1 MB"


def test_auth_option() -> None:
    import click

    assert parse_auth("ana:secret") == ("ana", "secret")
    assert parse_auth(None) is None
    with pytest.raises(click.BadParameter):
        parse_auth("no-colon")


@pytest.fixture
def state(index_dir: Path, write) -> AppState:
    write(
        "harbour.md",
        "# Harbour storm\n\nThe harbour master Ana Lima reopened the harbour on Monday.",
    )
    with Assistant.open(index_dir, model="hash") as assistant:
        assistant.ingest([write.base])
    return AppState(index_dir)


def test_respond_streams_an_answer_and_fills_the_sources(state: AppState) -> None:
    steps = list(respond(state, "Who reopened the harbour?", [], [], 5, None, "", ""))
    assert steps[0][1][-1]["content"].startswith("Searching")
    textbox, messages, turns, panel = steps[-1]
    assert textbox == "" and len(turns) == 1 and turns[0].found
    assert messages[0] == {"role": "user", "content": "Who reopened the harbour?"}
    assert "Ana Lima" in messages[-1]["content"] and "#qa-cite-0-1" in messages[-1]["content"]
    assert "<mark>" in panel and "Ana Lima" in panel
    # A second turn keeps the first and numbers its own sources.
    again = list(respond(state, "When was it reopened?", messages, turns, 5, None, None, None))
    assert len(again[-1][2]) == 2 and "qa-cite-1-1" in again[-1][3]


def test_respond_on_an_empty_index_explains_how_to_add_articles(tmp_path: Path) -> None:
    steps = list(respond(AppState(tmp_path / "empty"), "Anything?", [], [], 5, None, "", ""))
    assert steps[-1][1][-1]["content"] == EMPTY_INDEX


def test_upload_then_remove(state: AppState, tmp_path: Path) -> None:
    new = tmp_path / "bridge.md"
    new.write_text("# New bridge\n\nThe bridge opened in May.", encoding="utf-8")
    odd = tmp_path / "notes.exe"
    odd.write_bytes(b"MZ")
    report, rows, _, _ = add_files(state, [str(new), str(odd)])
    assert "added 1" in report and "notes\\.exe: not an article file" in report
    assert sorted(row[0] for row in rows) == ["Harbour storm", "New bridge"]
    bridge_id = next(row[1] for row in rows if row[0] == "New bridge")
    report, rows, _, _ = remove_article(state, str(bridge_id))
    assert report == "Removed 1 article." and [row[0] for row in rows] == ["Harbour storm"]
