"""A question typed in lower case gets its names back (qa.pipeline.casing); the facade's part is
in tests/test_reader.py, the real reader's on the demo in tests/test_reader_model.py."""

from __future__ import annotations

import pytest

from qa.pipeline.casing import cased, typed_lower, usually_capitalised

RHINE = "The Rhine flows along the border with France. The river carries barges to the sea."
THEATRE = "Gunmen attacked the Bataclan theatre. The theatre reopened a year later."


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        # written capitalised past a sentence's start by a passage read
        ("what is the capital of france", "what is the capital of France"),
        ("where does the rhine begin?", "where does the Rhine begin?"),
        # written in lower case by the passages: a word ("Theatre" opens a sentence only)
        ("when did the theatre reopen?", "when did the theatre reopen?"),
        ("who attacked the bataclan theatre", "who attacked the Bataclan theatre"),
        # written by no passage: as English text usually writes it
        ("what is the population of tokyo?", "what is the population of Tokyo?"),
        ("how do i bake bread?", "how do i bake bread?"),
        # the first word is never a name here, nor a stop word anywhere ("us")
        ("france is where?", "france is where?"),
        ("what did the rhine give us", "what did the Rhine give us"),
    ],
)
def test_names_as_the_passages_write_them(typed: str, read: str) -> None:
    assert cased(typed, [RHINE, THEATRE]) == read


def test_a_question_writing_a_name_is_left_as_typed() -> None:
    """ "Tesla" says the user writes names capitalised: "france" is then a word they chose."""
    question = "Did Tesla ever live in france?"
    assert not typed_lower(question) and cased(question, [RHINE]) == question
    assert typed_lower("When did it start?") and cased("When did it start?", [RHINE]) == (
        "When did it start?"
    )
    # "I" is no sign of names written capitalised; an acronym is.
    assert cased("where did I see the rhine", [RHINE]) == "where did I see the Rhine"
    assert cased("did the NFL play by the rhine", [RHINE]) == "did the NFL play by the rhine"


def test_the_vocabulary_guesses_only_for_words_no_article_mentions() -> None:
    """ "tokyo" and "harbour" are written by no passage read: the vocabulary would capitalise
    both, but only a word no article mentions is given that guess; one some article mentions
    and the passages read do not write is left as typed."""
    asked: list[list[str]] = []

    def unmentioned(words: list[str]) -> list[str]:
        asked.append(words)
        return [w for w in words if w != "harbour"]

    question = "did the harbour of tokyo close?"
    assert cased(question, [RHINE], unmentioned) == "did the harbour of Tokyo close?"
    assert asked == [["harbour", "tokyo"]]  # asked once, of the vocabulary's guesses only
    assert cased("where is the rhine", [RHINE], unmentioned) == "where is the Rhine"
    assert asked == [["harbour", "tokyo"]]  # the passages decided: nothing to ask


def test_the_passages_outweigh_the_vocabulary() -> None:
    """ "harbour" alone reads as a name (" Harbour" is a common token); a passage writing it in
    lower case says it is a word here."""
    assert usually_capitalised("harbour") and usually_capitalised("tokyo")
    assert not usually_capitalised("population") and not usually_capitalised("bread")
    assert cased("who closed the harbour", []) == "who closed the Harbour"
    assert cased("who closed the harbour", ["A storm closed the harbour."]) == (
        "who closed the harbour"
    )
