"""Which lines of an article are headings: shared by the chunker (a heading is a chunk's context,
never its text) and the sentence splitter (a heading is never part of a quoted sentence).

A heading is a Markdown ``#`` line, or a short line without final punctuation that starts with a
capital or a digit (``heading_text``). Such a line is taken for a heading where it stands:

- alone, as a paragraph of its own (a Markdown heading: anywhere);
- opening a paragraph whose next line starts with a capital ("Blame game\\nIn a speech...");
- inside a paragraph, after a line that ends a sentence and before a line of prose that starts
  with a capital ("...for years.\\nOutlook\\nThe operator plans a second line in 2026."); a
  line before another short line is an item of a list, not a heading.

In the last two cases a line that ends with a word no title ends with ("the", "of", "and"...)
is prose wrapped short, not a heading.

The last line of a paragraph is never taken for one (it may close the paragraph's sentence).
"""

from __future__ import annotations

import re

HEADING_MAX_CHARS = 80
HEADING_MAX_WORDS = 10
MARKDOWN_HEADING = re.compile(r"[ \t]*#{1,6}[ \t]+(?P<text>.*?)[ \t#]*")
_FINAL_PUNCTUATION = ".!?,;:…\"'”’)]"
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*$")
# Words a wrapped line of prose may end on, and a title does not.
_OPEN_ENDINGS = frozenset(
    "a an the of and or but nor to in on at by for from with as that which who is was are were "
    "be has have had his her its their our your my".split()
)


def heading_text(line: str) -> str | None:
    """The heading's text when ``line`` (one line, no newline) is a heading, else None."""
    markdown = MARKDOWN_HEADING.fullmatch(line)
    if markdown:
        return markdown.group("text").strip()
    stripped = line.strip()
    if (
        not stripped
        or len(stripped) > HEADING_MAX_CHARS
        or len(stripped.split()) > HEADING_MAX_WORDS
        or stripped[-1] in _FINAL_PUNCTUATION
        or not (stripped[0].isupper() or stripped[0].isdigit())
    ):
        return None
    return stripped


def _starts_sentence(line: str) -> bool:
    return line.lstrip()[:1].isupper()


def heading_lines(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """The headings among the lines of the paragraph ``text[start:end]`` (one without blank
    lines): (start, end, heading text) of each line that is one, by the rules above."""
    lines: list[tuple[int, int]] = []
    position = start
    for line in text[start:end].split("\n"):
        if line.strip():
            lines.append((position, position + len(line)))
        position += len(line) + 1
    found = []
    for number, (a, b) in enumerate(lines):
        line = text[a:b]
        heading = heading_text(line)
        if heading is None:
            continue
        before = text[slice(*lines[number - 1])].rstrip() if number else None
        after = text[slice(*lines[number + 1])] if number + 1 < len(lines) else None
        if MARKDOWN_HEADING.fullmatch(line) or (before is None and after is None):
            pass  # a Markdown heading anywhere; a line that is a paragraph of its own
        elif after is None or not _starts_sentence(after):
            continue  # the last line of a paragraph, or a line the next one continues
        elif line.split()[-1].lower() in _OPEN_ENDINGS:
            continue  # prose wrapped short: "... reopened the\nHarbour on Monday"
        elif before is not None and (
            not _ENDS_SENTENCE.search(before) or heading_text(after) is not None
        ):
            continue  # inside a sentence, or a list of short lines ("Warsaw\nKrakow\n...")
        left = len(line) - len(line.lstrip())
        found.append((a + left, a + len(line.rstrip()), heading))
    return found
