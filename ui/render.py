"""Turn answers, sources and reports into Markdown and HTML for the web UI, safely.

Everything that comes from articles or users (titles, text, urls, questions) is escaped here:
the browser shows ``<script>`` as those characters and runs nothing. These are pure functions,
tested without a browser.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from urllib.parse import urlparse

from qa import Answer, ArticleInfo, Citation, IngestReport, Passage
from qa.conversations import answer_text
from qa.links import PDF_PATH, citation_link
from qa.pipeline.answer import related

# Markdown punctuation that could start markup; a backslash before each makes it literal.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
RELATED_SHOWN = 3
SERVED_PREFIX = PDF_PATH.split("{", 1)[0]  # links to the PDFs this server serves


def escape_markdown(text: str) -> str:
    """Text shown literally inside Markdown: HTML escaped, Markdown punctuation backslashed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are rendered as links (no ``javascript:`` or ``data:`` urls)."""
    if not url:
        return None
    return url if urlparse(url).scheme in ("http", "https") else None


def cite_id(turn: int, number: int) -> str:
    return f"qa-cite-{turn}-{number}"


def answer_parts(reply: Answer, turn: int) -> list[str]:
    """The chat message in pieces (one per cited sentence), for streaming."""
    if not reply.found:
        return [answer_markdown(reply, turn)]
    if reply.mode == "generative":  # the model's checked sentences, each with its quote's [n]
        return [
            f"{escape_markdown(s.text)} [\\[{s.citation}\\]](#{cite_id(turn, s.citation)})"
            for s in reply.sentences
            if s.citation is not None
        ]
    return [
        f"{escape_markdown(c.quote)} [\\[{c.number}\\]](#{cite_id(turn, c.number)})"
        for c in reply.citations
    ]


def answer_markdown(reply: Answer, turn: int) -> str:
    """The chat message: quoted sentences, each with a ``[n]`` link to its source in the panel."""
    if reply.found:
        return " ".join(answer_parts(reply, turn))
    lines = [escape_markdown(reply.text)]
    if reply.passages:
        lines.append("")
        lines.append("Possibly related (see Sources):")
        for number, passage in enumerate(related(reply.passages, RELATED_SHOWN), start=1):
            lines.append(f"- [{escape_markdown(passage.title)}](#{cite_id(turn, number)})")
    return "\n".join(lines)


def chat_message(reply: Answer, turn: int) -> str:
    """The finished answer as the chat shows it (after streaming, and when a saved conversation
    is reopened): the answer with its ``[n]`` links, then the notice, if any."""
    final = answer_markdown(reply, turn)
    if reply.notice:
        final += f"\n\n*{escape_markdown(reply.notice)}*"
    return final


def copy_id(turn: int) -> str:
    return f"qa-copy-{turn}"


def copy_text(reply: Answer) -> str:
    """What the copy button copies: the answer and its sources as ``qa chat`` prints them,
    with only http(s) links (a ``javascript:`` url is left out here too)."""
    safe = replace(
        reply,
        citations=[replace(c, url=safe_url(c.url)) for c in reply.citations],
        passages=[replace(p, url=safe_url(p.url)) for p in reply.passages],
    )
    return answer_text(safe)


def _marked_passage(passage: Passage, citation: Citation | None) -> str:
    """The passage as HTML, with the cited sentence in ``<mark>`` (offsets, not string search)."""
    text = passage.text
    if citation is None or not passage.start <= citation.start < citation.end <= passage.end:
        return html.escape(text)
    a, b = citation.start - passage.start, citation.end - passage.start
    return (
        html.escape(text[:a])
        + "<mark>"
        + html.escape(text[a:b])
        + "</mark>"
        + html.escape(text[b:])
    )


def open_link(passage: Passage, citation: Citation | None) -> tuple[str, str] | None:
    """(address, text) of the link above a source: a web page opened at the quote (a URL text
    fragment), a PDF served by ``qa serve`` opened at the quote's page (qa/links.py); None for
    a local text file, whose passage the panel shows."""
    url = safe_url(passage.url)
    if citation is not None:
        link = citation_link(citation, passage.source, server="")
        if link and (safe_url(link) or link.startswith(SERVED_PREFIX)):
            return link, url or f"Open the PDF at page {citation.page}"
    return (url, url) if url else None


def _source_block(
    element_id: str, label: str, passage: Passage, citation: Citation | None, open_: bool
) -> str:
    meta = [html.escape(passage.title)]
    if citation is not None and citation.page:
        meta.append(f"p. {citation.page}")
    if passage.date:
        meta.append(html.escape(passage.date))
    opened = open_link(passage, citation)
    link = (
        f'<a href="{html.escape(opened[0])}" target="_blank" rel="noopener noreferrer">'
        f"{html.escape(opened[1])}</a>"
        if opened
        else ""
    )
    return (
        f'<details class="qa-source" id="{element_id}"{" open" if open_ else ""}>'
        f"<summary><b>{html.escape(label)}</b> {' · '.join(meta)}</summary>"
        f'<div class="qa-link">{link}</div>'
        f'<blockquote class="qa-passage">{_marked_passage(passage, citation)}</blockquote>'
        "</details>"
    )


def sources_html(turns: list[Answer]) -> str:
    """The Sources panel: every answer's citations (newest first), each passage with its quote
    highlighted; for "not found" answers, the possibly related passages."""
    if not turns:
        return '<div class="qa-empty">Sources of each answer appear here.</div>'
    blocks: list[str] = []
    for turn in range(len(turns) - 1, -1, -1):
        reply = turns[turn]
        newest = turn == len(turns) - 1
        blocks.append(f'<div class="qa-question">Q{turn + 1}: {html.escape(reply.question)}</div>')
        # What the chat's copy button copies for this answer (see COPY_SCRIPT in ui/app.py):
        # the answer with its sources, as `qa chat` prints it.
        blocks.append(
            f'<pre class="qa-copy" id="{copy_id(turn)}" hidden>'
            f"{html.escape(copy_text(reply))}</pre>"
        )
        passages = {p.chunk_id: p for p in reply.passages}
        if reply.found:
            for citation in reply.citations:
                passage = passages.get(citation.chunk_id)
                if passage is None:  # cannot happen: citations come from these passages
                    continue
                blocks.append(
                    _source_block(
                        cite_id(turn, citation.number), f"[{citation.number}]", passage, citation,
                        open_=newest,
                    )
                )  # fmt: skip
        else:
            for number, passage in enumerate(related(reply.passages, RELATED_SHOWN), start=1):
                blocks.append(
                    _source_block(cite_id(turn, number), "related", passage, None, open_=False)
                )
    return "\n".join(blocks)


def report_markdown(report: IngestReport) -> str:
    """What an upload did: counts, then each rejected file and why."""
    lines = [f"**{escape_markdown(report.summary())}**"]
    if report.failed:
        lines.append("")
        lines.append("Not added:")
        lines.extend(f"- {escape_markdown(str(failure))}" for failure in report.failed)
    return "\n".join(lines)


def article_rows(articles: list[ArticleInfo]) -> list[list[str | int]]:
    """Rows for the articles table (the table component shows them as text)."""
    return [[a.title, a.id, a.chunks, a.date or "", a.source] for a in articles]
