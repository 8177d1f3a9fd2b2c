"""Names that carry a number: a sentence about another one is no answer (numbered_names.py)."""

from __future__ import annotations

import pytest

from qa.pipeline.numbered_names import numbered, other_numbered

WWI = "At the end of World War I, the Rhineland was subject to the Treaty of Versailles."
MVPS = (
    "Bart Starr (MVP of Super Bowls I and II) and Chuck Howley (MVP of Super Bowl V) appeared "
    "via video, while Peyton Manning (MVP of Super Bowl XLI) was shown in the locker room."
)


def test_the_names_and_their_numbers() -> None:
    assert numbered("When did World War II end?") == {"world war": {2}}
    assert numbered("When did World War 2 end?") == {"world war": {2}}  # the same war
    # "Super Bowls I and II" is a list, of the singular name.
    assert numbered(MVPS) == {"super bowl": {1, 2, 5, 41}}
    assert numbered("Super Bowls XXI and XXIV, and Super Bowl XLVIII") == {
        "super bowl": {21, 24, 48}
    }
    assert numbered("On March 14 the Apollo 11 crew flew, in 1969.") == {"apollo": {11}}
    assert numbered("What did the team win in 2015?") == {}  # a year is no name's number


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("When did World War II end?", WWI),
        ("Who was the Super Bowl 50 MVP?", MVPS),
        ("What did Apollo 11 achieve?", "Apollo 1 ended in a cabin fire on the pad."),
        ("Who was Louis XIV?", "Louis XVI was executed in 1793."),
    ],
)
def test_a_sentence_about_another_number_is_left_out(question: str, sentence: str) -> None:
    assert other_numbered(question, sentence)


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("When did World War II end?", "World War II ended in 1945, World War I in 1918."),
        ("What did World War 2 change?", "In World War II, de Gaulle used the colonies."),
        ("Who was the MVP of Super Bowl II?", MVPS),
        ("Who was the Super Bowl 50 MVP?", "Von Miller was named Super Bowl MVP."),
        ("Who won Super Bowl 50?", "Super Bowl 50 had Coldplay, who played Super Bowl XLVII."),
        ("What happened on March 14?", "On March 12, nothing happened."),  # dates: no names
        ("Where is the Rhine?", WWI),  # the question names no numbered name
    ],
)
def test_a_sentence_that_may_be_about_it_stays(question: str, sentence: str) -> None:
    assert not other_numbered(question, sentence)
