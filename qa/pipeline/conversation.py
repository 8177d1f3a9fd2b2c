"""Follow-up questions without a language model: keep the conversation's subject.

A chat is a sequence of questions that lean on each other: "Who created him?" after "Who is
the most famous mouse?" names nothing to search for. The conversation's subject is the article
that its last questions, searched together with the new one, find best (``subject``); the
article the last answer quoted is searched with it (``subjects``). A new
question is searched on its own over the whole index and within the subject articles (with the
last turn's question and answer added when it leans on them: a pronoun and few content words,
or almost no content words at all). The subject wins unless the question stands on its own and
its own search is surer of another article (``SWITCH_MARGIN``): "What did she do
next?" stays on the story, "Who won Super Bowl 50?" in a chat about the Rhine goes to the Super
Bowl article. A question whose own best passage is already in the subject is answered exactly
as if asked alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import zip_longest

import numpy as np

from embeddings import Embedder
from qa.lexical import content_words, words
from qa.pipeline.retrieval import Retriever
from qa.types import Filters, Passage, Turn

# Words that lean on what was said before: pronouns, and "else", "another", "other" ("Anything
# else?", "Name another please."), which otherwise read as a question that stands alone and
# left their story for any article with the word "anything". With the last three, on CoQA
# (`python benchmarks/conversations.py`, 40 stories, 6 turns, reader on): right story cited with
# history, tune half .800 -> .821 (seven such follow-ups); held-out half .812 -> .812 (six),
# answer hit .417 -> .412 (one turn).
DEPENDENT_WORDS = frozenset(
    "it its they them their theirs he him his she her hers this that these those there"
    " else another other".split()
)
# A question with a pronoun but more content words than this stands on its own
# ("Which team that played in 2016 won Super Bowl 50?").
MAX_DEPENDENT_CONTENT_WORDS = 3
_MARKER = re.compile(r"\s*\[\d+\]")
CONTEXT_CHARS = 400
# The conversation's subject is the best match of its last this many questions (with the new
# one). On the tune half of CoQA (`nice -n 10 python benchmarks/conversations.py --half even
# --with-history-only`, 40 stories, 6 turns; margin 0.1, when the answer could still quote
# other articles' passages) right article with history: 5 .838, 10 .838.
TOPIC_QUESTIONS = 5
# A question that stands on its own leaves the subject when its own search's best passage
# (another article) beats the best passage of the subject by more than this in cosine. On the
# tune half (`nice -n 10 python benchmarks/conversations.py --half even --with-history-only`),
# right article with history / the next story's first question found right after a
# conversation (asked alone: .800): margin 0.2 .908/.600, 0.1 .887/.650, 0.0 .883/.725.
SWITCH_MARGIN = 0.0


@dataclass(frozen=True)
class Retrieved:
    """What a question of a conversation is answered from."""

    passages: list[Passage]
    query_vector: np.ndarray  # the question's own embedding (picks the answer sentence)
    follow_up: bool  # True: the subject chose the passages
    # Passages of other articles that the question alone found: shown after the answer's own
    # as possibly related, never quoted (the answer stays on the subject).
    related: list[Passage] = field(default_factory=list)
    # What the question found asked alone (the reader compares it with the subject's passages).
    alone: list[Passage] = field(default_factory=list)


def needs_context(question: str) -> bool:
    """True when the question probably refers to something said earlier."""
    own = len(content_words(question))
    if own < 2:
        return True
    return own <= MAX_DEPENDENT_CONTENT_WORDS and any(t in DEPENDENT_WORDS for t in words(question))


def contextual_query(question: str, history: Sequence[Turn] | None) -> str:
    """The text to search for: the question, plus the last turn when the question needs it."""
    if not history or not needs_context(question):
        return question
    last = history[-1]
    answer = _MARKER.sub("", last.answer)[:CONTEXT_CHARS]
    return f"{question} {last.question} {answer}".strip()


def subject(
    question: str, history: Sequence[Turn], retriever: Retriever, filters: Filters | None
) -> str | None:
    """The article the conversation is about: the best match of its questions together.

    The questions so far name the subject ("the mouse", "Walt Disney") more surely than any
    one of them, and unlike earlier answers they cannot carry a wrong article forward. Only
    those since the conversation last moved to another article count (``topic_turns``).
    """
    asked = " ".join([t.question for t in topic_turns(history)] + [question])
    best = retriever.search(asked, 1, filters)
    return best[0].article_id if best else None


def topic_turns(history: Sequence[Turn]) -> list[Turn]:
    """The last ``TOPIC_QUESTIONS`` turns, from the last one that moved the conversation to
    another article by a question that names a thing ("Who was Tesla?" after questions on
    Genghis Khan): the questions before it were about something else. A question naming
    nothing that was answered from another article ("Were any people harmed?") more likely
    drifted: the questions before it still count."""
    turns = list(history[-TOPIC_QUESTIONS:])
    for n in range(len(turns) - 1, 0, -1):
        turn, before = turns[n], turns[n - 1]
        moved = None not in (turn.article_id, before.article_id) and (
            turn.article_id != before.article_id
        )
        if moved and names_something(turn.question):
            return turns[n:]
    return turns


NAME = re.compile(r"(?<=\w\s)[A-Z][\w'-]*")


def names_something(question: str) -> bool:
    """True when the question names a thing (a capitalised word past its first): "Where is the
    Rhine?" does, "When did it start?" and "Were any people harmed?" do not."""
    return bool(NAME.search(question))


