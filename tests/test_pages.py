"""Page numbers of citations into a PDF are exact where a page break falls between two chunks:
the page is counted in the article's text as the store keeps it (``Catalog.article_text``), not
in text rebuilt from chunks, which loses the breaks in the gaps between them."""

from __future__ import annotations

from pathlib import Path

from embeddings import HashEmbedder
from qa import Assistant
from tests.pdf_fixtures import report_pdf


def test_a_page_break_between_chunks_is_counted(
    tmp_path: Path, embedder: HashEmbedder, store_kind: str
) -> None:
    path = tmp_path / "docs" / "report.pdf"
    path.parent.mkdir(parents=True)
    path.write_bytes(report_pdf())
    # Small chunks: one paragraph each, so every page break falls between two chunks. The
    # answer path without the trained reader is enough: pages are set after either.
    with Assistant.open(
        tmp_path / "index",
        embedder=embedder,
        store=store_kind,
        chunk_tokens=20,
        overlap_tokens=0,
        reader=False,
    ) as assistant:
        assert assistant.ingest([path]).ok
        (article,) = assistant.articles()
        chunks = assistant.catalog.chunk_rows(article.id)
        assert len(chunks) >= 5 and not any("\f" in chunk.text for chunk in chunks)
        reply = assistant.ask("Who repainted the lantern room of the lighthouse in bright red?")
        assert reply.found and "Tomas Berg" in reply.citations[0].quote
        assert reply.citations[0].page == 3, reply.citations
        reply = assistant.ask("Who reopened the harbour on a cold Monday morning?")
        assert reply.citations[0].page == 2, reply.citations
