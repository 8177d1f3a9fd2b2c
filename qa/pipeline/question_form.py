"""A question typed without its question mark is read as a question.

The embedder and the reader are uncased, but both learnt from questions that end with "?".
Without it the reader reads another sentence as the answer: on the demo corpus "where does the
rhine begin" quoted the Rhine-Meuse delta's "begins near Millingen" where "where does the rhine
begin?" quotes "The Alpine Rhine begins ..." (the right sentence's logit 0.44 against 0.92).
So a question that opens with a question word or an auxiliary verb and has no "?" is searched
and read with one; the answer keeps the question as typed. What it gives on the data's
questions with their "?" taken off: benchmarks/README.md, "Questions typed without a question
mark".
"""

from __future__ import annotations

from qa.lexical import words

QUESTION_OPENERS = frozenset(
    """
    who whom whose what which when where why how
    is are was were am do does did can could will would shall should may might must has have had
    """.split()
)


def as_question(text: str) -> str:
    """``text`` with "?" added when it opens like a question and ends without one."""
    said = words(text)
    stripped = text.rstrip()
    if not said or said[0] not in QUESTION_OPENERS or stripped.endswith("?"):
        return text
    return stripped.rstrip(".!") + "?"
