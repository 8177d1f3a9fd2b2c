"""The functions behind the web UI, without a browser: rendering, escaping, uploads, handlers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pytest

from qa import Answer, Assistant, Citation, Passage
from ui.articles import add_files, remove_article
from ui.chat import EMPTY_INDEX, respond
from ui.command import parse_auth
from ui.render import (
    CONTRADICTED_MARK,
    answer_markdown,
    chat_message,
    cite_id,
    escape_markdown,
    safe_url,
    verdict_mark,
)
from ui.sources import sources_html
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
    assert f'<a class="qa-cite" href="#{cite_id(3, 1)}">\\[1\\]' in text
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


def test_a_respelled_question_is_a_link_that_fills_the_box() -> None:
    asked = "When did <b>Ghengis</b> Khan die?"
    suggested = "When did <b>Genghis</b> Khan die?"  # whatever the user typed stays text
    text = f'The indexed articles don\'t answer this question. Did you mean "{suggested}"'
    reply = Answer(asked, text, False, [], [passage("Genghis Khan died.")], 0.0,
                   unmentioned=["Ghengis"], suggested=suggested)  # fmt: skip
    shown = answer_markdown(reply, 0)
    assert '<a class="qa-suggest" href="#qa-suggest">When did &lt;b&gt;Genghis&lt;/b&gt; Khan' in (
        shown
    )
    assert "<b>" not in shown and shown.count("qa-suggest") == 2  # its class and its target
    plain = replace(reply, text="The indexed articles don't answer this question.", suggested=None)
    assert "qa-suggest" not in answer_markdown(plain, 0)


def test_possibly_related_lists_each_article_once_with_its_best_passage() -> None:
    rhine = [replace(passage(f"Rhine part {n}."), chunk_id=n, title="Rhine") for n in (1, 2)]
    other = replace(passage("Danube part."), chunk_id=3, article_id="a2", title="Danube")
    reply = Answer("q", "The indexed articles don't answer this question.", False, [],
                   [*rhine, other], 0.2)  # fmt: skip
    message = answer_markdown(reply, 0)
    assert message.count("Rhine") == 1 and "Danube" in message
    panel = sources_html([reply])
    assert "Rhine part 1." in panel and "Rhine part 2." not in panel and "Danube part." in panel


def test_a_contradicted_sentence_is_left_out_and_shown_with_the_quote_against_it() -> None:
    """--llm with the verifier: a sentence a passage contradicts is not in the answer; the chat
    names it, marked as the terminal marks it, with the contradicting quote and its article.
    The same message comes back when the saved conversation is reopened."""
    import json

    from embeddings import HashEmbedder
    from qa.conversations import answer_from_dict
    from qa.llm import checked_answer
    from qa.llm.check import SupportChecker
    from tests.test_verifier import EXTRACTIVE, PASSAGES, Scripted

    passages = [replace(PASSAGES[0], title="<i>Westlife</i>"), PASSAGES[1]]
    extractive = replace(EXTRACTIVE, passages=passages)
    text = "The Rhine rises in the Swiss Alps [2]. Westlife sold more than 23 million records [1]."
    embedder = HashEmbedder(64)
    checker = SupportChecker(passages, embedder, verifier=Scripted())
    reply = checked_answer("q", text, passages, extractive, embedder, "m", checker)
    assert [verdict_mark(s) for s in reply.sentences] == ["✓", CONTRADICTED_MARK]

    message = chat_message(reply, 0)
    answer, heading, left_out = message.partition("Left out, contradicted by the sources")
    assert heading, message
    assert "Rhine rises in the Swiss Alps" in answer and "23 million" not in answer
    assert f"Westlife sold more than 23 million records\\. {CONTRADICTED_MARK}" in left_out
    against = "Westlife sold more than 24 million records in the UK\\."
    assert f"&lt;i&gt;Westlife&lt;/i&gt;: “{against}”" in left_out
    assert "<i>" not in message
    reopened = answer_from_dict(json.loads(json.dumps(reply.to_dict())))
    assert chat_message(reopened, 0) == message

    # Without the verifier (--check cosine) nothing is contradicted, so nothing is named so.
    cosine = SupportChecker(passages, embedder)
    unchecked = checked_answer("q", text, passages, extractive, embedder, "m", cosine)
    assert "contradicted" not in chat_message(unchecked, 0)


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
    # The first view clears the box; later ones leave it alone (a next question typed while
    # the answer is written is kept).
    assert steps[0][0] == "" and textbox == gr.skip()
    assert len(turns) == 1 and turns[0].found
    assert messages[0] == {"role": "user", "content": "Who reopened the harbour?"}
    assert "Ana Lima" in messages[-1]["content"] and "#qa-cite-0-1" in messages[-1]["content"]
    assert "<mark>" in panel and "Ana Lima" in panel
    # A second turn keeps the first and numbers its own sources.
    again = list(respond(state, "When was it reopened?", messages, turns, 5, None, None, None))
    assert len(again[-1][2]) == 2 and "qa-cite-1-1" in again[-1][3]


def test_a_streamed_answer_never_writes_over_the_next_question(
    state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a model the answer comes in many views: only the first clears the box, so a
    question typed while the model writes is not wiped by the views after it."""
    from qa.llm import LLMConfig, Token

    answer = state.ask("Who reopened the harbour?", [], 5, None)

    def stream(*asked: object) -> Iterator[object]:
        yield from (Token("Ana "), Token("Lima."))
        yield answer

    monkeypatch.setattr(state, "llm", LLMConfig(url="http://127.0.0.1:9/v1"))
    monkeypatch.setattr(state, "ask_stream", stream)
    steps = list(respond(state, "Who reopened the harbour?", [], [], 5, None, "", ""))
    assert len(steps) == 4  # searching, two drafts, the answer
    assert [step[0] for step in steps] == ["", gr.skip(), gr.skip(), gr.skip()]
    assert "Ana Lima" in steps[-1][1][-1]["content"]