def subjects(
    question: str, history: Sequence[Turn], retriever: Retriever, filters: Filters | None
) -> tuple[str, ...]:
    """The articles a follow-up is searched in: the conversation's subject (``subject``) and
    the article the last answer quoted, when that is another one.

    After four questions about Super Bowl 50, "Where is the Rhine?" is answered from the Rhine
    article, but the subject of the last questions together is still Super Bowl 50: "Where does
    it end?" was answered from it. With the last answer's article searched too, the reader
    finds where the Rhine ends. On the CoQA calibration stories (`python
    benchmarks/conversations.py --half calibration --stories 35`), after each conversation the
    next story's second and third questions cite it .457 -> .571 and .486 -> .657 of the time;
    inside the conversations the right story is cited .743 -> .724 (a wrong answer's article
    is searched too; .729 once the follow-up head was refitted for it). Held out (`--half
    odd`): .500 -> .725, .700 -> .825, and .854 -> .850."""
    lead = subject(question, history, retriever, filters)
    if lead is None:
        return ()
    answered = [t.article_id for t in history if t.article_id is not None]
    if answered and answered[-1] != lead and _surely_kept(filters, answered[-1]):
        return (lead, answered[-1])
    return (lead,)


def within(filters: Filters | None, articles: tuple[str, ...]) -> Filters | None:
    """``filters`` narrowed to ``articles``, which searches under ``filters`` found (None when
    the user's ids exclude them all). The user's ids and titles are one condition, kept by an
    article matching either (``qa.scope``): the articles replace it, since joining them to it
    would widen the search to the user's other articles. Source and dates still apply."""
    if filters is None:
        return Filters(article_ids=articles)
    if filters.article_ids and not filters.titles:
        articles = tuple(a for a in articles if a in filters.article_ids)
    if not articles:
        return None
    return replace(filters, article_ids=articles, titles=())


def _surely_kept(filters: Filters | None, article_id: str) -> bool:
    """Whether the user's filters keep ``article_id`` by its id, or name no articles at all (a
    title cannot be checked here: such a filter keeps the article only if its search found it)."""
    if filters is None or not (filters.article_ids or filters.titles):
        return True
    return article_id in filters.article_ids


def retrieve(
    question: str,
    history: Sequence[Turn],
    retriever: Retriever,
    embedder: Embedder,
    count: int,
    filters: Filters | None = None,
    own_vector: np.ndarray | None = None,
) -> Retrieved:
    """The ``count`` passages to answer ``question`` from, given the conversation so far
    (``own_vector``: the question's embedding, when the caller has it)."""
    if own_vector is None:
        own_vector = embedder.embed([question])[0]
    alone = retriever.search(question, count, filters, own_vector)
    leaning = needs_context(question)
    leads = subjects(question, history, retriever, filters)
    if not leads or (not leaning and alone and alone[0].article_id in leads):
        return Retrieved(alone, own_vector, False)  # already on topic: as if asked alone
    narrowed = within(filters, leads)
    query = contextual_query(question, history) if leaning else question
    vector = own_vector if query == question else embedder.embed([query])[0]
    on_topic = retriever.search(query, count, narrowed, vector) if narrowed else []
    if on_topic and query != question:
        # The history's words pull toward what was asked before ("Where was he born?" after
        # the induction motor finds motor passages of Tesla's article); the question's own
        # words, searched inside the subject, find the birthplace. Taken in turn.
        own = retriever.search(question, count, narrowed, own_vector)
        on_topic = _in_turn(on_topic, own, count)
    if not on_topic:
        return Retrieved(alone, own_vector, False)
    # Both searches used the question alone here, so their cosines compare.
    if (
        not leaning
        and alone
        and alone[0].dense_score > max(p.dense_score for p in on_topic) + SWITCH_MARGIN
    ):
        return Retrieved(alone, own_vector, False)
    return Retrieved(on_topic, own_vector, True, _related(on_topic, alone), alone)


def _in_turn(first: list[Passage], second: list[Passage], count: int) -> list[Passage]:
    """Passages of both rankings taken in turn (``first``'s first), each once, ``count`` in all,
    renumbered; each keeps the fused score of the search that found it."""
    taken: dict[int, Passage] = {}
    for pair in zip_longest(first, second):
        for passage in pair:
            if passage is not None and passage.chunk_id not in taken and len(taken) < count:
                taken[passage.chunk_id] = passage
    return [replace(p, rank=n) for n, p in enumerate(taken.values(), start=1)]


def _related(on_topic: list[Passage], alone: list[Passage]) -> list[Passage]:
    """The question's own passages from other articles, ranked after the subject's. Their
    fused scores come from another search, so each is placed under the lowest subject score."""
    seen = {p.chunk_id for p in on_topic}
    others = [p for p in alone if p.chunk_id not in seen]
    floor = min(p.score for p in on_topic)
    return [
        replace(p, score=floor - 1.0 - 0.01 * n, rank=len(on_topic) + n)
        for n, p in enumerate(others, start=1)
    ]
