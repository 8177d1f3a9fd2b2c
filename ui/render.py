"""Turn answers, sources and reports into Markdown and HTML for the web UI, safely.

Everything that comes from articles or users (titles, text, urls, questions) is escaped here:
the browser shows ``<script>`` as those characters and runs nothing. These are pure functions,
tested without a browser.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from qa import Answer, ArticleInfo, Citation, IngestReport, Passage
from qa.pipeline.answer import OFFER_START, related
from qa.pipeline.quotes import clean_quote

if TYPE_CHECKING:  # qa.llm loads httpx: only a server with --llm needs it
    from qa.llm import Verdict
    from qa.types import SentenceCheck

# Markdown punctuation that could start markup; a backslash before each makes it literal.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
RELATED_SHOWN = 3
# After a streamed sentence once checked, as the terminal marks it (qa/cli/llm.py): a passage
# supports it, none does (it is left out), or a passage contradicts it (left out, and named).
SUPPORTED_MARK = "✓"
UNSUPPORTED_MARK = "✗"
CONTRADICTED_MARK = "✗!"


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


def _source_label(passage_or_citation: Passage | Citation, date: str | None) -> str:
    """ "Title · date" of a source, escaped for Markdown."""
    parts = [passage_or_citation.title] + ([date[:10]] if date else [])
    return escape_markdown(" · ".join(parts))


def cite_link(reply: Answer, turn: int, number: int) -> str:
    """``[n]`` of an answer: a link to its source in the Sources panel whose accessible name is
    "[n] Title" (the title in a visually hidden span), with a preview of the quote shown on
    hover and focus (ui/static/qa.css)."""
    citation = next((c for c in reply.citations if c.number == number), None)
    marker = f"\\[{number}\\]"
    if citation is None:  # a generative sentence's number with no citation: plain text
        return marker
    passage = next((p for p in reply.passages if p.chunk_id == citation.chunk_id), None)
    title = escape_markdown(citation.title)
    preview = f"{_source_label(citation, passage.date if passage else None)}: “"
    preview += f"{escape_markdown(clean_quote(citation.quote))}”"
    return (
        f'<span class="qa-ref"><a class="qa-cite" href="#{cite_id(turn, number)}">{marker}'
        f'<span class="qa-sr"> {title}</span></a><span class="qa-preview">{preview}</span></span>'
    )


def answer_parts(reply: Answer, turn: int) -> list[str]:
    """The chat message in pieces (one per cited sentence)."""
    if not reply.found:
        return [answer_markdown(reply, turn)]
    if reply.mode == "generative":  # the model's checked sentences, each with its quote's [n]
        return [
            f"{escape_markdown(s.text)} {cite_link(reply, turn, s.citation)}"
            for s in reply.sentences
            if s.citation is not None
        ]
    return [
        f"{escape_markdown(clean_quote(c.quote))} {cite_link(reply, turn, c.number)}"
        for c in reply.citations
    ]


def answer_markdown(reply: Answer, turn: int) -> str:
    """The chat message: quoted sentences, each with a ``[n]`` link to its source in the panel."""
    if reply.found:
        return " ".join(answer_parts(reply, turn))
    lines = [_abstention_text(reply)]
    if reply.passages:
        lines.append("")
        lines.append("Possibly related (see Sources):")
        for number, passage in enumerate(related(reply.passages, RELATED_SHOWN), start=1):
            lines.append(f"- [{escape_markdown(passage.title)}](#{cite_id(turn, number)})")
    return "\n".join(lines)


SUGGEST_ID = "qa-suggest"


def _abstention_text(reply: Answer) -> str:
    """The abstention's text; a question respelled (qa.pipeline.spelling), which the text ends
    with, is a link that puts it in the question box (ui/static/qa.js), to ask or edit."""
    suggested = reply.suggested
    offered = f'{OFFER_START}"{suggested}"'
    if suggested is None or offered not in reply.text:
        return escape_markdown(reply.text)
    said, _, end = reply.text.rpartition(offered)
    link = f'<a class="qa-suggest" href="#{SUGGEST_ID}">{escape_markdown(suggested)}</a>'
    return f"{escape_markdown(said)}Did you mean {link}{escape_markdown(end)}"


def source_chips(reply: Answer, turn: int) -> str:
    """The sources of an answer, under its text: one small "[n] Title · date" link each."""
    if not reply.found or not reply.citations:
        return ""
    dates = {p.chunk_id: p.date for p in reply.passages}
    chips = [
        f'<a class="qa-chip" href="#{cite_id(turn, c.number)}">\\[{c.number}\\] '
        f"{_source_label(c, dates.get(c.chunk_id))}</a>"
        for c in reply.citations
    ]
    return f'<span class="qa-chips">{" ".join(chips)}</span>'


def verdict_mark(check: Verdict | SentenceCheck) -> str:
    """The mark of a checked sentence: ``SUPPORTED_MARK``, ``UNSUPPORTED_MARK`` or
    ``CONTRADICTED_MARK``."""
    if check.refuted:
        return CONTRADICTED_MARK
    return SUPPORTED_MARK if check.supported else UNSUPPORTED_MARK


def contradicted_markdown(reply: Answer) -> str:
    """The model's sentences that a source contradicts (``--llm`` with the verifier), which
    are left out of the answer: each with the quote that contradicts it and its article's
    title, as the terminal names them (qa/cli/llm.py ``print_checks``). Empty when none."""
    lines = []
    for sentence in reply.sentences:
        if not sentence.refuted:
            continue
        said = f"- {escape_markdown(sentence.text)} {CONTRADICTED_MARK}"
        if sentence.quote:
            passage = next((p for p in reply.passages if sentence.quote in p.text), None)
            source = f"{escape_markdown(passage.title)}: " if passage is not None else ""
            said += f"  \n  {source}“{escape_markdown(clean_quote(sentence.quote))}”"
        lines.append(said)
    if not lines:
        return ""
    return "**Left out, contradicted by the sources:**\n" + "\n".join(lines)


def chat_message(reply: Answer, turn: int) -> str:
    """The finished answer as the chat shows it (after streaming, and when a saved conversation
    is reopened): the answer with its ``[n]`` links, its sources as chips, the sentences a
    source contradicts, then the notice."""
    final = answer_markdown(reply, turn)
    chips = source_chips(reply, turn)
    if chips:
        final += f"\n\n{chips}"
    contradicted = contradicted_markdown(reply)
    if contradicted:
        final += f"\n\n{contradicted}"
    if reply.notice:
        final += f"\n\n*{escape_markdown(reply.notice)}*"
    return final


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
