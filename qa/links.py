"""Links that open a citation at the quoted words (pure functions, no I/O).

- A web article: its page with a URL text fragment, ``url#:~:text=start,end`` (the WICG
  text-fragments spec: https://wicg.github.io/scroll-to-text-fragment/), which browsers scroll
  to and highlight. A short quote is given whole (``text=quote``); a longer one by its first and
  last words, so a small edit in the middle of the live page still matches.
- A PDF: the file at the quoted page, ``#page=N`` (PDF viewers' open parameter): the file
  served by ``qa serve`` (``PDF_PATH``), else the PDF's web address, else its local file.
- A local text file: no link (None); the Sources panel and ``qa ask`` show the passage itself.

Used by ``qa ask --json``, the conversation exports (qa/conversations.py), the web UI's Sources
panel (ui/render.py) and the OpenAI-compatible endpoint's ``citations``.

    >>> text_directive("Tesla was born on 10 July 1856.")
    'text=Tesla%20was%20born%20on%2010%20July%201856.'
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any
from urllib.parse import quote, urlsplit

from qa.types import Answer, Citation

# A quote up to this many characters is matched whole: short enough for a readable address.
WHOLE_QUOTE_CHARS = 80
# A longer quote is matched from its first to its last this many words (textStart,textEnd).
EDGE_WORDS = 5
# Where ``qa serve`` serves the PDF an article was read from (ui/routes.py mounts it).
PDF_PATH = "/articles/{article_id}/pdf"
PDF_SUFFIXES = (".pdf", ".pdf.gz")


def encode_term(term: str) -> str:
    """Percent-encode one term of a text directive.

    Everything but letters, digits and ``_.~`` is encoded, as UTF-8 for non-ASCII text; the
    dash too, although URLs allow it, because ``-`` marks a prefix or suffix in the directive
    (as ``,`` separates its terms and ``&`` separates directives).
    """
    return quote(term, safe="").replace("-", "%2D")


def text_directive(quote_text: str) -> str:
    """``text=start`` for a short quote, ``text=start,end`` (first and last words) otherwise.

    Whitespace runs become one space (as a browser renders them), so a quote that spans a line
    break or a PDF page break still matches.
    """
    words = quote_text.split()
    whole = " ".join(words)
    if len(whole) <= WHOLE_QUOTE_CHARS or len(words) <= 2 * EDGE_WORDS:
        return "text=" + encode_term(whole)
    start = " ".join(words[:EDGE_WORDS])
    end = " ".join(words[-EDGE_WORDS:])
    return f"text={encode_term(start)},{encode_term(end)}"


def is_web(url: str | None) -> bool:
    return bool(url) and urlsplit(url or "").scheme in ("http", "https")


def quote_url(url: str, quote_text: str) -> str:
    """``url`` opened at ``quote_text``. A fragment the address already has is kept (a page
    may route by it) and the text directive follows it, as the spec allows; a text directive
    it already had is replaced."""
    base, _, fragment = url.partition("#")
    fragment = fragment.split(":~:", 1)[0]
    if not quote_text.split():
        return url
    return f"{base}#{fragment}:~:{text_directive(quote_text)}"


def page_url(url: str, page: int) -> str:
    """``url`` opened at ``page`` (PDF viewers read ``#page=N``; another fragment is dropped)."""
    return f"{url.partition('#')[0]}#page={page}"


def served_pdf_url(server: str, article_id: str, page: int) -> str:
    """The PDF that ``qa serve`` at ``server`` serves for the article, at ``page``. ``server``
    is the server's address (``""`` for a link inside its own pages)."""
    path = PDF_PATH.format(article_id=quote(article_id, safe=""))
    return page_url(server.rstrip("/") + path, page)


def citation_link(
    citation: Citation, source: str | None = None, server: str | None = None
) -> str | None:
    """Where ``citation`` opens at its quote, or None (a local text file: the passage is shown).

    ``source`` is the file or address the cited article was read from (its passage's
    ``source``); ``server`` is the address of a ``qa serve`` that serves the PDFs (None: there
    is none, and a local PDF is linked as a ``file:`` URI).
    """
    return quote_link(
        citation.article_id, citation.url, citation.quote, citation.page, source, server
    )


def quote_link(
    article_id: str,
    url: str | None,
    quoted: str,
    page: int | None,
    source: str | None,
    server: str | None = None,
) -> str | None:
    """``citation_link`` for any quote of an article (a search result's passage, an excerpt):
    ``page`` is set for an article read from a PDF."""
    web = url if is_web(url) else None
    if page is not None:  # a PDF
        if source and not is_web(source):  # read from a file here: it is the text we quote
            if server is not None and source.lower().endswith(PDF_SUFFIXES):
                return served_pdf_url(server, article_id, page)
            path = PurePath(source)
            if server is None and path.is_absolute() and source.lower().endswith(".pdf"):
                return page_url(path.as_uri(), page)
        return page_url(web, page) if web else None
    return quote_url(web, quoted) if web else None


def answer_links(reply: Answer, server: str | None = None) -> dict[int, str | None]:
    """The link of each citation of ``reply``, by citation number."""
    sources = {passage.chunk_id: passage.source for passage in reply.passages}
    return {
        citation.number: citation_link(citation, sources.get(citation.chunk_id), server)
        for citation in reply.citations
    }


def answer_dict(reply: Answer, server: str | None = None) -> dict[str, Any]:
    """``reply.to_dict()`` with a ``link`` in each citation (``qa ask --json``, the exports)."""
    data = reply.to_dict()
    links = answer_links(reply, server)
    for citation in data["citations"]:
        citation["link"] = links.get(citation["number"])
    return data
