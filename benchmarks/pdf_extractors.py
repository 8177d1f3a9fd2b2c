"""Choose the PDF extractor: pypdfium2 vs pypdf on PDFs generated from the demo corpus.

Each corpus article becomes a PDF (fpdf2, core font, running header and page-number footer).
For each extractor: seconds per page, and how much of the source's word sequence comes back in
order (difflib ratio over words, after qa.pipeline.readers.pdf's header removal and reflow).

    PYTHONPATH=. python benchmarks/pdf_extractors.py
"""

from __future__ import annotations

import difflib
import io
import re
import time
from pathlib import Path

from fpdf import FPDF

from qa.pipeline.readers import pdf as reader

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "articles"


def make_pdf(title: str, text: str, copies: int) -> bytes:
    class Report(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, f"Annual report - {title}", align="C")
            self.ln(8)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, f"Page {self.page_no()}", align="C")

    document = Report()
    document.set_title(title)
    document.set_author("Benchmark")
    document.set_font("Helvetica", size=11)
    for _ in range(copies):
        document.add_page()
        for paragraph in text.split("\n\n"):
            document.multi_cell(0, 5, paragraph)
            document.ln(3)
    return bytes(document.output())


def pypdf_pages(data: bytes) -> list[list[str]]:
    from pypdf import PdfReader

    return [(page.extract_text() or "").split("\n") for page in PdfReader(io.BytesIO(data)).pages]


def pdfium_pages(data: bytes) -> list[list[str]]:
    return reader.extract_pages(data)[0]


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def main() -> None:
    sources = []
    for path in sorted(CORPUS.glob("*.md")):
        body = path.read_text().split("---", 2)[-1]
        body = re.sub(r"^#.*$", "", body, flags=re.M).strip()
        body = body.encode("latin-1", "ignore").decode("latin-1")
        sources.append((path.stem, body))
    for name, extract in (("pypdfium2", pdfium_pages), ("pypdf", pypdf_pages)):
        pages = seconds = 0.0
        ratios = []
        for copies in (1, 4):
            for stem, body in sources:
                data = make_pdf(stem, body, copies)
                started = time.perf_counter()
                raw = extract(data)
                seconds += time.perf_counter() - started
                pages += len(raw)
                cleaned = reader.drop_running_lines(raw)
                text = reader.join_pages([reader.reflow(lines) for lines in cleaned])
                expected = words(" ".join([body] * copies))
                ratios.append(difflib.SequenceMatcher(None, expected, words(text)).ratio())
        print(
            f"{name:10} {int(pages)} pages  {1000 * seconds / pages:.2f} ms/page  "
            f"word-order match mean {sum(ratios) / len(ratios):.4f} min {min(ratios):.4f}"
        )


if __name__ == "__main__":
    main()
