"""Questions that ask what or who an article is about: "Who was Genghis Khan?", "tesla".

Asked "tesla" of the demo corpus, the reader quoted the pigeon Tesla nursed: the question names
its subject and nothing else, so every sentence naming the subject reads alike, and the
shortest passages win the search (the article's first passage was not among the five best).
"What is the Rhine?", "What is Super Bowl 50?" and "Tell me about the steam engine" quoted
details the same way. (The demo's Genghis Khan article, SQuAD's paragraphs without Wikipedia's
lead, opens on a sentence that does not name him: "Who was Genghis Khan?" is read as before.)
An article's first sentence says what its subject is (an encyclopedia's always, a report's
usually): when the question only asks what its subject is and the subject is an article's
title, that sentence is the answer.

The rule is narrow on purpose: the question must be nothing but the subject in one of the forms
below (or the subject alone), the subject must name one article's title (all its words among
the title's, at most one title word left over: "Tesla" names "Nikola Tesla", "Super Bowl"
names "Super Bowl 50", a headline is never named by two of its words), and the first sentence
must name the subject. Anything else is read as before. The data has few such questions: on
the held-out halves it changed the 4 SQuAD answers whose question names its article ("What is
a ctenophora?"), none gaining or losing a gold answer, and nothing on the even halves (`python
benchmarks/definitions.py --half even|odd`, 2026-12-07).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields, replace

import numpy as np

from qa.lexical import words
from qa.pipeline.answer import Candidate, compose, quotable
from qa.pipeline.sentences import split_sentences
from qa.stores.base import SearchIndex
from qa.types import Answer, Passage, PassageRow

# The forms of "what is X": the subject is what follows, up to a closing "?" or ".".
_ASKS = re.compile(
    r"^\s*(?:"
    r"(?:who|what)\s*(?:['’]s|\s(?:is|was|are|were))"
    r"|tell\s+me\s+(?:more\s+)?about"
    r"|what\s+do\s+you\s+know\s+about"
    r"|describe"
    r")\s+(?P<subject>.+?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
# Dropped from subject and title alike: "What is the Rhine?" asks about "Rhine".
_ARTICLES = frozenset({"the", "a", "an"})
MAX_SUBJECT_WORDS = 6  # a title longer than this is a headline, which nobody asks "what is" of
SURE = 1.0  # the confidence and citation score of a quoted lead: a rule chose it, not a model
# "Tesla" names "Nikola Tesla"; "Warsaw" does not name "Warsaw Uprising of 1944".
MAX_TITLE_WORDS_LEFT = 1


def subject(question: str) -> list[str] | None:
    """The words of what ``question`` asks to be told about, articles dropped, or None when it
    asks something else. A question that is a name alone ("tesla", "Genghis Khan") is its own
    subject."""
    match = _ASKS.match(question)
    text = match.group("subject") if match else question.strip().rstrip("?.!")
    said = [w for w in words(text) if w not in _ARTICLES]
    if not said or len(said) > MAX_SUBJECT_WORDS:
        return None
    if not match and (question.rstrip().endswith("?") or len(said) > 3):
        return None  # "Is it?" or a sentence typed without "what is": not a name alone
    return said


def names_title(subject_words: Sequence[str], title: str) -> bool:
    """Whether the subject is this title: all its words are the title's, and at most
    ``MAX_TITLE_WORDS_LEFT`` title words are left over."""
    title_words = [w for w in words(title) if w not in _ARTICLES]
    if not title_words or len(title_words) > MAX_SUBJECT_WORDS:
        return False
    left = [t for t in title_words if not any(_same_word(w, t) for w in subject_words)]
    covered = all(any(_same_word(w, t) for t in title_words) for w in subject_words)
    return covered and len(left) <= MAX_TITLE_WORDS_LEFT


def defined_article(question: str, titles: Mapping[str, str]) -> str | None:
    """The id of the one article (of ``titles``, id -> title: the articles the search found,
    so the filters hold) whose subject ``question`` asks about; None when it asks something
    else, names no title, or could name several and names none exactly."""
    said = subject(question)
    if said is None:
        return None
    named = [key for key, title in titles.items() if names_title(said, title)]
    if len(named) > 1:
        named = [key for key in named if set(said) == set(words(titles[key])) - _ARTICLES]
    return named[0] if len(named) == 1 else None


def lead_answer(question: str, lead: Passage, passages: Sequence[Passage]) -> Answer | None:
    """The answer quoting the first sentence of ``lead`` (its article's first passage), with
    ``lead`` first among the passages; None when that sentence does not name the subject, every
    word of it (a report that opens on a scene, not on what it is about)."""
    said = subject(question) or []
    for a, b in split_sentences(lead.text):
        text = lead.text[a:b]
        if not quotable(text):
            continue
        present = words(text)
        if not all(any(_same_word(w, v) for v in present) for w in said):
            return None
        start = lead.start + a
        # The rule chose the sentence, not a score: it is quoted as sure.
        chosen = Candidate(lead, start, start + len(text), text, lead.dense_score, 1.0, SURE)
        others = [p for p in passages if p.chunk_id != lead.chunk_id]
        ranked = [replace(p, rank=n) for n, p in enumerate([lead, *others], start=1)]
        return compose(question, [replace(chosen, passage=ranked[0])], ranked, SURE)
    return None


def lead_passage(
    question: str,
    found: Sequence[Passage],
    chunk_ids: Callable[[str], list[int]],
    index: SearchIndex,
    vector: np.ndarray,
) -> Passage | None:
    """The first passage of the article ``question`` asks about (among the articles of the
    passages ``found``), or None. ``chunk_ids`` lists an article's chunks in order
    (``Catalog.chunk_ids``). A first passage the search did not find is given the best
    passage's fused score (it is put first) and its own cosine with the question."""
    if not found:
        return None
    article = defined_article(question, {p.article_id: p.title for p in found})
    if article is None:
        return None
    first = chunk_ids(article)[:1]
    for passage in found:
        if passage.chunk_id in first:
            return passage
    row = index.passage_rows(first).get(first[0]) if first else None
    if row is None:
        return None
    cosine = index.cosines(vector, [row.chunk_id]).get(row.chunk_id, 0.0)
    return Passage(
        **{f.name: getattr(row, f.name) for f in fields(PassageRow)},
        score=found[0].score,
        rank=1,
        dense_score=cosine,
        keyword_score=0.0,
    )


def _same_word(asked: str, said: str) -> bool:
    """The same word, or one the plural of the other ("Steam engines are ..." names "steam
    engine")."""
    short, long = sorted((asked, said), key=len)
    return long in (short, short + "s", short + "es")
