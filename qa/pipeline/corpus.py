"""Find article files and read them into ``Article``s, one file at a time, never failing the lot.

Supported: ``.txt``, ``.md``, ``.html``/``.htm``, ``.json`` (records or SQuAD), ``.jsonl``,
``.pdf`` and ``.docx`` (qa/pipeline/readers/), and any of these gzip-compressed (``.json.gz``).
Folders are walked recursively; hidden files and other types found inside them are skipped
(and counted), while a file named on the command line must be readable or it is reported as
failed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from qa.layout import LOCK_FILE
from qa.pipeline import formats
from qa.pipeline.formats import FormatError, Record, RecordError
from qa.types import Article, IngestFailure

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".pdf", ".docx")
DEFAULT_MAX_FILE_MB = 32
_SNIFF_BYTES = 8192


def _read_pdf(data: bytes, stem: str) -> list[Record]:
    from qa.pipeline.readers.pdf import parse_pdf  # loads PDFium only when a PDF is read

    return parse_pdf(data, stem)


def _read_docx(data: bytes, stem: str) -> list[Record]:
    from qa.pipeline.readers.docx import parse_docx

    return parse_docx(data, stem)


# Formats read from bytes by their own module (qa/pipeline/readers/).
BINARY_READERS = {".pdf": _read_pdf, ".docx": _read_docx}


@dataclass
class FileResult:
    """What one file gave: its articles, and failures (the whole file, or single records)."""

    path: str
    articles: list[Article] = field(default_factory=list)
    failures: list[IngestFailure] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every record was read: only then may articles missing from it be pruned."""
        return not self.failures


@dataclass
class Discovery:
    files: list[Path]
    missing: list[IngestFailure]
    skipped: list[str]


def kind_of(path: Path) -> str | None:
    """The format suffix of ``path`` (``.json`` for ``a.json.gz``), or None if unsupported."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return None


def discover(paths: Iterable[str | Path], exclude: Iterable[Path] = ()) -> Discovery:
    """Expand files and folders (recursively, sorted, hidden entries skipped) into files.

    Folders in ``exclude`` are not entered: the index folder, so ``qa ingest .`` next to
    ``./index`` does not read the index's own ``config.json`` as an article."""
    excluded = {folder.resolve() for folder in exclude}
    files: list[Path] = []
    missing: list[IngestFailure] = []
    skipped: list[str] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            missing.append(IngestFailure(str(raw), "no such file or folder"))
            continue
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                if root != str(path) and LOCK_FILE in names:
                    dirs[:] = []  # an article-qa index folder (e.g. ./index under a watched .)
                    continue
                dirs[:] = sorted(
                    d
                    for d in dirs
                    if not d.startswith(".") and Path(root, d).resolve() not in excluded
                )
                for name in sorted(names):
                    child = Path(root, name)
                    if name.startswith("."):
                        continue
                    if kind_of(child) is None:
                        skipped.append(str(child))
                    elif child.resolve() not in seen:
                        seen.add(child.resolve())
                        files.append(child)
        elif path.resolve() not in seen:
            seen.add(path.resolve())
            files.append(path)
    return Discovery(files, missing, skipped)


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    size = path.stat().st_size
    if size > max_bytes:
        raise FormatError(
            f"{size / 2**20:.1f} MB is over the limit of {max_bytes / 2**20:.0f} MB per file "
            "(raise it with --max-file-mb)"
        )
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
                data = handle.read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as error:
            raise FormatError(f"is not a valid gzip file ({error})") from error
        if len(data) > max_bytes:
            raise FormatError(
                f"unpacks to over the limit of {max_bytes / 2**20:.0f} MB per file "
                "(raise it with --max-file-mb)"
            )
    return data


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (BOM allowed) or BOM-marked UTF-16; binary or bad bytes raise."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise FormatError("is not valid UTF-16 text despite its byte-order mark") from error
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise FormatError("looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex()
        raise FormatError(
            f"is not valid UTF-8 (byte 0x{bad} at position {error.start}); save it as UTF-8"
        ) from error


def normalise(text: str) -> str:
    # One newline convention, so offsets and content hashes do not depend on the platform.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _parse(path: Path, data: bytes) -> tuple[list[Record], list[RecordError]]:
    kind = kind_of(path)
    stem = path.name.split(".")[0] or path.name
    if not data.strip():
        raise FormatError("is empty")
    if kind in (".html", ".htm"):
        if b"\x00" in data[:_SNIFF_BYTES]:
            raise FormatError("looks like a binary file, not HTML")
        return formats.parse_html(data, stem), []
    if kind in BINARY_READERS:
        return BINARY_READERS[kind](data, stem), []
    text = normalise(decode(data))
    if not text.strip():
        raise FormatError("is empty")
    if kind == ".txt":
        return formats.parse_text(text, stem), []
    if kind in (".md", ".markdown"):
        return formats.parse_markdown(text, stem), []
    if kind == ".jsonl":
        return formats.parse_jsonl(text, stem)
    return formats.parse_json(text, stem)


def article_id(source: str, key: str) -> str:
    """A stable id for an article without one: the same file (and record key) gives the same id."""
    return hashlib.sha1(f"{source}#{key}".encode()).hexdigest()[:16]


def read_file(path: Path, max_file_bytes: int = DEFAULT_MAX_FILE_MB * 2**20) -> FileResult:
    """Read one file into articles; never raises for bad content (failures are returned)."""
    source = str(path.resolve()) if path.exists() else str(path)
    result = FileResult(path=source)
    try:
        if kind_of(path) is None:
            raise FormatError(
                f"unsupported file type; supported: {', '.join(SUFFIXES)} (optionally gzipped)"
            )
        records, record_errors = _parse(path, _read_bytes(path, max_file_bytes))
    except FormatError as error:
        result.failures.append(IngestFailure(str(path), str(error)))
        return result
    except OSError as error:
        result.failures.append(IngestFailure(str(path), f"cannot be read ({error.strerror})"))
        return result
    except Exception as error:  # a parser bug: this file fails, the rest of the ingest goes on
        result.failures.append(
            IngestFailure(
                str(path),
                f"could not be read ({type(error).__name__}: {' '.join(str(error).split())}); "
                "this is a bug in article-qa, please report it with the file",
            )
        )
        return result
    for bad in record_errors:
        result.failures.append(IngestFailure(f"{path} ({bad.where})", bad.reason))
    many = len(records) > 1 or kind_of(path) in (".json", ".jsonl")
    keys_seen: dict[str, int] = {}
    for position, record in enumerate(records, start=1):
        text = normalise(record.text)
        if not text.strip():
            where = f"{path} (record {position})" if many else str(path)
            result.failures.append(IngestFailure(where, "has no text"))
            continue
        key = record.key or (record.title if many else "")
        keys_seen[key] = keys_seen.get(key, 0) + 1
        if keys_seen[key] > 1:
            key = f"{key}#{keys_seen[key]}"
        result.articles.append(
            Article(
                id=record.id or article_id(source, key),
                title=record.title.strip() or formats.title_from_name(path.stem),
                text=text,
                source=source,
                url=record.meta.get("url"),
                date=record.meta.get("date"),
                author=record.meta.get("author"),
            )
        )
    return result
