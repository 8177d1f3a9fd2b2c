"""The Gradio app behind ``qa serve``: a chat whose ``[n]`` citations open to the quoted source.

``build_app(state)`` composes the page from one module per part: the Chat tab (ui/chat.py) with
the saved conversations (ui/saved.py), the Articles tab (ui/articles.py) and the public API
(ui/api.py). Their handlers are plain functions of their inputs and the shared ``AppState``,
tested without a browser.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr

from qa.pipeline.watch import Watcher, watch_in_thread
from ui.api import register_api
from ui.articles import build_articles
from ui.chat import build_chat
from ui.page import css, head, theme
from ui.saved import NEW_CONVERSATION, wire_saved
from ui.state import AppState
from ui.uploads import MAX_UPLOAD_MB

if TYPE_CHECKING:
    from qa.llm import LLMConfig


def build_app(state: AppState) -> gr.Blocks:
    with gr.Blocks(title="article-qa", analytics_enabled=False) as app:
        gr.Markdown("## article-qa\nAnswers from your articles; every sentence cites its source.")
        turns = gr.State([])
        saved = gr.State(dict(NEW_CONVERSATION))
        with gr.Tab("Chat"):
            chat = build_chat(state, turns, saved)
        with gr.Tab("Articles"):
            build_articles(state, chat.examples, chat.title_filter)
        wire_saved(app, state, chat.conversations, chat.chatbot, turns, chat.sources, saved)
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
) -> gr.Blocks:
    """Build and launch the app (blocking unless ``block=False``); ``watch`` keeps the index
    in sync with those files and folders while it runs (qa/pipeline/watch.py)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    state = AppState(index_dir, model, llm, allow_private_urls=allow_private_urls)
    state.warm_up()
    if watch:
        watcher = Watcher(
            lambda: state.assistant,
            watch,
            log=lambda line: print(line, file=sys.stderr),
            lock=state.lock,
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
        prevent_thread_lock=not block,
        theme=theme(),
        css=css(),
        head=head(),
        footer_links=["api"],
        quiet=not block,
    )
    return app
