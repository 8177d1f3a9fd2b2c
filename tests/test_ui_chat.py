"""The chat and the Articles tab without a browser (issue 28): nothing lost by a keystroke,
deliberate removal, sources beside each answer, settings that speak, a live empty state."""

from __future__ import annotations

import re
from pathlib import Path

import gradio as gr
import pytest

from qa import Assistant
from ui.articles import add_files, article_table, confirm_remove, remove_article
from ui.chat import EMPTY_INDEX, READY, index_views, respond, scope_view
from ui.render import chat_message
from ui.sources import sources_html
from ui.state import AppState

HARBOUR = (
    "---\ntitle: Harbour <storm>\ndate: 2024-03-02\nurl: https://news.example/harbour\n---\n\n"
    "The harbour master Ana Lima reopened the harbour on Monday."
)
BRIDGE = "# New bridge\n\nThe new bridge over the Vale river opened in May."


@pytest.fixture
def state(index_dir: Path, write) -> AppState:
    write("harbour.md", HARBOUR)
    write("bridge.md", BRIDGE)
    with Assistant.open(index_dir, model="hash") as assistant:
        assistant.ingest([write.base])
    return AppState(index_dir)


def ask(state: AppState, question: str, since: str = "", until: str = "") -> list[tuple]:
    return list(respond(state, question, [], [], 5, None, since, until))


def test_an_empty_question_changes_nothing(state: AppState) -> None:
    for empty in ("", "   \n "):
        (view,) = list(respond(state, empty, [{"role": "user", "content": "x"}], [], 5, None,
                               "", ""))  # fmt: skip
        assert view == (gr.skip(), gr.skip(), gr.skip(), gr.skip())  # the chat stays as it is


def test_a_date_that_is_not_one_is_said_not_answered(state: AppState) -> None:
    *_, (_box, messages, turns, _) = ask(state, "Who reopened the harbour?", since="1/1/2020")
    said = messages[-1]["content"].replace("\\", "")
    assert said.startswith("**Not asked:** ") and '"1/1/2020" is not a date' in said
    assert "2024-03-01" in said and turns == []  # an example; nothing to save


def test_a_filter_that_leaves_nothing_says_so_and_counts_the_undated(state: AppState) -> None:
    *_, (_, messages, turns, _) = ask(state, "Who reopened the harbour?", since="2030")
    said = messages[-1]["content"].replace("\\", "")
    assert "No article is dated since 2030-01-01 (the index has 2)" in said
    assert "1 article has no date" in said and turns == []


def test_the_scope_chip_says_what_is_searched(state: AppState) -> None:
    assert scope_view(state, None, "", "") == (gr.update(value="All articles"), "")
    chip, note = scope_view(state, None, "2024", "")
    assert chip["value"] == "1 article since 2024-01-01" and note == ""
    chip, note = scope_view(state, ["New bridge"], "", "")
    assert chip["value"] == "1 article"
    chip, note = scope_view(state, None, "2030-01-01", "")
    assert chip["value"] == "No articles since 2030-01-01" and "1 article has no date" in note
    chip, note = scope_view(state, None, "", "garbage")
    assert chip["value"] == "Check the dates" and '"garbage" is not a date' in note


def test_each_answer_shows_its_sources_as_chips_and_titled_markers(state: AppState) -> None:
    *_, (_, messages, _turns, _panel) = ask(state, "Who reopened the harbour?")
    message = messages[-1]["content"]
    # [1] links to the source; its accessible name holds the title (a visually hidden span).
    assert (
        '<a class="qa-cite" href="#qa-cite-0-1">\\[1\\]<span class="qa-sr"> Harbour &lt;storm&gt;'
        in (message)
    )
    preview = re.search(r'<span class="qa-preview">(.*?)</span>', message)
    assert preview is not None and "Ana Lima reopened the harbour on Monday" in preview.group(1)
    chips = re.search(r'<span class="qa-chips">(.*?)</span>', message)
    assert chips is not None
    assert chips.group(1) == (
        '<a class="qa-chip" href="#qa-cite-0-1">\\[1\\] Harbour &lt;storm&gt; · 2024\\-03\\-02</a>'
    )
    assert "<storm>" not in message


