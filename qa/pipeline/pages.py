"""Page numbers for citations into paged articles (PDFs).

A PDF's article text holds a form feed at each page break (qa/pipeline/readers/pdf.py), so the
page of an offset is one more than the form feeds before it. Every store keeps each article's
exact text (``Catalog.article_text``), so the count is exact, also where a page break falls
between two chunks.
"""

from __future__ import annotations

from dataclasses import replace

from qa.pipeline.formats import is_paged
from qa.pipeline.readers.pdf import PAGE_BREAK
from qa.stores.base import Catalog
from qa.types import Answer


def with_pages(catalog: Catalog, reply: Answer) -> Answer:
    """``reply`` with ``Citation.page`` set for citations into paged articles."""
    sources = {passage.chunk_id: passage.source for passage in reply.passages}
    texts: dict[str, str] = {}
    citations = []
    for citation in reply.citations:
        if is_paged(sources.get(citation.chunk_id, "")):
            if citation.article_id not in texts:
                texts[citation.article_id] = catalog.article_text(citation.article_id) or ""
            breaks = texts[citation.article_id].count(PAGE_BREAK, 0, max(0, citation.start))
            citation = replace(citation, page=1 + breaks)
        citations.append(citation)
    return replace(reply, citations=citations)
