"""The page around the app: theme, stylesheet and script (ui/static/qa.css, ui/static/qa.js).

Kept as files so the CSS and the script read as CSS and JavaScript; they are put in the page by
``gr.Blocks.launch(css=..., head=...)`` (ui/app.py).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import gradio as gr

STATIC = Path(__file__).parent / "static"


def theme() -> gr.themes.Base:
    """Gradio's Soft theme with darker label, button and hint colours: its defaults (indigo 500
    on indigo 100, grey 400 on white) fail WCAG AA contrast (axe-core's color-contrast, checked
    in tests/test_browser_conversations.py)."""
    return gr.themes.Soft(font=["system-ui", "sans-serif"], font_mono=["monospace"]).set(
        block_label_text_color="*primary_700",
        block_title_text_color="*primary_700",
        body_text_color_subdued="*neutral_600",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        link_text_color_visited="*secondary_700",
    )


@cache
def css() -> str:
    return (STATIC / "qa.css").read_text(encoding="utf-8")


@cache
def head() -> str:
    """The page script, in a ``<script>`` tag for the page's ``<head>``."""
    return f"<script>\n{(STATIC / 'qa.js').read_text(encoding='utf-8')}</script>\n"
