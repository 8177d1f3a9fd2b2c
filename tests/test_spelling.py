"""A misspelled name gets "Did you mean ...?" when the question abstains (qa.pipeline.spelling)."""

from __future__ import annotations

from collections import Counter

import pytest

from qa.pipeline.answer import NOT_FOUND, not_found
from qa.pipeline.spelling import (
    closest,
    edits,
    fold,
    respelled,
    spellings,
    title_names,
    written_names,
)
from qa.types import Passage

KHAN = (
    "Temüjin was proclaimed Genghis Khan in 1206. In August 1227, during the fall of Yinchuan, "
    "Genghis Khan died. Let it be said that his empire outlived him. Warsaw is far away."
)


def passage(text: str, title: str = "Genghis Khan") -> Passage:
    return Passage(1, "khan", title, None, None, "khan.md", text, 0, len(text), 1.0, 1, 0.5, 1.0)


@pytest.mark.parametrize(
    ("a", "b", "count"),
    [
        ("ghengis", "genghis", 2),  # a letter moved
        ("tesle", "tesla", 1),
        ("warinka", "wawrinka", 1),
        ("celeron", "celoron", 1),
        ("form", "from", 1),  # two neighbours swapped: one edit
        ("same", "same", 0),
    ],
)
def test_edits_count_a_swap_as_one(a: str, b: str, count: int) -> None:
    assert edits(a, b) == count


def test_accents_aside() -> None:
    assert fold("Céloron") == "celoron" and fold("Temüjin") == "temujin"


def test_names_are_words_capitalised_past_a_sentence_start() -> None:
    written = written_names([KHAN])
    assert written["Khan"] == 2 and written["Genghis"] == 2 and written["Yinchuan"] == 1
    assert "Let" not in written and "Temüjin" not in written  # they open a sentence


@pytest.mark.parametrize(
    ("name", "spelled"),
    [
        ("Ghengis", "Genghis"),
        ("Yinchaun", "Yinchuan"),
        ("Khann", "Khan"),
        ("Lett", None),  # "Let" only opens a sentence: no name
        ("Khen", "Khan"),
        ("Hkan", None),  # another first letter
        ("Kan", None),  # too short to tell a typo from another name
        ("Genghiz", "Genghis"),
        ("Gengis", "Genghis"),
        ("Gnghs", None),  # two edits: too many for a short name
    ],
)
def test_the_closest_written_name(name: str, spelled: str | None) -> None:
    assert closest(name, written_names([KHAN])) == spelled


def test_the_most_written_of_equally_close_names_wins() -> None:
    assert closest("Zorkel", Counter({"Zorkal": 1, "Porkel": 9, "Zorkil": 4})) == "Zorkil"


def test_a_word_is_no_misspelt_name() -> None:
    """ "Gorge" (in "Rhine Gorge") is a word the tokenizer knows, not "George" misspelt."""
    assert closest("Gorge", Counter({"George": 5})) is None
    assert closest("Geeorge", Counter({"George": 5})) == "George"  # one letter too many


def test_two_edits_only_for_letters_out_of_place() -> None:
    assert closest("Ghengis", Counter({"Genghis": 1})) == "Genghis"  # the same letters
    assert closest("Toghrul", Counter({"Toghun": 3})) is None  # another name


def test_the_question_respelled() -> None:
    texts = [KHAN]
    assert respelled("When did Ghengis Khan die?", ["Ghengis"], texts) == (
        "When did Genghis Khan die?"
    )
    assert respelled("What is the population of Tokyo?", ["Tokyo"], texts) is None


def test_an_abstention_offers_the_question_respelled() -> None:
    reply = not_found("When did Ghengis Khan die?", [passage(KHAN)], 0.0, ["Ghengis"])
    assert reply.suggested == "When did Genghis Khan die?"
    assert reply.text == (
        f'{NOT_FOUND} None of them mentions Ghengis. Did you mean "When did Genghis Khan die?"'
    )
    assert reply.to_dict()["suggested"] == "When did Genghis Khan die?"
    plain = not_found("Who ruled Tokyo?", [passage(KHAN)], 0.0, ["Tokyo"])
    assert plain.suggested is None and plain.text.endswith("None of them mentions Tokyo.")
    statement = not_found("tell me of Ghengis", [passage(KHAN)], 0.0, ["Ghengis"])
    assert statement.text.endswith('Did you mean "tell me of Genghis"?')


def test_the_capitalised_words_of_titles_are_names() -> None:
    titles = ["Nikola Tesla", "Super_Bowl_50", "making the case for don mattingly"]
    titles += ["https://example.org/News/Story", "Jean-Luc Picard's Log"]
    assert title_names(titles) == Counter(
        {"Nikola": 1, "Tesla": 1, "Super": 1, "Bowl": 1, "Jean-Luc": 1, "Picard's": 1, "Log": 1}
    )


def test_titles_are_read_only_for_a_name_no_passage_spells() -> None:
    """The passages' spelling comes first; the titles are listed only when they give none."""
    listed: list[int] = []

    def titles() -> list[str]:
        listed.append(1)
        return ["Nikola Tesla", "Genghis Khan"]

    assert spellings(["Ghengis"], [KHAN], titles) == {"Ghengis": "Genghis"} and not listed
    assert spellings(["Tesle"], [KHAN], titles) == {"Tesle": "Tesla"} and listed == [1]
    assert spellings(["Tesle", "Teslo"], [KHAN], titles) == {"Tesle": "Tesla", "Teslo": "Tesla"}
    assert listed == [1, 1]  # once per question
    assert spellings(["Tokyo"], [KHAN], titles) == {}
    assert respelled("Who was Tesle?", ["Tesle"], [KHAN], titles) == "Who was Tesla?"
    assert respelled("Who was Tesle?", ["Tesle"], [KHAN]) is None


def test_an_abstention_offers_a_titles_spelling() -> None:
    reply = not_found("Who was Tesle?", [passage(KHAN)], 0.0, ["Tesle"], titles=lambda: ["Tesla"])
    assert reply.suggested == "Who was Tesla?"
    assert reply.text == f'{NOT_FOUND} None of them mentions Tesle. Did you mean "Who was Tesla?"'
