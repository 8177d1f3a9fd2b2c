"""The Gradio app behind ``qa serve``: a chat whose ``[n]`` citations open to the quoted source.

``build_app(state)`` composes the page from one module per part: the sidebar of saved
conversations (ui/saved.py), the Chat tab (ui/chat.py) with its Sources panel (ui/sources.py),
the Articles tab (ui/articles.py) and the public API (ui/api.py). Their handlers are plain
functions of their inputs and the shared ``AppState``, tested without a browser.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from embeddings.sentence import go_offline
from qa.watch import Watcher, watch_in_thread
from ui.api import register_api
from ui.articles import build_articles
from ui.chat import build_chat, index_views, wire_chat
from ui.guard import guard_middleware
from ui.page import css, head, theme
from ui.saved import NEW_CONVERSATION, ChatParts, build_sidebar
from ui.state import AppState
from ui.uploads import MAX_UPLOAD_MB

if TYPE_CHECKING:
    from fastapi import FastAPI

    from qa.llm import LLMConfig


def build_app(state: AppState) -> gr.Blocks:
    with gr.Blocks(title="article-qa", analytics_enabled=False, fill_width=True) as app:
        turns = gr.State([])  # the answers of the chat on screen
        saved = gr.State(dict(NEW_CONVERSATION))  # its saved conversation, if any
        with gr.Sidebar(label="Conversations", open=False, width=280, elem_id="qa-sidebar"):
            sidebar_column = gr.Column()
        gr.Markdown(
            "## article-qa\n<span class='qa-tagline'>Answers from your articles; every sentence "
            "cites its source.</span>",
            elem_id="qa-header",
        )
        with gr.Tabs(elem_id="qa-tabs") as tabs:
            with gr.Tab("Chat", id="chat"):
                chat = build_chat(state)
            with gr.Tab("Articles", id="articles"):
                articles = build_articles(app, state)
        with sidebar_column:
            sidebar = build_sidebar(app, state, ChatParts(chat.chatbot, turns, chat.sources, saved))
        wire_chat(state, chat, turns, saved, sidebar.listing, sidebar.menu)

        private: dict[str, Any] = {"api_visibility": "private"}
        app.load(lambda: index_views(state), None, chat.index_outputs(), **private)
        for changed in articles.changed:  # placeholder, examples and filters follow the index
            changed.then(lambda: index_views(state), None, chat.index_outputs(), **private)
        chat.add_articles.click(lambda: gr.Tabs(selected="articles"), None, tabs, **private)
        # A wide screen shows the conversations beside the chat; a phone keeps the drawer shut.
        app.load(None, None, None, js="() => window.qaOpenSidebar && window.qaOpenSidebar()")
        register_api(state)
    return app


def serve(
    index_dir: Path,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: list[tuple[str, str]] | None = None,
    model: str | None = None,
    block: bool = True,
    allow_private_urls: bool = False,
    watch: Sequence[str] = (),
    llm: LLMConfig | None = None,
    reader: bool = True,
    mount: Callable[[FastAPI, AppState], None] | None = None,
) -> gr.Blocks:
    """Build and launch the app (blocking unless ``block=False``); ``watch`` keeps the index
    in sync with those files and folders while it runs (qa/watch.py); ``reader=False``
    answers without the trained reader (qa serve --no-reader); ``mount`` adds routes to the
    server next to the UI (ui/routes.py: the OpenAI-compatible API, PDFs)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    go_offline()  # local-first: Gradio's Hub lookups (huggingface_hub) stay off too
    state = AppState(index_dir, model, llm, allow_private_urls=allow_private_urls, reader=reader)
    state.warm_up()
    if watch:
        watcher = Watcher(  # writes as the upload worker does: questions never wait for it
            state.writer.assistant,
            watch,
            log=lambda line: print(line, file=sys.stderr),
            lock=state.writer.lock,
        )
        watch_in_thread(watcher)
    app = build_app(state)
    app.queue(default_concurrency_limit=4)
    app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        share=False,
        max_file_size=f"{MAX_UPLOAD_MB}mb",
        prevent_thread_lock=True,
        theme=theme(),
        css=css(),
        head=head(),
        footer_links=["api"],
        quiet=not block,
        # Login throttling and owner-only export links (ui/guard.py).
        app_kwargs={"middleware": [guard_middleware(state)]},
    )
    if mount is not None:  # Gradio's FastAPI app exists once it is launched
        mount(app.app, state)
    if block:
        app.block_thread()
    return app
