"""PDF files: text in reading order, with pages kept as form feeds.

The extractor is pypdfium2 (PDFium, Apache-2.0/BSD), chosen over pypdf by measurement
(benchmarks/pdf_extractors.py): on 450 pages generated from the demo corpus (running header and
page-number footer) both recover every word in order after this module's cleaning (difflib word
ratio 1.0000), and PDFium takes 4.2 ms a page against pypdf's 21.3 ms.

The page map: pages are joined with a form feed (``\\f``), as pdftotext does, so the page of any
character offset is ``1 + text.count("\\f", 0, offset)`` (``page_at``). The map thus travels
with the article text through every store, is covered by its content hash, and needs no new
column; a ``\\f`` is whitespace to the chunker, the keyword index and the sentence splitter.

Cleaning, all per page before joining:
- running headers and footers: a line among the first or last ``EDGE_LINES`` of a page that
  repeats (digits ignored, so "Page 3 of 9" matches "Page 4 of 9") on at least
  ``RUNNING_SHARE`` of the pages is dropped, as are lines that are only a page number;
- lines are re-flowed into paragraphs (a paragraph ends at a blank line, or at a line that ends
  a sentence and is clearly shorter than the page's longest line);
- a word hyphenated at a line end ("infor-" / "mation") is joined when the next line starts
  with a lower-case letter; "well-" / "Known" keeps its hyphen. (PDFium already joins most
  such words, marking the join with \x02; the same rule applies to those.)
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

from qa.pipeline.headings import heading_lines
from qa.pipeline.records import FormatError, Record, title_from_name

PAGE_BREAK = "\f"
EDGE_LINES = 2
# A header must repeat on at least this share of pages (and on 3 pages or more) to be dropped:
# a line that repeats on half the pages of a short report is already boilerplate.
RUNNING_SHARE = 0.5
MIN_RUNNING_PAGES = 3
# A sentence-ending line shorter than this share of the page's longest line ends a paragraph.
SHORT_LINE = 0.8
NO_TEXT = (
    "has no text layer (a scanned or image-only PDF); run OCR on it first "
    "(e.g. ocrmypdf) and ingest the result"
)
ENCRYPTED = "is encrypted (password-protected); save a copy without a password to ingest it"
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d+(?:\s*(?:/|of)\s*\d+)?\s*$", re.IGNORECASE)
_SOFT_HYPHEN = re.compile(r"\x02(\w)")
_SENTENCE_END = re.compile(r"[.!?:;\"”’)\]]$")


def page_at(text: str, offset: int) -> int:
    """The 1-based page of character ``offset`` in text made by this reader."""
    return 1 + text.count(PAGE_BREAK, 0, max(0, offset))


def extract_pages(data: bytes) -> tuple[list[list[str]], dict[str, str]]:
    """Lines of each page, and the document info (Title, Author, CreationDate...)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise FormatError(ENCRYPTED) from error
        raise FormatError(f"is not a readable PDF ({' '.join(str(error).split())})") from error
    try:
        try:
            info = {k: str(v) for k, v in document.get_metadata_dict().items() if v}
        except Exception:  # broken info dictionaries are common; the text may still be fine
            info = {}
        pages: list[list[str]] = []
        damaged = 0
        for index in range(len(document)):
            try:
                raw = _page_text(document, index)
            except pdfium.PdfiumError:
                damaged += 1  # an unreadable page stays, empty, so later page numbers hold
                raw = ""
            raw = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
            # PDFium joins a word hyphenated at a line end itself and marks the join with \x02.
            raw = _SOFT_HYPHEN.sub(lambda m: ("" if m[1].islower() else "-") + m[1], raw)
            raw = raw.replace("\x02", "-")
            pages.append([line.rstrip() for line in raw.split("\n")])
        if pages and damaged == len(pages):
            raise FormatError("is damaged: none of its pages can be read")
    finally:
        document.close()
    return pages, info


def _page_text(document: Any, index: int) -> str:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            return str(textpage.get_text_bounded())
        finally:
            textpage.close()
    finally:
        page.close()


def _signature(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split())).lower()


