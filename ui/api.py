"""The app's public API (``gradio_client``'s ``/ask``), beside the page's private events."""

from __future__ import annotations

from typing import Any

import gradio as gr

from qa import QAError
from qa.limits import check_filters, check_k, check_question
from ui.state import AppState


def api_ask(
    state: AppState,
    question: object,
    k: object = 5,
    articles: object = None,
    since: object = "",
    until: object = "",
) -> dict[str, Any]:
    """The public ``/ask`` API: arguments checked as the CLI checks them (``qa.limits``), each
    refusal one line."""
    try:
        text = check_question(question)
        filters = check_filters(articles, since, until)
        return state.ask(text, [], check_k(k), filters).to_dict()
    except QAError as error:
        raise gr.Error(str(error)) from error


def register_api(state: AppState) -> None:
    """Add ``/ask`` to the Blocks being built."""

    def ask(
        question: str,
        k: int = 5,
        articles: list[str] | None = None,
        since: str = "",
        until: str = "",
    ) -> dict[str, Any]:
        """Answer a question; returns the Answer as a dict (text, found, citations, ...).
        ``k``: passages to keep (1 to 50); ``articles``: only these titles or ids;
        ``since``/``until``: only articles dated in that range."""
        return api_ask(state, question, k, articles, since, until)

    gr.api(ask, api_name="ask")
