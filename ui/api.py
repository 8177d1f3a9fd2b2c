"""The app's public API (``gradio_client``'s ``/ask``), beside the page's private events."""

from __future__ import annotations

from typing import Any

import gradio as gr

from qa import QAError
from ui.state import AppState


def register_api(state: AppState) -> None:
    """Add ``/ask`` to the Blocks being built."""

    def ask(question: str, k: int = 5) -> dict[str, Any]:
        """Answer a question; returns the Answer as a dict (text, found, citations, ...)."""
        try:
            return state.ask(question, [], int(k), None).to_dict()
        except QAError as error:
            raise gr.Error(str(error)) from error

    gr.api(ask, api_name="ask")
