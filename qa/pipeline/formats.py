"""The formats article-qa reads: one table (``FORMATS``), and the parsers of the text formats.

Each ``Format`` names its suffixes, the reader that turns a file's bytes into ``Record``s, and
how help texts name it; discovery, ``qa ingest --help``, the web UI and the README's list all
follow the table (tests/test_formats.py holds them to it). A reader raises ``FormatError`` with a
reason written for users. Turning records into ``Article``s (ids, sources, hashes) is
``qa.pipeline.corpus``'s job.

Another package adds a format through the ``article_qa.formats`` entry point group: each entry
names a ``Format`` (docs/architecture.md has an example; tests/plugins/ has one).
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from qa.pipeline.records import FormatError, Record, RecordError, title_from_name
from qa.plugins import registered

# Keys a JSON record may carry besides ``title`` and ``text``.
RECORD_FIELDS = ("url", "date", "author")
FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
# A greedy line, trimmed afterwards: a lazy group before ``[ \t#]*$`` backtracks quadratically on
# a heading with a long run of spaces (found by fuzzing: 40,000 spaces took 5 s).
HEADING = re.compile(r"^#[ \t]+(.+)$", re.MULTILINE)
NESTED_TOO_DEEP = "is nested too deeply to read (JSON deeper than about 1,000 levels)"


def parse_text(text: str, stem: str) -> list[Record]:
    """``.txt``: the first line is the title when it is short and followed by a blank line."""
    first, sep, rest = text.partition("\n")
    if sep and first.strip() and len(first) <= 200 and rest.startswith("\n") and rest.strip():
        body_start = len(first) + 1
        while body_start < len(text) and text[body_start] == "\n":
            body_start += 1
        return [Record(title=first.strip(), text=text[body_start:])]
    return [Record(title=title_from_name(stem), text=text)]


def _front_matter(block: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or key.startswith((" ", "\t", "#")):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip().lower()] = value
    return values


def parse_markdown(text: str, stem: str) -> list[Record]:
    """``.md``: optional front matter (title, author, date, url); else the first ``# heading``."""
    meta: dict[str, str] = {}
    body = text
    match = FRONT_MATTER.match(text)
    if match:
        meta = _front_matter(match.group(1))
        body = text[match.end() :].lstrip("\n")
    title = meta.pop("title", "")
    if not title:
        heading = HEADING.search(body)
        title = heading.group(1).rstrip(" \t#").strip() if heading else ""
        title = title or title_from_name(stem)
    kept = {key: meta[key] for key in RECORD_FIELDS if meta.get(key)}
    return [Record(title=title, text=body, meta=kept)]


def parse_html(content: bytes, stem: str) -> list[Record]:
    """``.html``: main text and metadata extracted by trafilatura (boilerplate dropped)."""
    import trafilatura

    try:
        document = trafilatura.bare_extraction(
            content, with_metadata=True, include_comments=False, include_tables=True
        )
    except Exception as error:  # trafilatura raises many kinds on broken markup
        raise FormatError(f"could not parse the HTML ({error})") from error
    text = getattr(document, "text", None) or ""
    if not text.strip():
        raise FormatError("no article text found in the HTML (only markup, menus or scripts)")
    # trafilatura puts one paragraph per line; blank lines mark paragraphs for the chunker.
    text = re.sub(r"\n+", "\n\n", text.strip())
    meta = {
        key: str(getattr(document, key)) for key in RECORD_FIELDS if getattr(document, key, None)
    }
    title = str(getattr(document, "title", None) or "") or title_from_name(stem)
    return [Record(title=title, text=text, meta=meta)]


NO_TEXT = "has no 'text' string"


def _no_text_anywhere(records: list[Record], errors: list[RecordError]) -> bool:
    """True for a JSON file that is not an article file at all (e.g. a list of questions):
    one line for the file says more than one line per record."""
    return not records and bool(errors) and all(error.reason == NO_TEXT for error in errors)


