"""Saved conversations in the web UI, without a browser: the handlers behind the sidebar."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pytest

from qa import Assistant
from qa.links import answer_dict
from ui.app import (
    NEW_CONVERSATION,
    delete_saved,
    export_saved,
    open_saved,
    rename_saved,
    respond,
    respond_and_save,
    save_turns,
    saved_list,
)
from ui.render import copy_id
from ui.state import AppState


@pytest.fixture
def state(index_dir: Path, write) -> AppState:
    write(
        "harbour.md",
        "---\ntitle: Harbour storm\nurl: https://news.example/harbour\n---\n\n"
        "The harbour master Ana Lima reopened the harbour on Monday.",
    )
    write("bridge.md", "# New bridge\n\nThe new bridge over the Vale river opened in May.")
    with Assistant.open(index_dir, model="hash") as assistant:
        assistant.ingest([write.base])
    return AppState(index_dir)


def chat(state: AppState, user: str | None, *questions: str) -> tuple[list, list, dict]:
    """Ask as the browser does: each answer is saved before it is shown."""
    messages: list = []
    turns: list = []
    saved = dict(NEW_CONVERSATION)
    for question in questions:
        views = list(
            respond_and_save(state, user, saved, question, messages, turns, 5, None, "", "")
        )
        assert all(view[4] == gr.skip() for view in views[:-1])  # saved with the answer only
        _, messages, turns, _, saved, picker = views[-1]
        assert picker["value"] == saved["id"]
    return messages, turns, saved


def test_without_a_model_the_answer_appears_at_once(state: AppState) -> None:
    steps = list(respond(state, "Who reopened the harbour?", [], [], 5, None, "", ""))
    assert len(steps) == 2  # "Searching the articles…", then the whole answer: no replay
    assert steps[0][1][-1]["content"].startswith("Searching")
    assert "Ana Lima" in steps[1][1][-1]["content"]


def test_answers_are_saved_listed_and_reopened_with_their_sources(state: AppState) -> None:
    messages, turns, saved = chat(
        state, None, "Who reopened the harbour?", "When did the new bridge over the Vale open?"
    )
    (info,) = state.conversations.list(None)
    assert saved == {"id": info.id, "saved": 2} and info.title == "Who reopened the harbour?"
    picker = saved_list(state, None, info.id)
    assert (
        picker["choices"] == [(f"{info.title} (2 turns)", info.id)] and picker["value"] == info.id
    )
    # Saving again (a stopped answer adds no turn) saves nothing twice.
    assert save_turns(state, None, turns, saved)[0] == saved
    assert state.conversations.list(None)[0].turns == 2
    reopened, answers, panel, again = open_saved(state, None, info.id)
    assert reopened == messages and answers == turns and again == saved
    assert "<mark>" in panel and "Ana Lima" in panel and "opened in May" in panel
    assert 'href="https://news.example/harbour#:~:text=' in panel  # opens at the quote
    # A follow-up in the reopened chat continues the same saved conversation.
    _, _, more, _ = list(respond(state, "Who reopened it?", reopened, answers, 5, None, "", ""))[-1]
    assert save_turns(state, None, more, again)[0] == {"id": info.id, "saved": 3}


def test_each_user_sees_only_their_own(state: AppState) -> None:
    _, _, ana = chat(state, "ana", "Who reopened the harbour?")
    _, _, ben = chat(state, "ben", "When did the new bridge over the Vale open?")
    assert [c for _, c in saved_list(state, "ana")["choices"]] == [ana["id"]]
    assert [c for _, c in saved_list(state, "ben")["choices"]] == [ben["id"]]
    assert saved_list(state, None)["choices"] == []
    for handler in (
        lambda: open_saved(state, "ben", ana["id"]),
        lambda: rename_saved(state, "ben", ana["id"], "mine"),
        lambda: delete_saved(state, "ben", ana["id"], ben),
        lambda: export_saved(state, "ben", ana["id"], "md"),
    ):
        with pytest.raises(gr.Error, match="No saved conversation"):
            handler()


def test_rename_delete_and_export(state: AppState) -> None:
    _, turns, saved = chat(state, None, "Who reopened the harbour?")
    conversation_id = saved["id"]
    picker = rename_saved(state, None, conversation_id, "Harbour")
    assert picker["choices"] == [("Harbour (1 turn)", conversation_id)]
    markdown = Path(export_saved(state, None, conversation_id, "md")).read_text(encoding="utf-8")
    assert markdown.startswith("# Harbour\n") and "## 1. Who reopened the harbour?" in markdown
    assert '- [1] Harbour storm — "The harbour master Ana Lima' in markdown
    assert "(https://news.example/harbour#:~:text=" in markdown  # the link opens the quote
    path = export_saved(state, None, conversation_id, "json")
    assert path.endswith(".json")
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    assert [t["answer"] for t in data["turns"]] == [answer_dict(turns[0])]  # with links
    _, _, other = chat(state, None, "When did the new bridge over the Vale open?")
    # Deleting another conversation leaves the one on screen as it is...
    picker, after, *screen = delete_saved(state, None, conversation_id, other)
    assert [c for _, c in picker["choices"]] == [other["id"]] and after == other
    assert screen == [gr.skip()] * 3
    # ...deleting the one on screen clears it, so its next answer starts a new conversation.
    picker, after, messages, answers, _ = delete_saved(state, None, other["id"], other)
    assert picker["choices"] == [] and after == NEW_CONVERSATION
    assert messages == [] and answers == []
    with pytest.raises(gr.Error, match="Choose a saved conversation"):
        open_saved(state, None, None)


def test_copy_text_of_each_answer_holds_its_sources(state: AppState) -> None:
    _, _, panel = list(respond(state, "Who reopened the harbour?", [], [], 5, None, "", ""))[-1][1:]
    copied = panel.split(f'id="{copy_id(0)}" hidden>')[1].split("</pre>")[0]
    assert copied.startswith("The harbour master Ana Lima reopened the harbour on Monday. [1]")
    assert '[1] Harbour storm — "The harbour master' in copied.replace("&quot;", '"')
    assert "(https://news.example/harbour)" in copied
