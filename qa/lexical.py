"""Words for keyword matching: tokenising, stopwords, a light stemmer, FTS5 query building.

Below the stores (both index ``terms``) and the pipeline (answers and follow-ups compare words).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    also many much one ones many may might must shall upon whose within without s t
    """.split()
)


def words(text: str) -> list[str]:
    """Lower-case word tokens of ``text``."""
    return [match.group().lower() for match in _WORD.finditer(text)]


def stem(word: str) -> str:
    """A deliberately light stemmer: enough for "claimed" to meet "claims", not more."""
    for suffix, keep in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + keep
    return word


def content_words(text: str) -> list[str]:
    """Words of ``text`` that carry meaning (no stopwords), in order, without repeats."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOPWORDS))


def fts_query(terms: list[str]) -> str | None:
    """An FTS5 MATCH expression that ORs the terms (quoted, so no term is read as syntax)."""
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms if term]  # FTS5: "" is "
    return " OR ".join(quoted) if quoted else None


def terms(text: str) -> list[str]:
    """The BM25 terms of ``text``: stemmed words, stop words left out (both stores use these)."""
    return [stem(word) for word in words(text) if word not in STOPWORDS]
