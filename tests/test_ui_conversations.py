"""Saved conversations in the web UI, without a browser: the sidebar's list and addresses, and
the handlers that open, save, rename, export and delete (ui/saved.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import gradio as gr
import pytest

from qa import Assistant
from qa.links import answer_dict
from ui.chat import respond, respond_and_save
from ui.saved import (
    NEW_CONVERSATION,
    NOT_FOUND,
    confirm_delete,
    conversation_list,
    delete_conversation,
    export_conversation,
    new_conversation,
    open_conversation,
    rename_conversation,
    save_turns,
)
from ui.sources import copy_id
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
        _, messages, turns, _, saved, listing, menu = views[-1]
        assert f'data-address="{saved["id"]}"' in listing and menu["visible"] is True
    return messages, turns, saved


def listed(listing: str) -> list[tuple[str, str]]:
    """(conversation id, title and turns) of each link of the sidebar's list, in order."""
    links = re.findall(r'data-conversation="([^"]+)"[^>]*>(.*?)</a>', listing)
    return [(cid, re.sub(r"<[^>]+>", "", text)) for cid, text in links]


def test_without_a_model_the_answer_appears_at_once(state: AppState) -> None:
    steps = list(respond(state, "Who reopened the harbour?", [], [], 5, None, "", ""))
    assert len(steps) == 2  # "Searching the articles…", then the whole answer: no replay
    assert steps[0][1][-1]["content"].startswith("Searching")
    assert "Ana Lima" in steps[1][1][-1]["content"]


def test_the_list_shows_each_conversation_at_its_address_newest_first(state: AppState) -> None:
    _, _, first = chat(state, None, "Who reopened the harbour?", "When did it reopen?")
    _, _, second = chat(state, None, "When did the new bridge over the Vale open?")
    listing = conversation_list(state, None, first["id"])
    assert listed(listing) == [
        (second["id"], "When did the new bridge over the Vale open? 1 turn"),
        (first["id"], "Who reopened the harbour? 2 turns"),
    ]
    assert f'href="?c={first["id"]}" data-conversation="{first["id"]}" aria-current="page"' in (
        listing
    )
    assert 'data-address="' + first["id"] + '"' in listing and "data-push" not in listing
    # A new chat asks for a fresh address as a new history entry (Back returns to this one).
    fresh = new_conversation(state, None)
    assert (
        'data-address="" data-push' in fresh.listing and 'aria-current="page"' not in fresh.listing
    )
    assert (fresh.messages, fresh.turns, fresh.saved) == ([], [], NEW_CONVERSATION)


def test_an_address_reopens_its_conversation_with_its_sources(state: AppState) -> None:
    messages, turns, saved = chat(
        state, None, "Who reopened the harbour?", "When did the new bridge over the Vale open?"
    )
    view = open_conversation(state, None, saved["id"])
    assert view.messages == messages and view.turns == turns and view.saved == saved
    assert "<mark>" in view.sources and "Ana Lima" in view.sources
    assert "opened in May" in view.sources
    assert 'href="https://news.example/harbour#:~:text=' in view.sources  # opens at the quote
    assert view.menu["visible"] is True
    # A follow-up in the reopened chat continues the same saved conversation.
    _, _, more, _ = list(
        respond(state, "Who reopened it?", view.messages, view.turns, 5, None, "", "")
    )[-1]
    assert save_turns(state, None, more, view.saved)[0] == {"id": saved["id"], "saved": 3}
    # Saving again (a stopped answer adds no turn) saves nothing twice.
    assert save_turns(state, None, more, {"id": saved["id"], "saved": 3})[0]["saved"] == 3
    assert state.conversations.list(None)[0].turns == 3


def test_another_users_address_reads_as_not_found(state: AppState) -> None:
    _, _, ana = chat(state, "ana", "Who reopened the harbour?")
    _, _, ben = chat(state, "ben", "When did the new bridge over the Vale open?")
    assert [cid for cid, _ in listed(conversation_list(state, "ana", None))] == [ana["id"]]
    assert listed(conversation_list(state, None, None)) == []  # no login sees neither
    view = open_conversation(state, "ben", ana["id"])
    assert view.messages == [{"role": "assistant", "content": NOT_FOUND}]
    assert view.turns == [] and view.saved == NEW_CONVERSATION and "Ana Lima" not in str(view)
    assert f'data-address="{ana["id"]}"' in view.listing  # the address stays as typed
    assert [cid for cid, _ in listed(view.listing)] == [ben["id"]]
    for handler in (
        lambda: rename_conversation(state, "ben", ana, "mine"),
        lambda: delete_conversation(state, "ben", ana),
        lambda: export_conversation(state, "ben", ana, "md"),
    ):
        with pytest.raises(gr.Error, match="No saved conversation"):
            handler()
    assert state.conversations.get("ana", ana["id"]).title == "Who reopened the harbour?"
    # A question asked there starts Ben's new conversation, without the notice above it
    # (the browser sends the chat's messages back with their text in parts).
    shown = [{"role": "assistant", "content": [{"type": "text", "text": NOT_FOUND}]}]
    messages = list(respond(state, "Who reopened it?", shown, [], 5, None, "", ""))[-1][1]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert NOT_FOUND not in str(messages)


def test_rename_export_and_delete_act_on_the_open_conversation(state: AppState) -> None:
    _, turns, saved = chat(state, None, "Who reopened the harbour?")
    listing = rename_conversation(state, None, saved, "Harbour")
    assert listed(listing) == [(saved["id"], "Harbour 1 turn")]
    markdown = Path(export_conversation(state, None, saved, "md")).read_text(encoding="utf-8")
    assert markdown.startswith("# Harbour\n") and "## 1. Who reopened the harbour?" in markdown
    assert '- [1] Harbour storm — "The harbour master Ana Lima' in markdown
    assert "(https://news.example/harbour#:~:text=" in markdown  # the link opens the quote
    path = export_conversation(state, None, saved, "json")
    assert path.endswith(".json")
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    assert [t["answer"] for t in data["turns"]] == [answer_dict(turns[0])]  # with links
    # Delete asks first, naming the conversation; nothing is deleted by asking.
    shown, question = confirm_delete(state, None, saved)
    assert shown["visible"] is True and "“Harbour”" in question
    assert len(state.conversations.list(None)) == 1
    view = delete_conversation(state, None, saved)
    assert state.conversations.list(None) == [] and view.saved == NEW_CONVERSATION
    assert view.messages == [] and view.turns == [] and 'data-address=""' in view.listing
    with pytest.raises(gr.Error, match="not saved yet"):
        confirm_delete(state, None, NEW_CONVERSATION)


def test_copy_text_of_each_answer_holds_its_sources(state: AppState) -> None:
    _, _, panel = list(respond(state, "Who reopened the harbour?", [], [], 5, None, "", ""))[-1][1:]
    copied = panel.split(f'id="{copy_id(0)}" hidden>')[1].split("</pre>")[0]
    assert copied.startswith("The harbour master Ana Lima reopened the harbour on Monday. [1]")
    assert '[1] Harbour storm — "The harbour master' in copied.replace("&quot;", '"')
    assert "(https://news.example/harbour)" in copied
