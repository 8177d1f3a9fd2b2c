"""The Articles tab: add files or a web address, and the list of articles, each removable after
a confirmation.

The handlers are plain functions of the shared ``AppState`` and their inputs (tested without a
browser); ``build_articles`` lays the tab out and wires its events.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr

from qa import ArticleInfo, QAError
from qa.pipeline.corpus import SUFFIXES
from qa.pipeline.readers.web import is_address
from ui.page import script
from ui.render import escape_markdown, report_markdown
from ui.saved import user_of
from ui.state import AppState
from ui.uploads import MAX_UPLOAD_MB, save_uploads

ROWS_SHOWN = 200  # a longer list is narrowed with the filter box


class ArticlesView(NamedTuple):
    """What a change to the articles shows (the outputs, in order)."""

    report: str  # what happened, in Markdown
    table: str  # the article list (``article_table``)


def _chunks(article: ArticleInfo) -> str:
    return f"{article.chunks} chunk{'' if article.chunks == 1 else 's'}"


def _matches(article: ArticleInfo, words: list[str]) -> bool:
    where = " ".join((article.title, article.date or "", article.source, article.id)).lower()
    return all(word in where for word in words)


def article_table(articles: Sequence[ArticleInfo], query: str = "") -> str:
    """The articles as an HTML table (title, date, source, chunks), with a Remove button each;
    ``query`` keeps the rows whose title, date, source or id hold all of its words."""
    words = query.lower().split()
    shown = [a for a in articles if _matches(a, words)]
    count = f"{len(articles):,} article{'' if len(articles) == 1 else 's'}"
    if words:
        count = f"{len(shown):,} of {count}"
    rows = []
    for article in shown[:ROWS_SHOWN]:
        title = html.escape(article.title)
        rows.append(
            f"<tr><td>{title}</td><td>{html.escape((article.date or '')[:10])}</td>"
            f'<td class="qa-path">{html.escape(article.source)}</td><td>{article.chunks}</td>'
            f'<td><button type="button" class="qa-remove" '
            f'data-article="{html.escape(article.id)}" aria-label="Remove {title}">Remove'
            "</button></td></tr>"
        )
    more = len(shown) - ROWS_SHOWN
    if more > 0:
        left = f"… and {more:,} more: narrow them with the filter."
        rows.append(f'<tr><td colspan="5">{left}</td></tr>')
    head = (
        "<thead><tr><th>Title</th><th>Date</th><th>Source</th><th>Chunks</th>"
        '<th><span class="qa-sr">Remove</span></th></tr></thead>'
    )
    body = f"<table>{head}<tbody>{''.join(rows)}</tbody></table>" if shown else ""
    return f'<p class="qa-count">{count}</p>{body}'


def add_files(
    state: AppState,
    files: list[str] | None,
    query: str = "",
    progress: Any = None,
    user: str | None = None,
) -> ArticlesView:
    """Upload handler: save the files safely (``user``: who uploads, so nobody replaces another's
    file), ingest them in the writer (questions are answered meanwhile), report what happened."""
    if not files:
        return ArticlesView("Choose one or more article files first.", _table(state, query))
    saved = save_uploads(files, state.upload_dir, user=user)
    lines = [f"- {escape_markdown(reason)}" for reason in saved.rejected]
    if saved.paths:
        report = state.ingest(saved.paths, _progress(progress))
        text = report_markdown(report)
    else:
        text = "**Nothing was added.**"
    if saved.renamed:
        text += "\n\n" + "\n".join(f"- {escape_markdown(line)}" for line in saved.renamed)
    if lines:
        text += "\n\nRejected uploads:\n" + "\n".join(lines)
    return ArticlesView(text, _table(state, query))


def add_address(
    state: AppState, address: str | None, query: str = "", progress: Any = None
) -> ArticlesView:
    """Handler of "Add by address": fetch a web page or feed and ingest it
    (qa/pipeline/readers/web.py)."""
    address = (address or "").strip()
    if not is_address(address):
        text = "Enter a web address starting with http:// or https://."
        return ArticlesView(text, _table(state, query))
    report = state.ingest([address], _progress(progress))
    return ArticlesView(report_markdown(report), _table(state, query))


def confirm_remove(state: AppState, article_id: str | None) -> tuple[Any, str, str | None]:
    """A Remove button asks first: (the confirmation, shown; its question naming the article;
    the article waiting for the answer)."""
    article = _by_id(state, article_id)
    if article is None:
        return gr.update(visible=False), "", None
    question = (
        f"Remove “{escape_markdown(article.title)}” ({_chunks(article)}, from "
        f"{escape_markdown(Path(article.source).name)}) from the index? Its file stays where "
        "it is."
    )
    return gr.update(visible=True), question, article.id


def remove_article(state: AppState, article_id: str | None, query: str = "") -> ArticlesView:
    """Remove one article (once confirmed); the report names it."""
    article = _by_id(state, article_id)
    if article is None:
        return ArticlesView("That article is no longer in the index.", _table(state, query))
    try:
        state.remove([article.id])
    except QAError as error:
        return ArticlesView(escape_markdown(str(error)), _table(state, query))
    text = f"Removed “{escape_markdown(article.title)}” ({_chunks(article)})."
    return ArticlesView(text, _table(state, query))


def _table(state: AppState, query: str) -> str:
    return article_table(state.articles(), query)


def _progress(progress: Any) -> Any:
    def report_progress(stage: str, done: int, total: int) -> None:
        if progress is not None and total:
            progress((done, total), desc=stage)

    return report_progress


@dataclass
class ArticlesTab:
    """The events that change the articles: the chat follows each (ui/app.py)."""

    changed: list[Any]


def build_articles(app: gr.Blocks, state: AppState) -> ArticlesTab:
    """Lay out the Articles tab (inside ``gr.Tab``) and wire its events; the list is read on
    every page load."""
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
    query = gr.Textbox(
        label="Filter the articles", placeholder="Words of a title, date or source",
        elem_id="qa-article-filter", max_length=200,
    )  # fmt: skip
    # The id on a Column around the Group (Gradio 6.31 writes a Group's elem_id twice).
    with gr.Column(visible=False, elem_id="qa-remove-confirm") as confirm, gr.Group():
        question = gr.Markdown()
        with gr.Row():
            yes = gr.Button("Remove", size="sm", variant="stop", elem_id="qa-remove-yes")
            no = gr.Button("Cancel", size="sm", elem_id="qa-remove-no")
    # Filled on load (the index may have changed since the server started).
    table = gr.HTML(article_table([]), elem_id="qa-articles", js_on_load=script("articles.js"))
    pending = gr.State(None)  # the article a Remove button asked about

    private: dict[str, Any] = {"api_visibility": "private"}
    shown = [report, table]

    def on_add(
        files: list[str] | None,
        query: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Any:
        return add_files(state, files, query, progress, user_of(request))

    def on_address(address: str, query: str, progress: gr.Progress = gr.Progress()) -> Any:  # noqa: B008
        return add_address(state, address, query, progress)

    def on_ask_remove(event: gr.EventData) -> tuple[Any, str, str | None]:
        return confirm_remove(state, event._data.get("article"))

    def on_remove(article_id: str | None, query: str) -> tuple[Any, ...]:
        return (*remove_article(state, article_id, query), gr.update(visible=False), None)

    app.load(lambda: _table(state, ""), None, table, **private)
    changed = [
        add.click(on_add, [uploads, query], shown, **private),
        fetch.click(on_address, [address, query], shown, **private),
        address.submit(on_address, [address, query], shown, **private),
        yes.click(on_remove, [pending, query], [*shown, confirm, pending], **private),
    ]
    # .change, not .input: under Gradio 6.31 the input event missed a value set at once
    # (Playwright's fill); change follows every new value.
    query.change(lambda q: _table(state, q), query, table, show_progress="hidden", **private)
    table.select(on_ask_remove, None, [confirm, question, pending], **private)
    no.click(lambda: (gr.update(visible=False), None), None, [confirm, pending], **private)
    return ArticlesTab(changed)


def _by_id(state: AppState, article_id: str | None) -> ArticleInfo | None:
    """The article of that id (not of that title): the one a row's button names."""
    found = state.article(article_id) if article_id else None
    return found if found is not None and found.id == article_id else None
