"""PDF and Word files made in the tests (fpdf2, Pillow, python-docx): known text on known pages."""

from __future__ import annotations

import io
from pathlib import Path

# Page number -> the body lines written on it; the lines are put exactly (no wrapping), so the
# hyphenated "infor-" / "mation" sits at a line end.
PAGES = {
    1: [
        "The harbour report covers the storm season of the northern coast.",
        "Engineers measured the waves at the breakwater every hour and kept infor-",
        "mation on each vessel that entered the port during the storm.",
        "",
        "The first storm closed the harbour for three days.",
    ],
    2: [
        "The harbour master Ana Lima reopened the harbour on a cold Monday morning",
        "after the divers had inspected the damaged eastern pier.",
        "",
        "Fishing boats returned at dawn.",
    ],
    3: [
        "The lighthouse keeper Tomas Berg repainted the lantern room in bright red.",
        "",
        "The council approved a new seawall for the following year.",
    ],
}
HEADER = "Northern Coast Harbour Authority - Annual report"


def report_pdf(pages: dict[int, list[str]] = PAGES, password: str | None = None) -> bytes:
    from fpdf import FPDF

    class Report(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, HEADER, align="C")
            self.ln(10)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, f"Page {self.page_no()} of {len(pages)}", align="C")

    document = Report()
    document.set_title("Harbour report 2024")
    document.set_author("Ana Lima")
    document.set_creation_date(__import__("datetime").datetime(2024, 3, 5))
    document.set_font("Helvetica", size=11)
    for number in sorted(pages):
        document.add_page()
        for line in pages[number]:
            document.cell(0, 6, line)
            document.ln(6)
    if password:
        document.set_encryption(owner_password="owner", user_password=password)
    return bytes(document.output())


def scanned_pdf() -> bytes:
    """Two pages that are only pictures of text: no text layer."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    document = FPDF()
    for number in (1, 2):
        picture = Image.new("RGB", (600, 200), "white")
        ImageDraw.Draw(picture).text((20, 80), f"Scanned page {number}", fill="black")
        document.add_page()
        document.image(picture, x=10, y=10, w=180)
    return bytes(document.output())


def notes_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "Field notes"
    document.core_properties.author = "Tomas Berg"
    document.add_heading("Field notes", level=0)
    document.add_paragraph("The survey started on the eastern pier.")
    document.add_heading("Methods", level=1)
    document.add_paragraph("Divers inspected every pile below the waterline.")
    document.add_heading("Results", level=2)
    table = document.add_table(rows=2, cols=3)
    cells = [("Pier", "Piles", "Damaged"), ("East", "40", "7")]
    for row, values in zip(table.rows, cells, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("Seven piles need replacing before winter.")
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path
