"""Names the articles spell otherwise: "When did Ghengis Khan die?" -> did you mean "Genghis"?

A question naming something no article mentions is seldom answered by them (the reader then
abstains more readily and says "None of them mentions Ghengis."). Often the name is only
misspelled: SQuAD's own questions write "Celeron" for Céloron, "Warinka" for Wawrinka and
"Frensh". When such a question abstains, the passages it found are searched for a name written
almost alike, and the abstention ends with the question respelled: Did you mean "When did
Genghis Khan die?"? Nothing is answered in its place: the user sees the suggestion and asks.

A suggestion must look like a typo of a name the articles write: the asked name has at least
``MIN_NAME_CHARS`` letters and is no word the shipped tokenizer knows whole ("Gorge" in "Rhine
Gorge" is a word, not "George" misspelled); the written one starts with the same letter (accents
aside: "Celeron" is "Céloron"), is at most one edit away (a swap of two letters is one edit), or
two for names longer than ``ONE_EDIT_UP_TO`` letters when the letters are the same, only out of
place ("Ghengis"), and is written capitalised past a sentence's start somewhere in the passages
(a name, not "Let" opening a sentence). The figures, and how the last three conditions came
after the held-out check: benchmarks/README.md, "Misspelled names".

A name misspelled badly enough is not found at all: "Who was Tesle?" finds no passage of the
Tesla article (neither the keyword search nor the embedding knows "Tesle"), so the passages
cannot offer "Tesla". The titles of the indexed articles are then read too, each of their
capitalised words a name the articles write (``title_names``), by the same conditions.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from embeddings.reader import TOKENIZER_FILE, TRAINED_DIR

MIN_NAME_CHARS = 4  # "Leo" is one edit from "Let"; shorter names are left alone
ONE_EDIT_UP_TO = 6  # "Johann" is two edits from "John": a name this long may differ by one
# A capitalised word not at a sentence's start: past a word character, a comma, a bracket...
_NAME_INSIDE = re.compile(r"(?<=[\w,;:()\"'“”‘’] )([A-ZÀ-ÖØ-Þ][\w'’-]+)")


def fold(word: str) -> str:
    """Lower case without accents: "Céloron" -> "celoron"."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def edits(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from ``a`` to ``b``."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(
                rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def written_names(texts: Iterable[str]) -> Counter[str]:
    """Capitalised words written past a sentence's start, with how often."""
    return Counter(match.group(1) for text in texts for match in _NAME_INSIDE.finditer(text))


@functools.cache
def known_words() -> frozenset[str]:
    """The whole words of the shipped tokenizer's vocabulary (30,522 entries, lower case): a
    word it knows ("gorge", "tokyo") is a real word or a common name, not a misspelling."""
    vocabulary = json.loads((TRAINED_DIR / TOKENIZER_FILE).read_text(encoding="utf-8"))
    return frozenset(w for w in vocabulary["model"]["vocab"] if w.isalpha())


def closest(name: str, written: Counter[str]) -> str | None:
    """The written name ``name`` most likely misspells (fewest edits, then most written), or
    None."""
    asked = fold(name)
    if len(asked) < MIN_NAME_CHARS or asked in known_words():
        return None
    allowed = 1 if len(asked) <= ONE_EDIT_UP_TO else 2
    best: tuple[int, int, str] | None = None
    for word, count in written.items():
        seen = fold(word)
        if seen == asked or seen[0] != asked[0] or abs(len(seen) - len(asked)) > allowed:
            continue
        apart = edits(asked, seen)
        if apart == 2 and sorted(seen) != sorted(asked):
            continue  # two edits only when a letter is out of place ("Ghengis"), none changed
        if apart <= allowed and (best is None or (apart, -count) < best[:2]):
            best = (apart, -count, word)
    return best[2] if best else None


# The capitalised words of a title ("Super_Bowl_50" is a file's name for "Super Bowl 50").
_TITLE_NAME = re.compile(r"[A-ZÀ-ÖØ-Þ][^\W_]*(?:['’-][^\W_]+)*")

# The titles of the articles searched, asked only when the passages spell no name alike.
Titles = Callable[[], Iterable[str]]


def title_names(titles: Iterable[str]) -> Counter[str]:
    """The capitalised words of article titles, with how often: "Nikola Tesla" names "Nikola"
    and "Tesla"; an address or a lower-case title ("making the case for don mattingly") none."""
    return Counter(
        match.group(0)
        for title in titles
        if "/" not in title
        for match in _TITLE_NAME.finditer(title.replace("_", " "))
    )


def spellings(
    unmentioned: Sequence[str], texts: Iterable[str], titles: Titles | None = None
) -> dict[str, str]:
    """Each of the ``unmentioned`` names that ``texts`` write almost alike, with that spelling;
    else with the spelling of a word of one of the ``titles`` (read only then)."""
    written = written_names(texts)
    titled: Counter[str] | None = None
    found: dict[str, str] = {}
    for name in unmentioned:
        spelled = closest(name, written)
        if spelled is None and titles is not None:
            if titled is None:
                titled = title_names(titles())
            spelled = closest(name, titled)
        if spelled is not None:
            found[name] = spelled
    return found


def respelled(
    question: str,
    unmentioned: Sequence[str],
    texts: Iterable[str],
    titles: Titles | None = None,
) -> str | None:
    """``question`` with each of its ``unmentioned`` names respelled as ``spellings`` finds
    them; None when no name is."""
    fixed = question
    for name, spelled in spellings(unmentioned, texts, titles).items():
        fixed = re.sub(rf"\b{re.escape(name)}\b", spelled, fixed)
    return fixed if fixed != question else None