def test_respond_on_an_empty_index_explains_how_to_add_articles(tmp_path: Path) -> None:
    steps = list(respond(AppState(tmp_path / "empty"), "Anything?", [], [], 5, None, "", ""))
    assert steps[-1][1][-1]["content"] == EMPTY_INDEX


def test_upload_then_remove(state: AppState, tmp_path: Path) -> None:
    new = tmp_path / "bridge.md"
    new.write_text("# New bridge\n\nThe bridge opened in May.", encoding="utf-8")
    odd = tmp_path / "notes.exe"
    odd.write_bytes(b"MZ")
    report, table = add_files(state, [str(new), str(odd)])
    assert "added 1" in report and "notes\\.exe: not an article file" in report
    assert "2 articles" in table and "Harbour storm" in table and "New bridge" in table
    bridge_id = next(a.id for a in state.articles() if a.title == "New bridge")
    report, table = remove_article(state, bridge_id)
    assert report == "Removed “New bridge” (1 chunk)." and "New bridge" not in table
    assert [a.title for a in state.articles()] == ["Harbour storm"]


def test_serve_passes_no_reader_and_check_to_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """qa serve --no-reader (or QA_NO_READER=1) and --check reach ui.app.serve as qa ask's
    reach the assistant."""
    from typing import Any

    from click.testing import CliRunner

    import ui.app
    from qa.cli.commands import cli

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(ui.app, "serve", lambda index_dir, **kw: calls.append(kw))
    llm = ["--llm", "http://127.0.0.1:9/v1"]
    runs = [
        ([], {}),
        (["--no-reader", *llm, "--check", "cosine"], {}),
        (llm, {"QA_NO_READER": "1"}),
    ]
    unset: dict[str, str | None] = {"QA_NO_READER": None, "QA_LLM_URL": None}
    for args, env in runs:
        command = ["serve", "--index", "somewhere", *args]
        result = CliRunner().invoke(cli, command, env={**unset, **env})
        assert result.exit_code == 0, result.output
    default, no_reader, by_variable = calls
    assert default["reader"] is True and default["llm"] is None
    assert no_reader["reader"] is False and no_reader["llm"].check == "cosine"
    assert by_variable["reader"] is False and by_variable["llm"].check == "verifier"


def test_the_server_state_answers_without_the_reader_when_told(tmp_path: Path, write) -> None:
    """AppState(reader=False) opens, and reopens a replaced index, with the reader off."""
    import shutil

    write("harbour.md", "# Harbour storm\n\nThe harbour master Ana Lima reopened the harbour.")
    index = tmp_path / "index"
    with Assistant.open(index, model="hash") as other:
        other.ingest([write.base])
    state = AppState(index, reader=False)
    try:
        first = state.assistant
        assert first.reader_enabled is False
        reply = state.ask("Who reopened the harbour?", [], 5, None)
        assert reply.found and "Ana Lima" in reply.text
        shutil.rmtree(index)  # another process builds the index again: the state reopens it
        with Assistant.open(index, model="hash") as other:
            other.ingest([write.base])
        assert state.assistant is not first and state.assistant.reader_enabled is False
    finally:
        state.close()
    default = AppState(index)
    try:
        assert default.assistant.reader_enabled is True  # on unless told
    finally:
        default.close()


def test_the_facade_says_when_its_index_was_replaced(tmp_path: Path, write) -> None:
    import shutil

    write("harbour.md", "# Harbour storm\n\nThe harbour master Ana Lima reopened the harbour.")
    index = tmp_path / "index"
    served = Assistant.open(index, model="hash")
    assert not served.replaced()
    with Assistant.open(index, model="hash") as other:  # another process creates it
        other.ingest([write.base])
    assert served.replaced()  # served opened no index: reopen to adopt the new one's model
    served = served.reopen()
    write("bridge.md", "# New bridge\n\nThe new bridge over the Vale river opened in May.")
    with Assistant.open(index, model="hash") as other:  # another process writes: followed
        other.ingest([write.base])
    assert not served.replaced() and len(served.articles()) == 2
    shutil.rmtree(index)  # ... and builds the index again from scratch: replaced
    with Assistant.open(index, model="hash") as other:
        other.ingest([write.base])
    assert served.replaced()
    fresh = served.reopen()
    assert not fresh.replaced() and fresh.embedder is served.embedder  # the model is kept
    assert sorted(a.title for a in fresh.articles()) == ["Harbour storm", "New bridge"]
    fresh.close()


def test_the_ui_reads_no_index_file_itself() -> None:
    """The UI asks the facade (``Assistant.replaced``) instead of reading the index's files."""
    import ast

    for path in (Path(__file__).parent.parent / "ui").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        } | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}  # fmt: skip
        assert not imported & {"qa.layout", "qa.config"}, path.name
        assert not any(name and name.startswith("qa.stores") for name in imported), path.name
