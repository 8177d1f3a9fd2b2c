"""Follow-up questions without a language model: borrow context from the previous turn.

"How many people did it kill?" after "When did the Black Death reach Europe?" names nothing to
search for; the previous turn does. A question that leans on earlier turns (a pronoun such as
"it" or "they" and few content words, or almost no content words at all) is searched together
with the previous question and answer. A question that stands on its own is searched as is.
"""

from __future__ import annotations

import re

from qa.pipeline.lexical import content_words, words
from qa.types import Turn

DEPENDENT_WORDS = frozenset(
    "it its they them their theirs he him his she her hers this that these those there".split()
)
# A question with a pronoun but more content words than this stands on its own
# ("Which team that played in 2016 won Super Bowl 50?").
MAX_DEPENDENT_CONTENT_WORDS = 3
_MARKER = re.compile(r"\s*\[\d+\]")
CONTEXT_CHARS = 400


def needs_context(question: str) -> bool:
    """True when the question probably refers to something said earlier."""
    own = len(content_words(question))
    if own < 2:
        return True
    return own <= MAX_DEPENDENT_CONTENT_WORDS and any(t in DEPENDENT_WORDS for t in words(question))


def contextual_query(question: str, history: list[Turn] | None) -> str:
    """The text to search for: the question, plus the last turn when the question needs it."""
    if not history or not needs_context(question):
        return question
    last = history[-1]
    answer = _MARKER.sub("", last.answer)[:CONTEXT_CHARS]
    return f"{question} {last.question} {answer}".strip()
