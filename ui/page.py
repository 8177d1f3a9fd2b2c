"""The page around the app: theme, stylesheet and scripts (ui/static/).

Kept as files so the CSS and the scripts read as CSS and JavaScript: qa.css and qa.js go in the
page by ``gr.Blocks.launch(css=..., head=...)`` (ui/app.py); nav.js runs as the conversation
list's ``js_on_load`` (ui/saved.py).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import gradio as gr

STATIC = Path(__file__).parent / "static"


def theme() -> gr.themes.Base:
    """Gradio's Soft theme with darker label, button and hint colours, and lighter links in dark
    mode: its defaults (indigo 500 on indigo 100, grey 400 on white, indigo 500 on near-black)
    fail WCAG AA contrast (axe-core's color-contrast, checked in light and dark mode at a
    desktop's and a phone's size by tests/test_browser_layout.py)."""
    return gr.themes.Soft(font=["system-ui", "sans-serif"], font_mono=["monospace"]).set(
        block_label_text_color="*primary_700",
        block_title_text_color="*primary_700",
        body_text_color_subdued="*neutral_600",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        link_text_color_visited="*secondary_700",
        # Dark mode: indigo 500 links on the near-black page are below 4.5:1.
        link_text_color_dark="*primary_300",
        link_text_color_hover_dark="*primary_200",
        link_text_color_visited_dark="*secondary_300",
    )


@cache
def script(name: str) -> str:
    """A file of ui/static, as text."""
    return (STATIC / name).read_text(encoding="utf-8")


def css() -> str:
    return script("qa.css")


def head() -> str:
    """The page script, in a ``<script>`` tag for the page's ``<head>``."""
    return f"<script>\n{script('qa.js')}</script>\n"
