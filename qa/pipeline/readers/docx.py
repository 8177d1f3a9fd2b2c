"""Word files (``.docx``, python-docx): paragraphs, headings and tables, in document order.

Headings (paragraph styles "Heading 1".."Heading 9" and "Title") become Markdown heading lines
(``## Methods``) with a blank line around them, as in ``.md`` articles, so the paragraph-aware
chunker starts a new unit at each. Table rows become one line each, cells separated by " | ".
The title is the document's core property, else its "Title" paragraph, else the first heading.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from qa.pipeline.records import FormatError, Record, title_from_name

_HEADING = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _heading_level(style_name: str) -> int | None:
    if style_name.lower() == "title":
        return 1
    match = _HEADING.match(style_name.strip())
    return int(match.group(1)) if match else None


def _blocks(document: Any) -> list[tuple[str, Any]]:
    """Paragraphs and tables in body order (python-docx lists them separately)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    found: list[tuple[str, Any]] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            found.append(("p", Paragraph(child, document)))
        elif tag == "tbl":
            found.append(("t", Table(child, document)))
    return found


def _table_rows(table: Any) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            value = " ".join(cell.text.split())
            if not cells or cells[-1] != value:  # merged cells repeat their text
                cells.append(value)
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def parse_docx(data: bytes, stem: str) -> list[Record]:
    """``.docx``: one article."""
    import docx

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise FormatError("is not a Word .docx file (not a zip package; old .doc is not read)")
    try:
        return _parse(docx.Document(io.BytesIO(data)), stem)
    except FormatError:
        raise
    except Exception as error:  # python-docx, lxml, zipfile and zlib raise many kinds on damage
        raise FormatError(f"is not a readable Word .docx file ({_one_line(error)})") from error


def _parse(document: Any, stem: str) -> list[Record]:
    parts: list[str] = []
    first_heading = style_title = ""
    for kind, block in _blocks(document):
        if kind == "t":
            rows = _table_rows(block)
            if rows:
                parts.append("\n".join(rows))
            continue
        text = " ".join(block.text.split())
        if not text:
            continue
        style = block.style.name if block.style is not None else ""
        level = _heading_level(style or "")
        if level is None:
            parts.append(text)
            continue
        if style.lower() == "title":
            style_title = style_title or text
        first_heading = first_heading or text
        parts.append(f"{'#' * level} {text}")
    text = "\n\n".join(parts)
    if not text.strip():
        raise FormatError("has no text (no paragraphs or tables with words)")
    core = document.core_properties
    meta: dict[str, str] = {}
    if core.author and core.author.strip():
        meta["author"] = " ".join(core.author.split())
    when = core.created or core.modified
    if when is not None:
        meta["date"] = when.date().isoformat()
    title = " ".join((core.title or "").split()) or style_title or first_heading
    return [Record(title=title or title_from_name(stem), text=text, meta=meta)]