def test_the_sources_panel_shows_one_answer_at_a_time(state: AppState) -> None:
    first = ask(state, "Who reopened the harbour?")[-1][2][0]
    second = ask(state, "When did the new bridge over the Vale river open?")[-1][2][0]
    panel = sources_html([first, second])
    sections = re.findall(r'<section class="qa-turn" id="qa-turn-(\d)" data-turn="\d"( hidden)?>',
                          panel)  # fmt: skip
    assert sorted(sections) == [("0", " hidden"), ("1", "")]  # the newest shows
    chosen = sources_html([first, second], shown=0)
    assert '<section class="qa-turn" id="qa-turn-0" data-turn="0">' in chosen
    assert "Back to the answer" in panel  # the phone's sheet has its way back
    # A "thanks" after them has no sources: the panel keeps the last answer's in view.
    thanks = ask(state, "Thank you!")[-1][2][0]
    assert not thanks.passages and not thanks.citations
    kept = sources_html([first, second, thanks])
    assert '<section class="qa-turn" id="qa-turn-1" data-turn="1">' in kept
    assert '<section class="qa-turn" id="qa-turn-2" data-turn="2" hidden>' in kept


def test_a_wikipedia_quote_is_shown_clean_in_the_chat(state: AppState, write) -> None:
    write("warsaw.md", "# Warsaw\n\nWarsaw (Polish: Warszawa [varˈʂava] ( listen); see also "
                       "other names) is the capital and largest city of Poland.")  # fmt: skip
    state.ingest([write.base], lambda *_: None)
    *_, (_, messages, _turns, panel) = ask(state, "What is the capital and largest city of Poland?")
    shown = messages[-1]["content"].split('<span class="qa-ref">')[0].replace("\\", "")
    assert shown.startswith("Warsaw (Polish: Warszawa; see also other names) is the capital")
    assert "[varˈʂava] ( listen)" in panel  # the article keeps them: the highlight is exact


def test_the_placeholder_examples_and_filters_follow_the_index(tmp_path: Path) -> None:
    with Assistant.open(tmp_path / "index", model="hash"):
        pass
    state = AppState(tmp_path / "index")
    placeholder, examples, titles, add_button = index_views(state)
    assert placeholder["placeholder"] == EMPTY_INDEX and examples["samples"] == []
    assert add_button["visible"] is True  # the empty state's way to the Articles tab
    upload = tmp_path / "bridge.md"
    upload.write_text(BRIDGE, encoding="utf-8")
    add_files(state, [str(upload)])
    placeholder, examples, titles, add_button = index_views(state)
    assert placeholder["placeholder"] == READY and add_button["visible"] is False
    assert examples["samples"] == [["What is known about New bridge?"]]
    assert titles["choices"] == ["New bridge"]


def test_the_article_list_counts_filters_and_escapes(state: AppState) -> None:
    table = article_table(state.articles())
    assert table.startswith('<p class="qa-count">2 articles</p>')
    assert "Harbour &lt;storm&gt;" in table and "<storm>" not in table
    assert 'aria-label="Remove Harbour &lt;storm&gt;"' in table
    assert table.count('class="qa-remove"') == 2
    narrowed = article_table(state.articles(), "2024 harbour")
    assert narrowed.startswith('<p class="qa-count">1 of 2 articles</p>')
    assert "New bridge" not in narrowed
    assert "New bridge" not in article_table(state.articles(), "nothing like it")


def test_removing_asks_first_and_names_the_article(state: AppState) -> None:
    harbour = next(a for a in state.articles() if a.title == "Harbour <storm>")
    shown, question, pending = confirm_remove(state, harbour.id)
    assert shown["visible"] is True and pending == harbour.id
    assert question.startswith("Remove “Harbour &lt;storm&gt;” (1 chunk, from harbour\\.md)")
    assert len(state.articles()) == 2  # asking removes nothing
    report, table = remove_article(state, pending)
    assert report == "Removed “Harbour &lt;storm&gt;” (1 chunk)."
    assert [a.title for a in state.articles()] == ["New bridge"] and "1 article" in table
    assert confirm_remove(state, None)[2] is None  # nothing is preselected
    assert remove_article(state, None)[0] == "That article is no longer in the index."


def test_chat_message_of_a_not_found_answer_has_no_chips(state: AppState) -> None:
    reply = ask(state, "Quantum chromodynamics lattice gauge theory?")[-1][2][0]
    assert not reply.found and "qa-chips" not in chat_message(reply, 0)
