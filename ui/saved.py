"""Saved conversations (qa/conversations.py) in the sidebar, each at its own address ``/?c=ID``.

The sidebar lists the user's conversations, newest first; a click opens one and pushes its
address, so reload, Back/Forward and bookmarks bring it back (ui/static/nav.js). The open
conversation's menu renames, exports and deletes it (after a confirmation).

``saved`` is the browser session's {"id": conversation id or None, "saved": turns already
saved}; ``user`` is the login name with ``qa serve --auth`` (None without): each user lists and
opens only their own, and another user's address reads as not found. The handlers are plain
functions, tested without a browser.
"""

from __future__ import annotations

import html
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import gradio as gr

from qa import Answer, QAError
from qa.conversations import turns_label
from qa.errors import ConversationNotFoundError
from ui.page import script
from ui.render import chat_message, escape_markdown
from ui.sources import EMPTY, sources_html
from ui.state import AppState

NEW_CONVERSATION: dict[str, Any] = {"id": None, "saved": 0}
NOT_FOUND = (
    "**Conversation not found.** There is no saved conversation at this address for you: it "
    "was deleted, or it belongs to someone else. Ask a question to start a new one."
)


def user_of(request: gr.Request | None) -> str | None:
    """The login name with ``qa serve --auth``, None without a login."""
    return getattr(request, "username", None) or None


NO_LIST = '<nav class="qa-conversations" aria-label="Saved conversations"></nav>'


def conversation_list(
    state: AppState, user: str | None, current: str | None, address: str | None = None,
    push: bool = False,
) -> str:  # fmt: skip
    """The sidebar's list: a link per conversation (``?c=ID``), newest first, the open one
    marked. The page's address then shows ``address`` (default: ``current``; "" for none),
    pushed as a new history entry when ``push`` (ui/static/nav.js)."""
    items = []
    for info in state.conversations.list(user):
        marked = ' aria-current="page"' if info.id == current else ""
        items.append(
            f'<li><a href="?c={quote(info.id)}" data-conversation="{html.escape(info.id)}"'
            f'{marked}><span class="qa-title">{html.escape(info.title)}</span> '
            f'<span class="qa-turns">{turns_label(info.turns)}</span></a></li>'
        )
    body = f"<ul>{''.join(items)}</ul>" if items else '<p class="qa-none">No conversations yet.</p>'
    target = (current or "") if address is None else address
    return (
        f'<nav class="qa-conversations" aria-label="Saved conversations" '
        f'data-address="{html.escape(target)}"{" data-push" if push else ""}>{body}</nav>'
    )


class ConversationView(NamedTuple):
    """What opening, starting or deleting a conversation shows (the outputs, in order)."""

    messages: list[dict[str, Any]]
    turns: list[Answer]
    sources: str
    saved: dict[str, Any]
    listing: str
    menu: Any  # the open conversation's menu: shown with a saved conversation


def messages_of(turns: list[Answer]) -> list[dict[str, Any]]:
    """The chat's messages for saved answers: each question, then its answer with sources."""
    messages: list[dict[str, Any]] = []
    for turn, reply in enumerate(turns):
        messages.append({"role": "user", "content": escape_markdown(reply.question)})
        messages.append({"role": "assistant", "content": chat_message(reply, turn)})
    return messages


def new_conversation(state: AppState, user: str | None, push: bool = True) -> ConversationView:
    """A fresh chat at a fresh address: no turns, nothing saved, no sources."""
    listing = conversation_list(state, user, None, "", push=push)
    return ConversationView(
        [], [], EMPTY, dict(NEW_CONVERSATION), listing, gr.update(visible=False)
    )


def open_conversation(
    state: AppState, user: str | None, conversation_id: str | None
) -> ConversationView:
    """The conversation at ``?c=conversation_id`` with its Sources panel, for follow-ups;
    one that is not this user's reads as not found (and the address stays as it was)."""
    if not conversation_id:
        return new_conversation(state, user, push=False)
    try:
        conversation = state.conversations.get(user, conversation_id)
    except ConversationNotFoundError:
        listing = conversation_list(state, user, None, conversation_id)
        messages = [{"role": "assistant", "content": NOT_FOUND}]
        return ConversationView(
            messages, [], EMPTY, dict(NEW_CONVERSATION), listing, gr.update(visible=False)
        )
    turns = conversation.answers
    saved = {"id": conversation.id, "saved": len(turns)}
    listing = conversation_list(state, user, conversation.id)
    return ConversationView(
        messages_of(turns), turns, sources_html(turns), saved, listing, gr.update(visible=True)
    )


def save_turns(
    state: AppState, user: str | None, turns: list[Answer], saved: dict[str, Any]
) -> tuple[dict[str, Any], str, Any]:
    """After each answer: save the turns not saved yet (none when the answer was stopped);
    returns (saved, the sidebar's list, the menu), the address now the conversation's."""
    conversation_id, count = saved.get("id"), int(saved.get("saved", 0))
    for reply in turns[count:]:
        conversation_id = state.conversations.save(user, conversation_id, reply)
    saved = {"id": conversation_id, "saved": len(turns)}
    listing = conversation_list(state, user, conversation_id)
    return saved, listing, gr.update(visible=conversation_id is not None)


def _require(saved: dict[str, Any]) -> str:
    if not saved.get("id"):
        raise gr.Error("Ask a question first: this chat is not saved yet.")
    return str(saved["id"])


