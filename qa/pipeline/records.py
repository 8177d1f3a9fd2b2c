"""What every reader gives (``Record``s), and how it says a file or a record is bad.

Readers (``qa.pipeline.formats`` for the text formats, ``qa.pipeline.readers`` for PDF, Word and
the web) import these and nothing of the formats table, which imports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class FormatError(Exception):
    """A whole file could not be parsed."""


@dataclass
class Record:
    """An article before it gets an id: ``key`` tells records of one file apart."""

    title: str
    text: str
    key: str = ""
    id: str | None = None
    meta: dict[str, str] = field(default_factory=dict)


@dataclass
class RecordError:
    """One bad record inside an otherwise readable file (e.g. a malformed JSON line)."""

    where: str
    reason: str


def title_from_name(stem: str) -> str:
    return re.sub(r"[_\s]+", " ", stem).strip() or stem
