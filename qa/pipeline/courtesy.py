"""Messages that are no question: "Thanks!", "ok great", "hello", "bye".

In a chat people thank, greet and say goodbye. Searched as a question, such a message found
something and quoted it: "Thank you!" quoted "Thanks to numerous musical venues, including the
Teatr Wielki, ..." from the demo's Warsaw article, and "thanks" after a question about the
Rhine quoted another Rhine sentence (the follow-up rules read it with the question before it).
A message made only of the words below is answered with ``NOTHING_TO_LOOK_UP`` instead, with
nothing cited and nothing searched. The list is closed and short on purpose: a message with
one other word ("ok, who won?", "thanks, and when?") is a question as before, and so is one
that asks ("A lot?", a CoQA follow-up). Of the 38,711 questions in ../shared/data (SQuAD, NYT,
Amazon, CoQA, Disfl-QA) none reads as courtesy; without the question-mark rule one did
(`python benchmarks/courtesy.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.lexical import words
from qa.types import Answer, Turn

NOTHING_TO_LOOK_UP = "Nothing to look up in that: ask a question about your articles."

COURTESY_WORDS = frozenset(
    """
    thanks thank thx ty cheers you very much so lot a
    ok okay k kk great cool nice good perfect awesome excellent fine alright right sure
    yes yeah yep no nope got it i see understood
    hi hello hey morning afternoon evening night there
    bye goodbye later see quit exit
    """.split()
)
MAX_COURTESY_WORDS = 6  # longer messages say something more, even in these words
# A reply that says yes ("yes", "yes please", "sure", "y", "yes I did"): after an abstention
# that offered the question respelled ("Did you mean ...?"), it asks that question.
YES_WORDS = frozenset("yes yeah yep yup y sure ok okay correct right exactly indeed".split())
MAX_YES_WORDS = 4
_WITH_YES = YES_WORDS | frozenset("please i did do mean meant that one it".split())


def is_courtesy(message: str) -> bool:
    """True when ``message`` only thanks, greets, agrees or says goodbye."""
    said = words(message)
    if message.rstrip().endswith("?") or not 0 < len(said) <= MAX_COURTESY_WORDS:
        return False
    return all(word in COURTESY_WORDS for word in said)


def courtesy_reply(message: str) -> Answer:
    """The reply to a message that is no question: nothing found, nothing cited."""
    return Answer(
        message, NOTHING_TO_LOOK_UP, found=False, citations=[], passages=[], confidence=0.0
    )


def accepted(message: str, turns: Sequence[Turn]) -> str | None:
    """The question the last turn offered respelled, when ``message`` says yes to it; else
    None (a "yes" with nothing offered stays courtesy)."""
    if not turns or turns[-1].suggested is None:
        return None
    said = words(message)
    if message.rstrip().endswith("?") or not 0 < len(said) <= MAX_YES_WORDS:
        return None
    if said[0] in YES_WORDS and all(word in _WITH_YES for word in said):
        return turns[-1].suggested
    return None