def rename_conversation(
    state: AppState, user: str | None, saved: dict[str, Any], title: str
) -> str:
    """Give the open conversation a new name; returns the sidebar's list."""
    conversation_id = _require(saved)
    try:
        state.conversations.rename(user, conversation_id, title or "")
    except QAError as error:
        raise gr.Error(str(error)) from error
    return conversation_list(state, user, conversation_id)


def confirm_delete(state: AppState, user: str | None, saved: dict[str, Any]) -> tuple[Any, str]:
    """Delete asks first: (the confirmation, shown; its question naming the conversation)."""
    conversation_id = _require(saved)
    title = next(
        (c.title for c in state.conversations.list(user) if c.id == conversation_id), "this"
    )
    question = f"Delete the conversation “{escape_markdown(title)}”? This cannot be undone."
    return gr.update(visible=True), question


def delete_conversation(
    state: AppState, user: str | None, saved: dict[str, Any]
) -> ConversationView:
    """Delete the open conversation (once confirmed); the chat starts afresh (else its next
    answer would save the deleted turns again)."""
    conversation_id = _require(saved)
    try:
        state.conversations.delete(user, conversation_id)
    except QAError as error:
        raise gr.Error(str(error)) from error
    return new_conversation(state, user, push=False)


def export_conversation(state: AppState, user: str | None, saved: dict[str, Any], form: str) -> str:
    """Write the open conversation as Markdown ("md") or JSON ("json") to a fresh temporary
    file, for the download link."""
    conversation_id = _require(saved)
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
    state.exports.add(path.name, user)  # its download link works for this user only
    return str(path)


@dataclass
class ChatParts:
    """The chat's components and session state that the sidebar shows conversations in."""

    chatbot: gr.Chatbot
    turns: gr.State
    sources: gr.HTML
    saved: gr.State


@dataclass
class Sidebar:
    """The sidebar's components that the chat updates."""

    new_chat: gr.Button
    listing: gr.HTML
    menu: gr.Accordion


def build_sidebar(app: gr.Blocks, state: AppState, chat: ChatParts) -> Sidebar:
    """Lay out the sidebar (inside ``gr.Sidebar``) and wire its events to the chat's parts;
    the page's load opens the conversation its address names."""
    new_chat = gr.Button("New chat", elem_id="qa-new-chat", variant="primary")
    # Filled on load, for the user who logged in (never the list of no login).
    listing = gr.HTML(NO_LIST, elem_id="qa-saved", js_on_load=script("nav.js"))
    with gr.Accordion(
        "Rename, export or delete", open=False, visible=False, elem_id="qa-conversation-menu"
    ) as menu:
        new_title = gr.Textbox(label="New name", max_length=200, elem_id="qa-new-title")
        rename = gr.Button("Rename", size="sm", elem_id="qa-rename")
        with gr.Row():
            export_md = gr.Button("Export Markdown", size="sm", elem_id="qa-export-md")
            export_json = gr.Button("Export JSON", size="sm", elem_id="qa-export-json")
        # Shown once there is a file (an empty File's placeholder has an ARIA label on a plain
        # div, which axe-core reports as a serious violation).
        exported = gr.File(
            label="Exported conversation", interactive=False, visible=False, elem_id="qa-exported"
        )
        delete = gr.Button("Delete…", size="sm", variant="stop", elem_id="qa-delete")
        # The id on a Column around the Group: Gradio 6.31 writes a Group's elem_id on two
        # nested divs (duplicate ids; a locator finds both).
        with gr.Column(visible=False, elem_id="qa-delete-confirm") as confirm, gr.Group():
            question = gr.Markdown()
            with gr.Row():
                yes = gr.Button("Delete", size="sm", variant="stop", elem_id="qa-delete-yes")
                no = gr.Button("Cancel", size="sm", elem_id="qa-delete-no")

    private: dict[str, Any] = {"api_visibility": "private"}
    saved = chat.saved
    view = [chat.chatbot, chat.turns, chat.sources, saved, listing, menu]

    def on_load(request: gr.Request) -> ConversationView:
        return open_conversation(state, user_of(request), request.query_params.get("c"))

    def on_navigate(event: gr.EventData, request: gr.Request) -> ConversationView:
        return open_conversation(state, user_of(request), event._data.get("conversation"))

    def on_new(request: gr.Request) -> ConversationView:
        return new_conversation(state, user_of(request))

    def on_rename(saved: dict[str, Any], title: str, request: gr.Request) -> str:
        return rename_conversation(state, user_of(request), saved, title)

    def on_ask_delete(saved: dict[str, Any], request: gr.Request) -> tuple[Any, str]:
        return confirm_delete(state, user_of(request), saved)

    def on_delete(saved: dict[str, Any], request: gr.Request) -> tuple[Any, ...]:
        return (*delete_conversation(state, user_of(request), saved), gr.update(visible=False))

    def on_export(form: str) -> Any:
        def export(saved: dict[str, Any], request: gr.Request) -> Any:
            path = export_conversation(state, user_of(request), saved, form)
            return gr.update(value=path, visible=True)

        return export

    app.load(on_load, None, view, **private)
    listing.select(on_navigate, None, view, **private)
    new_chat.click(on_new, None, view, **private)
    chat.chatbot.clear(on_new, None, view, **private)  # the trash icon starts a new chat too
    rename.click(on_rename, [saved, new_title], listing, **private)
    delete.click(on_ask_delete, [saved], [confirm, question], **private)
    yes.click(on_delete, [saved], [*view, confirm], **private)
    no.click(lambda: gr.update(visible=False), None, confirm, **private)
    export_md.click(on_export("md"), [saved], exported, **private)
    export_json.click(on_export("json"), [saved], exported, **private)
    return Sidebar(new_chat, listing, menu)
