"""How a quoted sentence is shown: the exact words of the article, less the leftovers of web
pages that nobody wrote as prose.

The article text keeps everything (offsets, hashes and the Sources panel's highlight are
untouched); only the quote shown to people leaves these out:

- an audio link's label in brackets: ``( listen)``, ``(listen)``, ``(help·info)``;
- a pronunciation: a ``[...]`` or ``/.../`` of at most 60 characters that holds an IPA letter
  or mark (Unicode's IPA Extensions and Spacing Modifier Letters, U+0250 to U+02FF, such as
  ``ˈ``, ``ː`` or ``ə``), as in ``Warszawa [varˈʂava]`` or ``/vɑːrˈʃɑːvə/``, and no square
  bracket (a ``/.../`` never reaches into a ``[...]``);
- brackets those two leave empty, the spaces before what was left out, and those after it
  when it followed an opening bracket.

Then runs of white space become one space. ``quote_pieces`` gives the kept parts as offsets into
the sentence, so a shown quote maps back to the article exactly: each piece is
``sentence[a:b]``, and the quote is those pieces joined, with white space collapsed.

>>> clean_quote("Warsaw (Polish: Warszawa [varˈʂava] ( listen); see also other names) is...")
'Warsaw (Polish: Warszawa; see also other names) is...'
"""

from __future__ import annotations

import re

_AUDIO = re.compile(r"\(\s*(?:listen|help\s*[·•]\s*info)\s*\)", re.IGNORECASE)
_IPA = "\u0250-\u02ff"
_PRONUNCIATION = re.compile(
    rf"\[[^\[\]\n]{{0,58}}[{_IPA}][^\[\]\n]{{0,58}}\]"
    rf"|/[^/\[\]\s][^/\[\]\n]{{0,58}}[{_IPA}][^/\[\]\n]{{0,58}}/"
)
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")


def _left_out(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that are not shown (each with the white space before it)."""
    spans = [m.span() for m in _AUDIO.finditer(text)]
    spans += [m.span() for m in _PRONUNCIATION.finditer(text)]
    spans = _merged(spans)
    # Brackets left empty by the above: "( listen)" inside "(... ( listen))" leaves none,
    # but "([IPA] ( listen))" leaves "()".
    kept = _complement(spans, len(text))
    shown = "".join(text[a:b] for a, b in kept)
    where = [i for a, b in kept for i in range(a, b)]  # shown position -> text position
    for match in _EMPTY_BRACKETS.finditer(shown):
        spans.append((where[match.start()], where[match.end() - 1] + 1))
    spans = _merged(spans)
    widened = []
    for a, b in spans:
        while a > 0 and text[a - 1].isspace():
            a -= 1
        if a > 0 and text[a - 1] in "([":  # "(/ˈwɔːrsɔː/ WOR-saw" -> "(WOR-saw"
            while b < len(text) and text[b].isspace():
                b += 1
        widened.append((a, b))
    return _merged(widened)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _complement(spans: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    pieces, position = [], 0
    for a, b in spans:
        if a > position:
            pieces.append((position, a))
        position = max(position, b)
    if position < length:
        pieces.append((position, length))
    return pieces


def quote_pieces(text: str) -> list[tuple[int, int]]:
    """The parts of the sentence ``text`` that a quote shows, as ``(start, end)`` offsets into
    it, in order; everything between them is one of the leftovers above."""
    return _complement(_left_out(text), len(text))


def clean_quote(text: str) -> str:
    """The quote as shown: ``text`` without web leftovers, white space collapsed."""
    return " ".join("".join(text[a:b] for a, b in quote_pieces(text)).split())
