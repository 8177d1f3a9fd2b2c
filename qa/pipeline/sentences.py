"""Split text into sentences, as (start, end) character offsets into the text.

Rule-based, no model: a sentence ends at ``.``, ``!`` or ``?`` (with closing quotes or brackets)
followed by whitespace and an upper-case letter, digit or opening quote, unless the word before
the period is a known abbreviation or an initial. Blank lines and Markdown block starts (list
items, quotes) always end a sentence. A heading line (qa/pipeline/headings.py: the chunker's
rule, e.g. "Outlook" between "...for years." and "The operator plans...") is a span of its own,
never the start of the next sentence; the answer stage skips such spans. Offsets are exact, so
``text[start:end]`` is the sentence with its surrounding whitespace trimmed.
"""

from __future__ import annotations

import re

from qa.pipeline.headings import heading_lines

# Words that end in a period without ending a sentence (lower case, without the final period).
ABBREVIATIONS = frozenset(
    (
        "mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e cf al approx dept est fig inc ltd co "
        "corp no nos vol pp ed eds gen col lt sgt capt cmdr gov pres rep sen rev hon jan feb mar "
        "apr jun jul aug sep sept oct nov dec u.s u.k u.n a.m p.m b.c a.d ca c"
    ).split()
)

_BLOCK_BREAK = re.compile(r"\n[ \t]*\n\s*|\n(?=[ \t]*(?:#{1,6}\s|[-*+]\s|>\s|\d+[.)]\s))")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_DOTTED = re.compile(r"^(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}$")
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9À-Ý])")


def _is_abbreviation(text: str, period: int) -> bool:
    """True when the ``.`` at ``period`` closes an abbreviation or an initial, not a sentence."""
    start = period
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "([\"'“":
        start -= 1
    word = text[start:period].lower()
    if not word:
        return False
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. R. R. Tolkien"
    if _DOTTED.match(word):
        return True  # "O.S.", "U.S.S.R.", "Ph.D."
    return word in ABBREVIATIONS


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _heading_edges(text: str) -> set[int]:
    """Where each heading line of ``text`` starts and ends."""
    edges: set[int] = set()
    start = 0
    for match in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        for a, b, _ in heading_lines(text, start, end):
            edges.update((a, b))
        start = match.end() if match else end
    return edges


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text``, in order, non-overlapping, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    block_start = 0
    breaks = sorted(
        {match.start() for match in _BLOCK_BREAK.finditer(text)}
        | _heading_edges(text)  # a heading is a span of its own
        | {len(text)}
    )
    for block_end in breaks:
        start = block_start
        for match in _END.finditer(text, block_start, block_end):
            if (
                text[match.start()] == "."
                and match.group().startswith(".")
                and (
                    len(match.group().rstrip("\"'”’)]")) == 1
                    and _is_abbreviation(text, match.start())
                )
            ):
                continue
            span = _trimmed(text, start, match.end())
            if span:
                spans.append(span)
            start = match.end()
        span = _trimmed(text, start, block_end)
        if span:
            spans.append(span)
        block_start = block_end
    return spans
