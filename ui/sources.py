"""The Sources panel: the passages behind one answer, each with its quoted sentence marked.

Every answer of the chat has its section; only the answer last clicked (the newest at first)
is shown: ui/static/qa.js shows another answer's section when one of its ``[n]`` or chips is
clicked. On a phone the panel opens as a sheet over the chat, with a button back to the answer.
Everything from articles and users is escaped here; pure functions, tested without a browser.
"""

from __future__ import annotations

import html
from dataclasses import replace

from qa import Answer, Citation, Passage
from qa.conversations import answer_text
from qa.links import PDF_PATH, citation_link
from qa.pipeline.answer import related
from ui.render import RELATED_SHOWN, cite_id, safe_url

EMPTY = '<div class="qa-empty">Sources of each answer appear here.</div>'
BACK = '<button type="button" class="qa-back">← Back to the answer</button>'
SERVED_PREFIX = PDF_PATH.split("{", 1)[0]  # links to the PDFs this server serves


def copy_id(turn: int) -> str:
    return f"qa-copy-{turn}"


def turn_id(turn: int) -> str:
    return f"qa-turn-{turn}"


def copy_text(reply: Answer) -> str:
    """What the copy button copies: the answer and its sources as ``qa chat`` prints them,
    with only http(s) links (a ``javascript:`` url is left out here too)."""
    safe = replace(
        reply,
        citations=[replace(c, url=safe_url(c.url)) for c in reply.citations],
        passages=[replace(p, url=safe_url(p.url)) for p in reply.passages],
    )
    return answer_text(safe)


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


def _turn_section(reply: Answer, turn: int, shown: bool) -> str:
    blocks = [f'<div class="qa-question">Q{turn + 1}: {html.escape(reply.question)}</div>']
    # What the chat's copy button copies for this answer (ui/static/qa.js): the answer with
    # its sources, as `qa chat` prints it.
    blocks.append(
        f'<pre class="qa-copy" id="{copy_id(turn)}" hidden>{html.escape(copy_text(reply))}</pre>'
    )
    passages = {p.chunk_id: p for p in reply.passages}
    if reply.found:
        for citation in reply.citations:
            passage = passages.get(citation.chunk_id)
            if passage is not None:  # always: citations come from these passages
                label = f"[{citation.number}]"
                element = cite_id(turn, citation.number)
                blocks.append(_source_block(element, label, passage, citation, open_=True))
    else:
        for number, passage in enumerate(related(reply.passages, RELATED_SHOWN), start=1):
            element = cite_id(turn, number)
            blocks.append(_source_block(element, "related", passage, None, open_=False))
    hidden = "" if shown else " hidden"
    return (
        f'<section class="qa-turn" id="{turn_id(turn)}" data-turn="{turn}"{hidden}>'
        + "\n".join(blocks)
        + "</section>"
    )


def sources_html(turns: list[Answer], shown: int | None = None) -> str:
    """The Sources panel: a section per answer, each passage with its quote highlighted (for
    "not found" answers, the possibly related passages); only answer ``shown`` is visible
    (default: the newest with something to show, so a "thanks" in between, which has no
    source, leaves the last answer's sources in view)."""
    if not turns:
        return EMPTY
    if shown is None:
        with_sources = [n for n, reply in enumerate(turns) if reply.citations or reply.passages]
        shown = with_sources[-1] if with_sources else len(turns) - 1
    visible = shown
    sections = [_turn_section(reply, turn, turn == visible) for turn, reply in enumerate(turns)]
    return BACK + "\n".join(reversed(sections))
