"""Saved conversations in the page (qa/conversations.py): the list, open, rename, delete, export.

``saved`` is the browser session's {"id": conversation id or None, "saved": turns already
saved}; ``user`` is the login name with ``qa serve --auth`` (None without), so each user lists
and opens only their own. The handlers are plain functions, tested without a browser.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from qa import Answer, QAError
from qa.conversations import turns_label
from ui.render import chat_message, escape_markdown, sources_html
from ui.state import AppState

NEW_CONVERSATION: dict[str, Any] = {"id": None, "saved": 0}


def user_of(request: gr.Request | None) -> str | None:
    """The login name with ``qa serve --auth``, None without a login."""
    return getattr(request, "username", None) or None


def saved_list(state: AppState, user: str | None, selected: str | None = None) -> Any:
    """The saved conversations picker: each by its title (first question) and turns."""
    listed = state.conversations.list(user)
    choices = [(f"{c.title} ({turns_label(c.turns)})", c.id) for c in listed]
    keep = selected if any(c.id == selected for c in listed) else None
    return gr.update(choices=choices, value=keep)


def save_turns(
    state: AppState, user: str | None, turns: list[Answer], saved: dict[str, Any]
) -> tuple[dict[str, Any], Any]:
    """After each answer: save the turns not saved yet (none when the answer was stopped)."""
    conversation_id, count = saved.get("id"), int(saved.get("saved", 0))
    for reply in turns[count:]:
        conversation_id = state.conversations.save(user, conversation_id, reply)
    saved = {"id": conversation_id, "saved": len(turns)}
    return saved, saved_list(state, user, conversation_id)


def open_saved(
    state: AppState, user: str | None, conversation_id: str | None
) -> tuple[list[dict[str, Any]], list[Answer], str, dict[str, Any]]:
    """Reopen a saved conversation: its messages, answers (for follow-ups) and Sources panel."""
    if not conversation_id:
        raise gr.Error("Choose a saved conversation first.")
    try:
        conversation = state.conversations.get(user, conversation_id)
    except QAError as error:
        raise gr.Error(str(error)) from error
    turns = conversation.answers
    messages: list[dict[str, Any]] = []
    for turn, reply in enumerate(turns):
        messages.append({"role": "user", "content": escape_markdown(reply.question)})
        messages.append({"role": "assistant", "content": chat_message(reply, turn)})
    saved = {"id": conversation.id, "saved": len(turns)}
    return messages, turns, sources_html(turns), saved


def rename_saved(state: AppState, user: str | None, conversation_id: str | None, title: str) -> Any:
    if not conversation_id:
        raise gr.Error("Choose a saved conversation first.")
    try:
        state.conversations.rename(user, conversation_id, title or "")
    except QAError as error:
        raise gr.Error(str(error)) from error
    return saved_list(state, user, conversation_id)


def delete_saved(
    state: AppState, user: str | None, conversation_id: str | None, saved: dict[str, Any]
) -> tuple[Any, dict[str, Any], Any, Any, Any]:
    """Delete a saved conversation: (saved conversations, saved, chat, answers, Sources
    panel). The chat on screen, if it was that one, is cleared too (else its next answer would
    save the deleted turns again)."""
    if not conversation_id:
        raise gr.Error("Choose a saved conversation first.")
    try:
        state.conversations.delete(user, conversation_id)
    except QAError as error:
        raise gr.Error(str(error)) from error
    if saved.get("id") != conversation_id:
        return saved_list(state, user), saved, gr.skip(), gr.skip(), gr.skip()
    return saved_list(state, user), dict(NEW_CONVERSATION), [], [], sources_html([])


def export_saved(state: AppState, user: str | None, conversation_id: str | None, form: str) -> str:
    """Write the conversation as Markdown ("md") or JSON ("json") to a fresh temporary file,
    for the download link."""
    if not conversation_id:
        raise gr.Error("Choose a saved conversation first.")
    chats = state.conversations
    try:
        text = (
            chats.markdown(user, conversation_id)
            if form == "md"
            else chats.json(user, conversation_id)
        )
    except QAError as error:
        raise gr.Error(str(error)) from error
    path = Path(tempfile.mkdtemp(prefix="qa-export-")) / f"conversation-{conversation_id}.{form}"
    path.write_text(text, encoding="utf-8")
    return str(path)


@dataclass
class SavedView:
    """The saved conversations' components that the chat updates."""

    choice: gr.Dropdown
    new_title: gr.Textbox
    open_button: gr.Button
    rename_button: gr.Button
    delete_button: gr.Button
    export_md: gr.Button
    export_json: gr.Button
    exported: gr.File


def build_saved() -> SavedView:
    """Lay out the saved conversations column; ``wire_saved`` connects it once the chat exists."""
    gr.Markdown("### Saved conversations")
    choice = gr.Dropdown(choices=[], label="Saved conversations", elem_id="qa-saved")
    with gr.Row():
        open_button = gr.Button("Open", size="sm", elem_id="qa-open")
        delete_button = gr.Button("Delete", size="sm", variant="stop", elem_id="qa-delete")
    new_title = gr.Textbox(label="New name", max_length=200, elem_id="qa-new-title")
    rename_button = gr.Button("Rename", size="sm", elem_id="qa-rename")
    with gr.Row():
        export_md = gr.Button("Export Markdown", size="sm", elem_id="qa-export-md")
        export_json = gr.Button("Export JSON", size="sm", elem_id="qa-export-json")
    # Shown once there is a file (an empty File's placeholder has an ARIA label on a plain div,
    # which axe-core reports as a serious violation).
    exported = gr.File(
        label="Exported conversation", interactive=False, visible=False, elem_id="qa-exported"
    )
    return SavedView(
        choice, new_title, open_button, rename_button, delete_button, export_md, export_json,
        exported,
    )  # fmt: skip


def wire_saved(
    app: gr.Blocks,
    state: AppState,
    view: SavedView,
    chatbot: gr.Chatbot,
    turns: gr.State,
    sources: gr.HTML,
    saved: gr.State,
) -> None:
    def on_load(request: gr.Request) -> Any:
        return saved_list(state, user_of(request))

    def on_open(conversation_id: str | None, request: gr.Request) -> Any:
        return open_saved(state, user_of(request), conversation_id)

    def on_rename(conversation_id: str | None, title: str, request: gr.Request) -> Any:
        return rename_saved(state, user_of(request), conversation_id, title)

    def on_delete(conversation_id: str | None, saved: Any, request: gr.Request) -> Any:
        return delete_saved(state, user_of(request), conversation_id, saved)

    def on_export(form: str) -> Callable[..., Any]:
        def export(conversation_id: str | None, request: gr.Request) -> Any:
            path = export_saved(state, user_of(request), conversation_id, form)
            return gr.update(value=path, visible=True)

        return export

    private: dict[str, Any] = {"api_visibility": "private"}
    app.load(on_load, None, view.choice, **private)
    view.open_button.click(on_open, [view.choice], [chatbot, turns, sources, saved], **private)
    view.rename_button.click(on_rename, [view.choice, view.new_title], view.choice, **private)
    view.delete_button.click(
        on_delete, [view.choice, saved], [view.choice, saved, chatbot, turns, sources], **private
    )
    view.export_md.click(on_export("md"), [view.choice], view.exported, **private)
    view.export_json.click(on_export("json"), [view.choice], view.exported, **private)
