"""Page numbers for citations into paged articles (PDFs).

A PDF's article text holds a form feed at each page break (qa/pipeline/readers/pdf.py), so the
page of an offset is one more than the form feeds before it. The embedded store keeps each article's
text, which gives the exact count. A Milvus store keeps only chunk texts: the text before the
offset is rebuilt from the article's chunks, exact when neighbouring chunks overlap (the default
40 tokens do) and an undercount only where a page break falls in a gap between two chunks.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from qa.pipeline.readers.pdf import PAGE_BREAK
from qa.types import Answer

PAGED_SUFFIXES = (".pdf", ".pdf.gz")


def article_text(catalog: Any, article_id: str) -> str:
    """The article's text as the store keeps it: exact from the embedded store, rebuilt from
    the chunks on a Milvus store (a gap between two chunks reads as spaces)."""
    if hasattr(catalog, "articles_by_id"):  # the embedded store keeps the whole text
        found = catalog.articles_by_id([article_id])
        return str(found[0].text) if found else ""
    text = ""
    for chunk in sorted(catalog.chunk_rows(article_id), key=lambda c: c.start):
        if chunk.start >= len(text):
            text += " " * (chunk.start - len(text)) + chunk.text
        elif chunk.end > len(text):
            text += chunk.text[len(text) - chunk.start :]
    return text


def _breaks_before(catalog: Any, article_id: str, offset: int, texts: dict[str, str]) -> int:
    if article_id not in texts:
        texts[article_id] = article_text(catalog, article_id)
    return texts[article_id].count(PAGE_BREAK, 0, max(0, offset))


def with_pages(catalog: Any, reply: Answer) -> Answer:
    """``reply`` with ``Citation.page`` set for citations into paged articles."""
    sources = {passage.chunk_id: passage.source for passage in reply.passages}
    texts: dict[str, str] = {}
    citations = []
    for citation in reply.citations:
        source = sources.get(citation.chunk_id, "").lower()
        if source.endswith(PAGED_SUFFIXES):
            page = 1 + _breaks_before(catalog, citation.article_id, citation.start, texts)
            citation = replace(citation, page=page)
        citations.append(citation)
    return replace(reply, citations=citations)
