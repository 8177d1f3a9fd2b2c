"""Fuzzed PDF and Word files: damaged, truncated or random, reading gives articles or one clear
failure naming the file, never an exception, within ``SECONDS_PER_FILE`` (tests/test_fuzz.py)."""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.pdf_fixtures import notes_docx, report_pdf
from tests.test_fuzz import fuzz, read

PDF = report_pdf()
with tempfile.TemporaryDirectory() as _name:
    DOCX = notes_docx(Path(_name) / "fixture.docx").read_bytes()


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    out = bytearray(data if cut is None else data[: cut % (len(data) + 1)])
    for position, value in edits:
        if out:
            out[position % len(out)] = value
    return bytes(out)


EDITS = st.lists(st.tuples(st.integers(0, 2**20), st.integers(0, 255)), max_size=40)


@fuzz(150)
@given(edits=EDITS, cut=st.none() | st.integers(0, 2**20))
def test_damaged_pdfs(folder: Path, edits: list[tuple[int, int]], cut: int | None) -> None:
    read(folder, ".pdf", mutate(PDF, edits, cut))


@fuzz(100)
@given(data=st.binary(max_size=4096))
def test_random_bytes_that_claim_to_be_pdf(folder: Path, data: bytes) -> None:
    read(folder, ".pdf", b"%PDF-1.7\n" + data)


@fuzz(100)
@given(edits=EDITS, cut=st.none() | st.integers(0, 2**20))
def test_damaged_docx(folder: Path, edits: list[tuple[int, int]], cut: int | None) -> None:
    read(folder, ".docx", mutate(DOCX, edits, cut))


@fuzz(100)
@given(xml=st.text(max_size=2000), wrap=st.booleans())
def test_docx_with_any_document_xml(folder: Path, xml: str, wrap: bool) -> None:
    """A valid package whose document part holds anything (broken XML, no body, odd tags)."""
    if wrap:
        xml = (
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body><w:p><w:r><w:t>{xml}</w:t></w:r></w:p></w:body></w:document>"
        )
    source = zipfile.ZipFile(io.BytesIO(DOCX))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, xml.encode() if item.filename == "word/document.xml" else data)
    read(folder, ".docx", buffer.getvalue())