def _record(data: Any, where: str, position: int) -> Record:
    if not isinstance(data, dict):
        raise ValueError(f"expected an object with 'title' and 'text', got {type(data).__name__}")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError(NO_TEXT)
    title = data.get("title")
    raw_id = data.get("id")
    if title is not None and not isinstance(title, str):
        raise ValueError("'title' must be a string")
    meta = {key: str(data[key]) for key in RECORD_FIELDS if data.get(key) not in (None, "")}
    return Record(
        title=(title or "").strip() or f"{where} #{position}",
        text=text,
        id=None if raw_id in (None, "") else str(raw_id),
        meta=meta,
    )


def parse_jsonl(text: str, stem: str) -> tuple[list[Record], list[RecordError]]:
    """``.jsonl``: one record per line; a bad line is reported and the others are kept."""
    records: list[Record] = []
    errors: list[RecordError] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(_record(json.loads(line), f"{stem} line {number}", number))
        except RecursionError:
            errors.append(RecordError(f"line {number}", NESTED_TOO_DEEP))
        except ValueError as error:  # json.JSONDecodeError is a ValueError
            reason = (
                f"invalid JSON ({error.msg})"
                if isinstance(error, json.JSONDecodeError)
                else str(error)
            )
            errors.append(RecordError(f"line {number}", reason))
    if _no_text_anywhere(records, errors):
        raise FormatError("no record has a 'text' field")
    return records, errors


def is_squad(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("data"), list)
        and all(isinstance(a, dict) and "paragraphs" in a for a in data["data"])
    )


def squad_article_text(paragraphs: list[dict[str, Any]]) -> str:
    """A SQuAD article's text: its paragraphs joined by blank lines (the eval maps offsets so)."""
    return "\n\n".join(str(p["context"]) for p in paragraphs)


def _squad_records(articles: list[dict[str, Any]]) -> tuple[list[Record], list[RecordError]]:
    records: list[Record] = []
    errors: list[RecordError] = []
    for i, article in enumerate(articles, start=1):
        paragraphs = article["paragraphs"]
        if not isinstance(paragraphs, list) or not all(
            isinstance(p, dict) and isinstance(p.get("context"), str) for p in paragraphs
        ):
            errors.append(
                RecordError(
                    f"article {i}", "'paragraphs' must be a list of objects with a 'context' string"
                )
            )
            continue
        records.append(
            Record(
                title=title_from_name(unquote(str(article.get("title", "")))) or f"article {i}",
                text=squad_article_text(paragraphs),
                key=str(article.get("title", i)),
            )
        )
    return records, errors


def parse_json(text: str, stem: str) -> tuple[list[Record], list[RecordError]]:
    """``.json``: a record, a list of records, ``{"articles": [...]}``, or SQuAD format."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FormatError(
            f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error
    except RecursionError as error:  # the C decoder gives up on deep nesting this way
        raise FormatError(NESTED_TOO_DEEP) from error
    if is_squad(data):
        squad_records, squad_errors = _squad_records(data["data"])
        if not squad_records and not squad_errors:
            raise FormatError("holds no articles")
        return squad_records, squad_errors
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    items = data if isinstance(data, list) else [data]
    records: list[Record] = []
    errors: list[RecordError] = []
    for position, item in enumerate(items, start=1):
        try:
            records.append(_record(item, f"{stem} #{position}", position))
        except ValueError as error:
            errors.append(RecordError(f"record {position}", str(error)))
    if _no_text_anywhere(records, errors):
        if all(isinstance(item, dict) and "question" in item for item in items):
            raise FormatError(
                "holds questions, not articles (no record has a 'text' field); as "
                "questions.json beside the articles it gives the chat's example questions"
            )
        raise FormatError("no record has a 'text' field")
    if not records and not errors:
        raise FormatError("holds no articles")
    return records, errors


# -- the table ------------------------------------------------------------------------------------

Parsed = tuple[list[Record], list[RecordError]]
Reader = Callable[[bytes, str], Parsed]
"""``read(content, stem)``: a file's records, and its bad records (the rest are kept); ``stem``
is the file name without suffixes, for a title when the file has none."""

ENTRY_POINT_GROUP = "article_qa.formats"
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Format:
    """A kind of article file: its suffixes, how to read it, and how help texts name it."""

    suffixes: tuple[str, ...]  # lower case, with the dot: (".md", ".markdown"); any may be .gz
    read: Reader
    label: str  # in `qa ingest --help` and the UI: ".json (records or SQuAD)"
    paged: bool = False  # the text marks page breaks with form feeds: citations get pages
    records: bool = False  # a file of records (JSON): each article is keyed by its title

    def __post_init__(self) -> None:
        bad = [s for s in self.suffixes if not s.startswith(".") or s != s.lower()]
        if not self.suffixes or bad:
            raise ValueError(
                f'A format\'s suffixes are lower case and start with a dot, e.g. (".md",). '
                f"Currently, suffixes is {self.suffixes!r}"
            )


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


def text_of(data: bytes) -> str:
    """A text file's content, decoded and normalised (``FormatError`` if it holds no text)."""
    text = normalise(decode(data))
    if not text.strip():
        raise FormatError("is empty")
    return text