def _edges(lines: list[str]) -> list[int]:
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return sorted(set(filled[:EDGE_LINES] + filled[-EDGE_LINES:]))


def drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Remove headers/footers repeated on most pages, and bare page numbers at page edges."""
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_signature(lines[i]) for i in _edges(lines)})
    needed = max(MIN_RUNNING_PAGES, RUNNING_SHARE * len(pages))
    running = {sig for sig, n in counts.items() if n >= needed}
    cleaned = []
    for lines in pages:
        edges = set(_edges(lines))
        cleaned.append(
            [
                line
                for i, line in enumerate(lines)
                if i not in edges or not (_signature(line) in running or _PAGE_NUMBER.match(line))
            ]
        )
    return cleaned


def reflow(lines: list[str]) -> list[str]:
    """Paragraphs of one page: lines joined, hyphenation at line ends repaired; a heading line
    stays a paragraph of its own (else "Outlook" would be glued to "The operator plans...")."""
    widest = max((len(line.strip()) for line in lines), default=0)
    paragraphs: list[str] = []
    current = ""
    for number, raw in enumerate(lines):
        line = " ".join(raw.split())
        if not line:
            if current:
                paragraphs.append(current)
                current = ""
            continue
        if _is_heading(line, current, lines[number + 1 :], widest):
            if current:
                paragraphs.append(current)
            paragraphs.append(line)
            current = ""
            continue
        if not current:
            current = line
        elif re.search(r"[^\W\d_]-$", current) and line[:1].islower():
            current = current[:-1] + line  # "infor-" + "mation"
        else:
            current = f"{current} {line}"
        if _SENTENCE_END.search(line) and len(line) < SHORT_LINE * widest:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def _is_heading(line: str, current: str, rest: list[str], widest: int) -> bool:
    """A heading line by qa/pipeline/headings.py's rule, before a line of full width (a
    heading introduces prose; short lines after short lines are a list, kept as text)."""
    following = next((" ".join(r.split()) for r in rest if r.strip()), "")
    if len(following) < SHORT_LINE * widest:
        return False
    text = "\n".join(part for part in (current, line, following) if part)
    start = len(current) + 1 if current else 0
    return any(a == start for a, _, _ in heading_lines(text, 0, len(text)))


def join_pages(pages: list[list[str]]) -> str:
    """One text; a form feed at each page break (followed by a blank line when a paragraph
    ended there, or standing for the space when a sentence runs on to the next page)."""
    text = ""
    for number, paragraphs in enumerate(pages):
        if number:
            if (
                text
                and paragraphs
                and not _SENTENCE_END.search(text)
                and paragraphs[0][:1].islower()
            ):
                if re.search(r"[^\W\d_]-$", text):
                    text = text[:-1]  # hyphenated across the page break: the \f stays the mark
                text += PAGE_BREAK
            else:
                text += PAGE_BREAK + "\n\n"
        text += "\n\n".join(paragraphs)
    return text


def pdf_date(value: str) -> str | None:
    """``D:20240131120000+01'00'`` -> ``2024-01-31``; None when unreadable."""
    match = re.match(r"(?:D:)?(\d{4})(\d{2})?(\d{2})?", value.strip())
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    try:
        return datetime(int(year), int(month), int(day)).date().isoformat()
    except ValueError:
        return None


def parse_pdf(data: bytes, stem: str) -> list[Record]:
    """``.pdf``: one article; ``\\f`` marks each page break (see ``page_at``)."""
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise FormatError("is not a PDF file (it does not start with %PDF)")
    pages, info = extract_pages(data)
    if not pages:
        raise FormatError("has no pages")
    pages = drop_running_lines(pages)
    text = join_pages([reflow(lines) for lines in pages])
    if not text.replace(PAGE_BREAK, "").strip():
        raise FormatError(NO_TEXT)
    meta: dict[str, str] = {}
    if info.get("Author", "").strip():
        meta["author"] = " ".join(info["Author"].split())
    date = pdf_date(info.get("CreationDate", "") or info.get("ModDate", ""))
    if date:
        meta["date"] = date
    title = " ".join(info.get("Title", "").split()) or title_from_name(stem)
    return [Record(title=title, text=text, meta=meta)]
