"""Names that carry a number: World War II, Super Bowl 50, Apollo 11, Louis XIV.

Asked "When did World War II end?", the reader quoted "At the end of World War I, the Rhineland
was subject to the Treaty of Versailles.": the sentence reads like an answer, and the model
does not weigh one "I" against two. A sentence that names the question's name with another
number, and never with the question's own, is about another thing of that name; it is not
offered to the reader (``qa.pipeline.reader.read``). On the even halves it changed 36 of the
305 SQuAD questions that name such a name (13 answers gained a gold answer, 3 lost one), on
the odd halves 3 of 26 (2 gained, none lost), and no NYT or Amazon answer (`python
benchmarks/numbered_names.py --half even|odd`, 2026-12-07).
"""

from __future__ import annotations

import re

_ROMAN = r"(?:[IVXLC]+)"
_NUMBER = r"(?:\d{1,3})"
_ONE = rf"(?:{_ROMAN}|{_NUMBER})\b(?![.,]?\d)"
# One to three capitalised words, then a number or a Roman numeral as a word of its own, or a
# list of them ("Super Bowls XXI and XXIV").
_NAMED = re.compile(
    rf"\b((?:[A-Z][A-Za-z'-]*\s+){{0,2}}[A-Z][A-Za-z'-]*)\s+"
    rf"({_ONE}(?:\s*(?:,|and|or|&|to|through|-|–)\s*{_ONE})*)"
)
_EACH = re.compile(_ONE)
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
# Words that make no name with the number after them: dates, question words, articles.
_NOT_A_NAME = frozenset(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    the a an in on at of by for to from and or what which who when where how why whose
    is are was were did does do page pages chapter chapters""".split()
)


def value(numeral: str) -> int:
    """The number a numeral writes: "XLVII" -> 47, "50" -> 50 (so "World War 2" is "II")."""
    if numeral.isdigit():
        return int(numeral)
    total = 0
    for letter, after in zip(numeral, [*numeral[1:], ""], strict=True):
        worth = _ROMAN_VALUES[letter]
        total += -worth if after and _ROMAN_VALUES[after] > worth else worth
    return total


def numbered(text: str) -> dict[str, set[int]]:
    """Each name of ``text`` that carries a number -> the numbers it carries ("super bowl"
    -> {50, 47}); a plural name counts as the singular ("Super Bowls I and II": {1, 2})."""
    found: dict[str, set[int]] = {}
    for match in _NAMED.finditer(text):
        words = [w.lower() for w in match.group(1).split()]
        while words and words[0] in _NOT_A_NAME:
            words.pop(0)
        if not words or words[-1] in _NOT_A_NAME:
            continue
        if len(words[-1]) > 3 and words[-1].endswith("s"):
            words[-1] = words[-1][:-1]
        numbers = {value(n) for n in _EACH.findall(match.group(2))}
        found.setdefault(" ".join(words), set()).update(numbers)
    return found


def other_numbered(question: str, sentence: str) -> bool:
    """True when ``sentence`` names a numbered name of ``question`` only with other numbers:
    "World War I" for a question about "World War II"."""
    return names_another(numbered(question), sentence)


def names_another(asked: dict[str, set[int]], sentence: str) -> bool:
    """``other_numbered`` with the question's names already read (``numbered``)."""
    if not asked:
        return False
    said = numbered(sentence)
    for name, numbers in asked.items():
        others = [key for key in said if key == name or key.endswith(" " + name)]
        if others and not any(numbers & said[key] for key in others):
            return True
    return False
