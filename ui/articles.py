"""The Articles tab: upload files, add by address, list and remove articles.

The handlers are plain functions of the shared ``AppState`` and their inputs (tested without a
browser); ``build_articles`` lays the tab out and wires its events.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from qa import QAError
from qa.pipeline.corpus import SUFFIXES
from qa.pipeline.examples import example_questions
from qa.pipeline.readers.web import is_address
from ui.render import article_rows, escape_markdown, report_markdown
from ui.state import AppState
from ui.uploads import MAX_UPLOAD_MB, save_uploads


def add_files(
    state: AppState, files: list[str] | None, progress: Any = None
) -> tuple[str, list[list[str | int]], Any, Any]:
    """Upload handler: save the files safely, ingest them, report what happened."""
    if not files:
        return "Choose one or more article files first.", *article_views(state)
    saved = save_uploads(files, state.upload_dir)
    lines = [f"- {escape_markdown(reason)}" for reason in saved.rejected]
    if saved.paths:

        def report_progress(stage: str, done: int, total: int) -> None:
            if progress is not None and total:
                progress((done, total), desc=stage)

        report = state.ingest(saved.paths, report_progress)
        text = report_markdown(report)
    else:
        text = "**Nothing was added.**"
    if lines:
        text += "\n\nRejected uploads:\n" + "\n".join(lines)
    return text, *article_views(state)


def add_address(
    state: AppState, address: str | None, progress: Any = None
) -> tuple[str, list[list[str | int]], Any, Any]:
    """Handler of "Add by address": fetch a web page or feed and ingest it
    (qa/pipeline/readers/web.py)."""
    address = (address or "").strip()
    if not is_address(address):
        return "Enter a web address starting with http:// or https://.", *article_views(state)

    def report_progress(stage: str, done: int, total: int) -> None:
        if progress is not None and total:
            progress((done, total), desc=stage)

    report = state.ingest([address], report_progress)
    return report_markdown(report), *article_views(state)


def remove_article(
    state: AppState, article_id: str | None
) -> tuple[str, list[list[str | int]], Any, Any]:
    if not article_id:
        return "Choose an article to remove.", *article_views(state)
    try:
        removed = state.remove([article_id])
    except QAError as error:
        return escape_markdown(str(error)), *article_views(state)
    return f"Removed {len(removed)} article.", *article_views(state)


def article_views(state: AppState) -> tuple[list[list[str | int]], Any, Any]:
    """The articles table and the two article pickers (remove, filter), fresh from the index."""
    articles = state.articles()
    ids = [(f"{a.title} ({a.id})", a.id) for a in articles]
    titles = sorted({a.title for a in articles})
    return article_rows(articles), gr.update(choices=ids, value=None), gr.update(choices=titles)


def example_samples(state: AppState) -> Any:
    """The "Try" list, fresh from the index (after articles were added or removed)."""
    return gr.update(samples=[[q] for q in example_questions(state.articles())])


def build_articles(state: AppState, examples: gr.Dataset, title_filter: gr.Dropdown) -> None:
    """Lay out the Articles tab (inside ``gr.Tab``) and wire its events; what it changes also
    refreshes the chat's ``examples`` and ``title_filter``."""
    articles = state.articles()
    uploads = gr.File(
        file_count="multiple",
        file_types=[*SUFFIXES, ".gz"],
        label=f"Add article files (up to {MAX_UPLOAD_MB} MB each)",
        elem_id="qa-upload",
    )
    add = gr.Button("Add to index", variant="primary", elem_id="qa-add")
    with gr.Row():
        address = gr.Textbox(
            label="Add by address (a web page or an RSS/Atom feed)",
            placeholder="https://example.org/article or https://example.org/feed.xml",
            scale=5,
            elem_id="qa-address",
            max_length=2000,
        )
        fetch = gr.Button("Fetch and add", scale=1, elem_id="qa-fetch")
    report = gr.Markdown(elem_id="qa-report")
    table = gr.Dataframe(
        value=article_rows(articles),
        headers=["title", "id", "chunks", "date", "source"],
        interactive=False,
        label="Articles in the index",
    )
    with gr.Row():
        choice = gr.Dropdown(
            choices=[(f"{a.title} ({a.id})", a.id) for a in articles],
            label="Article to remove",
        )
        remove = gr.Button("Remove", variant="stop")

    private: dict[str, Any] = {"api_visibility": "private"}
    changed = [report, table, choice, title_filter]

    def on_add(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> Any:  # noqa: B008
        return add_files(state, files, progress)

    def on_address(address: str, progress: gr.Progress = gr.Progress()) -> Any:  # noqa: B008
        return add_address(state, address, progress)

    def on_remove(article_id: str | None) -> Any:
        return remove_article(state, article_id)

    for event, handler, inputs in (
        (add.click, on_add, [uploads]),
        (fetch.click, on_address, [address]),
        (address.submit, on_address, [address]),
        (remove.click, on_remove, [choice]),
    ):
        event(handler, inputs, changed, **private).then(
            lambda: example_samples(state), None, examples, **private
        )
