"""Messages that are no question ("Thank you!", "ok great") get no quote, in every way in."""

from __future__ import annotations

from typing import Any

import pytest

from qa import Assistant, Turn
from qa.pipeline.courtesy import NOTHING_TO_LOOK_UP, accepted, is_courtesy

WARSAW = (
    "# Warsaw\n\n"
    "Warsaw is the capital of Poland. Thanks to numerous musical venues, including the Teatr "
    "Wielki, Warsaw is one of the cultural capitals of Europe. The Vistula flows through it."
)


@pytest.mark.parametrize(
    "message",
    ["Thank you!", "thanks", "ok great", "Got it, thanks.", "hello", "Bye", "good morning"],
)
def test_thanks_greetings_and_agreement_are_no_question(message: str) -> None:
    assert is_courtesy(message)


@pytest.mark.parametrize(
    "message",
    [
        "ok, who won?",  # one other word makes it a question
        "Thanks, and when was it built?",
        "A lot?",  # a CoQA follow-up: asking, in courtesy words
        "Who thanked him?",
        "more",
        "Thank you for the music, who wrote it",
        "thanks " * 7,  # longer than any thank-you
    ],
)
def test_questions_in_courtesy_words_stay_questions(message: str) -> None:
    assert not is_courtesy(message)


def test_thank_you_quotes_nothing(assistant: Assistant, write: Any) -> None:
    write("warsaw.md", WARSAW)
    assert assistant.ingest([write.base]).ok
    reply = assistant.ask("Thank you!")
    assert (reply.found, reply.text, reply.citations, reply.passages) == (
        False,
        NOTHING_TO_LOOK_UP,
        [],
        [],
    )
    # The same in the stream that the web UI and the API read.
    (streamed,) = list(assistant.ask_stream("ok great"))
    assert streamed.text == NOTHING_TO_LOOK_UP and not streamed.citations


# A thank-you between a question and its follow-up: tests/test_integration.py (the real reader
# reads a follow-up with the question before it, which the hash embedder's path does not).


@pytest.mark.parametrize("message", ["yes", "Yes please", "y", "sure", "Yes, I did.", "ok"])
def test_yes_to_an_offered_spelling_asks_it(message: str) -> None:
    offered = [Turn("Who was Tesle?", suggested="Who was Tesla?")]
    assert accepted(message, offered) == "Who was Tesla?"


@pytest.mark.parametrize("message", ["no", "yes?", "yes, but when?", "thanks", "please yes"])
def test_anything_else_after_an_offer_is_no_yes(message: str) -> None:
    assert accepted(message, [Turn("Who was Tesle?", suggested="Who was Tesla?")]) is None


def test_yes_with_nothing_offered_stays_courtesy() -> None:
    assert accepted("yes", []) is None
    assert accepted("yes", [Turn("Who was Tesla?", "He was an inventor.")]) is None
    assert accepted("yes", [Turn("Who was Tesle?", suggested="Who was Tesla?"), Turn("Hi")]) is None