def read_text(data: bytes, stem: str) -> Parsed:
    return parse_text(text_of(data), stem), []


def read_markdown(data: bytes, stem: str) -> Parsed:
    return parse_markdown(text_of(data), stem), []


def read_html(data: bytes, stem: str) -> Parsed:
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise FormatError("looks like a binary file, not HTML")
    return parse_html(data, stem), []


def read_json(data: bytes, stem: str) -> Parsed:
    return parse_json(text_of(data), stem)


def read_jsonl(data: bytes, stem: str) -> Parsed:
    return parse_jsonl(text_of(data), stem)


def read_pdf(data: bytes, stem: str) -> Parsed:
    from qa.pipeline.readers.pdf import parse_pdf  # loads PDFium only when a PDF is read

    return parse_pdf(data, stem), []


def read_docx(data: bytes, stem: str) -> Parsed:
    from qa.pipeline.readers.docx import parse_docx

    return parse_docx(data, stem), []


FORMATS: tuple[Format, ...] = (
    Format((".txt",), read_text, ".txt"),
    Format((".md", ".markdown"), read_markdown, ".md"),
    Format((".html", ".htm"), read_html, ".html"),
    Format((".json",), read_json, ".json (records or SQuAD)", records=True),
    Format((".jsonl",), read_jsonl, ".jsonl", records=True),
    Format((".pdf",), read_pdf, ".pdf", paged=True),
    Format((".docx",), read_docx, ".docx"),
)
"""The formats built in, in the order help texts list them."""


@functools.cache
def all_formats() -> tuple[Format, ...]:
    """``FORMATS``, then those other packages add under ``article_qa.formats`` (read once per
    process). A plugin's suffix that is already taken is left out with a warning."""
    found = list(FORMATS)
    taken = {suffix for known in FORMATS for suffix in known.suffixes}
    for name, added in registered(ENTRY_POINT_GROUP, Format):
        clash = sorted(taken.intersection(added.suffixes))
        if clash:
            warnings.warn(
                f"The format {name!r} of a plugin is left out: {', '.join(clash)} is read by "
                "another format already",
                stacklevel=2,
            )
            continue
        taken.update(added.suffixes)
        found.append(added)
    return tuple(found)


def format_of(name: str) -> Format | None:
    """The format of a file called ``name`` (``a.json.gz`` is JSON), or None if unsupported."""
    name = name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    best: tuple[int, Format | None] = (0, None)
    for known in all_formats():
        for suffix in known.suffixes:
            if name.endswith(suffix) and len(suffix) > best[0]:
                best = (len(suffix), known)
    return best[1]


def suffixes() -> tuple[str, ...]:
    """Every suffix read (without ``.gz``, which any of them may add)."""
    return tuple(suffix for known in all_formats() for suffix in known.suffixes)


def is_paged(source: str) -> bool:
    """Whether an article read from ``source`` has page breaks (a PDF)."""
    known = format_of(source)
    return known is not None and known.paged


def listed() -> str:
    """The formats as help texts list them: ".txt, .md, ..., .docx"."""
    return ", ".join(known.label for known in all_formats())
