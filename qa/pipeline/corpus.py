"""Find article files and read them into ``Article``s, one file at a time, never failing the lot.

What is read is ``qa.pipeline.formats``'s table (``.txt``, ``.md``, ``.html``, ``.json``,
``.jsonl``, ``.pdf``, ``.docx`` and formats that plugins add), each also gzip-compressed
(``.json.gz``). Folders are walked recursively; hidden files, other types and a
``questions.json`` of example questions found inside them are skipped (and counted), while a
file named on the command line must be readable or it is reported as failed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from qa.layout import LOCK_FILE
from qa.pipeline import formats
from qa.pipeline.examples import holds_questions
from qa.pipeline.formats import normalise
from qa.pipeline.records import FormatError, Record, RecordError, title_from_name
from qa.types import Article, IngestFailure

# The built-in formats' suffixes (``formats.suffixes()`` adds those of plugins).
SUFFIXES = tuple(suffix for known in formats.FORMATS for suffix in known.suffixes)
DEFAULT_MAX_FILE_MB = 32


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


def kind_of(path: Path) -> formats.Format | None:
    """The format of ``path`` (JSON for ``a.json.gz``), or None if unsupported."""
    return formats.format_of(path.name)


def may_hold_articles(path: Path) -> bool:
    """What a folder walk reads: a file of a known format that is not a ``questions.json`` of
    example questions (those give the chat's "Try" list, ``qa.pipeline.examples``)."""
    return kind_of(path) is not None and not holds_questions(path)


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
            missing.append(IngestFailure(str(raw), _missing_reason(path)))
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
                    if not may_hold_articles(child):
                        skipped.append(str(child))
                        continue
                    resolved = _resolved(child)
                    if resolved is None:  # one bad link fails itself, never the whole ingest
                        missing.append(IngestFailure(str(child), _missing_reason(child)))
                    elif resolved not in seen:
                        seen.add(resolved)
                        files.append(child)
        elif (resolved := _resolved(path)) is None:
            missing.append(IngestFailure(str(raw), _missing_reason(path)))
        elif resolved not in seen:
            seen.add(resolved)
            files.append(path)
    return Discovery(files, missing, skipped)


def _resolved(path: Path) -> Path | None:
    """The real path of ``path``; None for a symbolic link that loops or points nowhere."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop, before Python 3.13
        return None
    return resolved


def _missing_reason(path: Path) -> str:
    if path.is_symlink():
        return "is a symbolic link that loops or points to nothing; fix or remove the link"
    return "no such file or folder"


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


def _parse(
    known: formats.Format, path: Path, data: bytes
) -> tuple[list[Record], list[RecordError]]:
    stem = path.name.split(".")[0] or path.name
    if not data.strip():
        raise FormatError("is empty")
    return known.read(data, stem)


def article_id(source: str, key: str) -> str:
    """A stable id for an article without one: the same file (and record key) gives the same id."""
    return hashlib.sha1(f"{source}#{key}".encode()).hexdigest()[:16]


def read_file(path: Path, max_file_bytes: int = DEFAULT_MAX_FILE_MB * 2**20) -> FileResult:
    """Read one file into articles; never raises for bad content (failures are returned)."""
    resolved = _resolved(path)
    source = str(resolved) if resolved is not None else str(path)
    result = FileResult(path=source)
    known = kind_of(path)
    if known is None:
        supported = ", ".join(formats.suffixes())
        reason = f"unsupported file type; supported: {supported} (optionally gzipped)"
        result.failures.append(IngestFailure(str(path), reason))
        return result
    try:
        records, record_errors = _parse(known, path, _read_bytes(path, max_file_bytes))
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
    many = len(records) > 1 or known.records
    keys_seen: dict[str, int] = {}
    for position, record in enumerate(records, start=1):
        text = normalise(record.text)
        if not text.strip() or _only_headings(text):
            where = f"{path} (record {position})" if many else str(path)
            reason = "has no text" if not text.strip() else "has headings but no text under them"
            result.failures.append(IngestFailure(where, reason))
            continue
        key = record.key or (record.title if many else "")
        keys_seen[key] = keys_seen.get(key, 0) + 1
        if keys_seen[key] > 1:
            key = f"{key}#{keys_seen[key]}"
        result.articles.append(
            Article(
                id=record.id or article_id(source, key),
                title=record.title.strip() or title_from_name(path.stem),
                text=text,
                source=source,
                url=record.meta.get("url"),
                date=record.meta.get("date"),
                author=record.meta.get("author"),
            )
        )
    return result


# How a Markdown heading line starts. Matched at the start only: the whole-line heading pattern
# backtracks quadratically on a giant line ("# " and 2,000,000 spaces, tests/test_fuzz.py).
_HEADING_START = re.compile(r"[ \t]*#{1,6}(?:[ \t]|$)")


def _only_headings(text: str) -> bool:
    """Markdown headings and nothing else ("# Title only"): no passage to quote."""
    return all(_HEADING_START.match(line) for line in text.splitlines() if line.strip())
