"""The verifier check of generated sentences (qa/llm/check.py), with a scripted verifier.

The scripted verifier says "supports" when the claim's words are all in the quote, "refutes"
when they are all there but one number differs, and "not enough info" otherwise: enough to
check what the check does with each verdict (keep, re-attribute, drop as contradicted, drop).
The trained verifier itself is measured in benchmarks/verifier_eval.py and tested with the real
model in tests/test_reader_model.py.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from embeddings import HashEmbedder
from qa.llm import checked_answer
from qa.llm.check import AnswerSentence, SupportChecker, swapped_fact
from qa.llm.numbers import compares, numbers_hold
from qa.types import Answer, Passage

WORD = re.compile(r"[a-z]+|\d+(?:\.\d+)?")


def _passage(number: int, text: str) -> Passage:
    return Passage(number, f"a{number}", f"T{number}", None, None, "s", text, 0, len(text),
                   1.0, number, 0.5, 1.0)  # fmt: skip


PASSAGES = [
    _passage(1, "Westlife sold more than 24 million records in the UK. The band formed in 1998."),
    _passage(2, "The Rhine rises in the Swiss Alps. It flows into the North Sea."),
]
EXTRACTIVE = Answer("q", "Quoted. [1]", True, [], PASSAGES, 0.9)


class Scripted:
    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []

    def verify_logits(self, claims: list[str], evidence: list[str]) -> np.ndarray:
        out = []
        for claim, quote in zip(claims, evidence, strict=True):
            self.pairs.append((claim, quote))
            said, there = WORD.findall(claim.lower()), set(WORD.findall(quote.lower()))
            missing = [w for w in said if w not in there]
            if not missing:
                out.append([4.0, -4.0, -4.0])
            elif all(w[0].isdigit() for w in missing) and len(missing) == 1:
                out.append([-4.0, 4.0, -4.0])
            else:
                out.append([-4.0, -4.0, 4.0])
        return np.array(out, dtype=np.float32)


def check(text: str, cited: list[int]) -> tuple[SupportChecker, Scripted]:
    verifier = Scripted()
    return SupportChecker(PASSAGES, HashEmbedder(64), verifier=verifier), verifier


def test_a_changed_number_is_dropped_as_contradicted_with_its_quote() -> None:
    checker, verifier = check("", [])
    (support,) = checker.check([AnswerSentence("Westlife sold more than 23 million records.", [1])])
    assert not support.supported and support.refuted
    assert support.quote == "Westlife sold more than 24 million records in the UK."
    assert support.passage == 1
    # The verifier read the quote as trained: title, then the sentence.
    assert any(q.startswith("T1\nWestlife sold") for _, q in verifier.pairs)


def test_a_supported_sentence_keeps_its_cited_passage() -> None:
    checker, _ = check("", [])
    (support,) = checker.check([AnswerSentence("The Rhine rises in the Swiss Alps.", [2])])
    assert support.supported and not support.reattributed and support.passage == 2
    assert support.quote == "The Rhine rises in the Swiss Alps."


def test_a_wrong_citation_is_reattributed() -> None:
    checker, _ = check("", [])
    (support,) = checker.check([AnswerSentence("The band formed in 1998.", [2])])
    assert support.supported and support.reattributed and support.passage == 1


def test_quotes_of_other_passages_are_read_only_for_a_sentence_its_citation_does_not_support() -> (
    None
):
    checker, verifier = check("", [])
    rhine, band = checker.check(
        [
            AnswerSentence("The Rhine rises in the Swiss Alps.", [2]),
            AnswerSentence("The band formed in 1998.", [2]),  # passage 1 says it
        ]
    )
    assert rhine.supported and band.supported and band.reattributed
    read = {(claim, quote.split("\n")[0]) for claim, quote in verifier.pairs}
    assert ("The Rhine rises in the Swiss Alps.", "T1") not in read
    assert ("The band formed in 1998.", "T1") in read


def test_an_unsupported_sentence_is_dropped_but_not_contradicted() -> None:
    checker, _ = check("", [])
    (support,) = checker.check([AnswerSentence("Dragons guard the treasure of Oslo.", [1])])
    assert not support.supported and not support.refuted and support.quote == ""


def test_the_answer_shows_only_supported_sentences_and_records_the_contradicted() -> None:
    text = "The Rhine rises in the Swiss Alps [2]. Westlife sold more than 23 million records [1]."
    checker, _ = check("", [])
    reply = checked_answer("q", text, PASSAGES, EXTRACTIVE, HashEmbedder(64), "m", checker)
    assert reply.text == "The Rhine rises in the Swiss Alps. [1]"
    rhine, westlife = reply.sentences
    assert rhine.supported and not rhine.refuted
    assert westlife.refuted and not westlife.supported and westlife.citation is None
    assert westlife.quote.startswith("Westlife sold more than 24 million")
    assert reply.to_dict()["sentences"][1]["refuted"] is True


def test_the_cosine_check_stays_without_a_verifier() -> None:
    """--check cosine: the embedding check, blind to the changed number (it keeps it)."""
    checker = SupportChecker(PASSAGES, HashEmbedder(64))
    same = "Westlife sold more than 24 million records in the UK."
    (support,) = checker.check([AnswerSentence(same, [1])])
    assert support.supported and not support.refuted


def test_the_terminal_names_a_contradicted_sentence_with_the_quote_against_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from qa.cli.llm import CONTRADICTED, print_checks

    text = (
        "The Rhine rises in the Swiss Alps [2]. Westlife sold more than 23 million records [1]. "
        "Dragons guard the treasure of Oslo [1]."
    )
    checker, _ = check("", [])
    print_checks(checked_answer("q", text, PASSAGES, EXTRACTIVE, HashEmbedder(64), "m", checker))
    said = capsys.readouterr().err
    assert f"Left out (contradicted{CONTRADICTED}): Westlife sold more than 23 million" in said
    assert 'The source says: "Westlife sold more than 24 million records in the UK."' in said
    assert "Left out (no passage supports it): Dragons guard the treasure of Oslo." in said
    assert "no passage supports it): Westlife" not in said


class Credulous:
    """A verifier blind to facts: it reads a pair as support when the claim's other words are
    in the quote, whatever its numbers and names (what a small cross-encoder often does with a
    copied sentence whose number or name was changed)."""

    def verify_logits(self, claims: list[str], evidence: list[str]) -> np.ndarray:
        out = []
        for claim, quote in zip(claims, evidence, strict=True):
            plain = re.findall(r"\b[a-z]+\b", claim)
            there = set(re.findall(r"[a-z]+", quote.lower()))
            out.append([4.0, -4.0, -4.0] if set(plain) <= there else [-4.0, -4.0, 4.0])
        return np.array(out, dtype=np.float32)


def credulous_check(text: str, cited: list[int]):  # type: ignore[no-untyped-def]
    (support,) = SupportChecker(PASSAGES, HashEmbedder(64), verifier=Credulous()).check(
        [AnswerSentence(text, cited)]
    )
    return support


@pytest.mark.parametrize(
    "copy",
    [
        "Westlife sold more than 31 million records in the UK.",  # another number
        "Westlife sold more than 24 million records in the US.",  # another name
        "Boyzone sold more than 24 million records in the UK.",
    ],
)
def test_a_copied_quote_with_a_swapped_fact_is_contradicted_though_the_model_agrees(
    copy: str,
) -> None:
    support = credulous_check(copy, [1])
    assert not support.supported and support.refuted
    assert support.quote == "Westlife sold more than 24 million records in the UK."


@pytest.mark.parametrize(
    "true",
    [
        "Westlife sold more than 24 million records in the UK.",
        "In the UK, Westlife sold more than 24 million records.",  # reordered, same facts
        "The Rhine flows into the North Sea.",
        "The band formed in 1998.",
    ],
)
def test_a_sentence_with_the_quotes_facts_is_kept(true: str) -> None:
    assert credulous_check(true, [1, 2]).supported


def test_naming_the_articles_subject_in_full_is_not_a_swapped_name() -> None:
    # "Theresa May" where the quote says "May", under the title "Theresa May": a copy of the
    # quote, not another name in its place (true sentences of VitaminC were shown contradicted).
    quote = "From 1977 until 1983, May worked for the Bank of Ireland."
    passage = replace(_passage(1, quote), title="Theresa May")
    claim = "Theresa May worked for the Bank of Ireland."
    (support,) = SupportChecker([passage], HashEmbedder(64), verifier=Credulous()).check(
        [AnswerSentence(claim, [1])]
    )
    assert support.supported and not support.refuted
    assert swapped_fact(claim, quote)  # without the title, a name in another's place
    assert not swapped_fact(claim, quote, "Theresa May")
    assert not swapped_fact(
        "Malcolm Brogdon was picked 36th in the 2016 draft.",
        "On June 23, 2016, Brogdon was picked 36th in the 2016 draft.",
        "Malcolm Brogdon",
    )
    # The subject's name put in another's place is a swap, title or not: the error a small
    # model makes with names of the passage.
    title = "Genghis Khan"
    assert swapped_fact(
        "The capital was moved to Genghis Khan by the men.",
        "The capital was moved to Bukhara by the men.",
        title,
    )
    assert swapped_fact(
        "Khan, Genghis Khan's youngest son, was not his successor.",
        "Tolui, Genghis Khan's youngest son, was not his successor.",
        title,
    )
    assert swapped_fact("May worked for 12 banks.", "May worked for 11 banks.", "May 12")
    assert swapped_fact("Boyzone sold 24 million.", "Westlife sold 24 million.", "Westlife")


def test_a_number_no_passage_writes_is_not_supported() -> None:
    support = credulous_check("The band formed in 1996.", [1])
    assert not support.supported


def test_a_quote_about_the_sentence_whose_numbers_cannot_hold_contradicts_it() -> None:
    # Reworded, so not a copy of the quote with one fact swapped: the model reads the quote as
    # support, but no number of the passage makes "31 million" true, so that quote is shown
    # against the sentence.
    support = credulous_check("In the UK, Westlife sold more than 31 million records.", [1])
    assert not support.supported and support.refuted
    assert support.quote == "Westlife sold more than 24 million records in the UK."
    assert support.passage == 1


def test_a_wrong_number_in_a_sentence_no_quote_is_about_is_dropped_without_a_quote() -> None:
    # The model reads no quote as about it ("not enough info"): nothing to show against it.
    support = credulous_check("Dragons guard 12 treasures of Oslo.", [1])
    assert not support.supported and not support.refuted and support.quote == ""


def test_numbers_are_compared_as_written_not_as_characters() -> None:
    assert numbers_hold("It sold 24,000,000 copies.", "It sold 24000000 copies")
    assert numbers_hold("It sold 24 million copies.", "It sold 24,000,000 copies")
    assert numbers_hold("There were 3 of them.", "There were three of them")
    assert numbers_hold("It cost 2.50 dollars.", "It cost 2.5 dollars")
    assert not numbers_hold("It sold 23 million.", "It sold 24 million")
    assert not numbers_hold("She was born on 12 March 1950.", "She was born on 13 March 1950.")
    assert not swapped_fact("Westlife sold 24 million.", "Westlife sold 24 million records.")
    # A sentence that shares a name but is not a copy is not read as a swap.
    assert not swapped_fact(
        "Sales of records by Westlife peaked in the UK early.",
        "Westlife sold more than 24 million records in the US.",
    )


@pytest.mark.parametrize(
    ("claim", "evidence", "holds"),
    [
        ("More than 200,000 tests were done.", "Massachusetts has done 226,845 tests.", True),
        ("More than 300,000 tests were done.", "Massachusetts has done 226,845 tests.", False),
        ("Sales were under 23.5 million.", "It sold more than 24 million records.", False),
        ("About 6 million people live there.", "The city has 5.9 million people.", True),
        ("About 8 million people live there.", "The city has 5.9 million people.", False),
        ("It has a rating below 58 %.", "It has a 57 % approval rating.", True),
        ("It has a rating below 58 %.", "It has 57 reviews.", False),  # not a percentage
        ("He was born before 1991.", "He was born in 1990.", True),
        ("He was born before 1989.", "He was born in 1990.", False),
        ("Before April 1, 2020, Oman had 210 cases.", "As of 28 March, it had 210.", True),
        ("The meeting ended before 5 pm.", "The meeting ended at 4 pm.", False),  # not a year
        # A strict bound leaves its number out, unless the passage bounds it the same way.
        ("It scored more than 41 out of 100.", "It has a score of 41 out of 100.", False),
        ("It sold more than 24 million.", "It sold more than 24 million records.", True),
        ("It was renewed after 2017.", "On January 29, 2017, it was renewed.", False),
        ("It was renewed since 2017.", "On January 29, 2017, it was renewed.", True),
        # A bounded month against the passage's months.
        ("It was published after January 2020.", "It was published in November 2019.", False),
        ("It was published before January 2020.", "It was published in November 2019.", True),
        ("By then, after April 25, 2020, it had 13,521.", "As of April 26, 2020: 13,521.", True),
        # The words before a number reach back to the number before it, no further.
        ("When did it win prior to 2000: 1946.", "It won in 1946 and 2000.", True),
        # A number joined to a word by a hyphen is a name, not a count; a date's day may be
        # an ordinal.
        ("Fewer than 50 people died of COVID-19.", "By then 31 people had died.", True),
        ("It had 3.5 million homes in 1994.", "It reached 3.5 million homes by mid-1994.", True),
        ("Fewer than 50 people died.", "It had 66 deaths as of 3:25 p.m.", False),  # a time
        # A decade holds of its years; "1,000" is a count, not a year; "$2.4M" is millions.
        ("It was built in the 1910s.", "It was built in 1915.", True),
        ("It was built in the 1920s.", "It was built in 1915.", False),
        # A share is read by the model, not as a count.
        ("A third of the town died.", "About 33% of the town died.", True),
        ("Two thirds of them voted.", "67% of them voted.", True),
        ("It is her third album.", "It is her fourth album.", False),
        ("Three of them voted.", "Two of them voted.", False),
        ("It lasted two decades.", "It lasted 20 years.", True),
        ("It lasted two decades.", "It lasted two decades.", True),
        ("It lasted three decades.", "It lasted 20 years.", False),
        # A century holds of its years, and only of them.
        ("The plague struck in the 14th century.", "It reached Crimea in 1347.", True),
        ("The plague struck in the 14th century.", "It reached Crimea in 1450.", False),
        ("It reached Crimea in 1347.", "It struck in the 14th century.", False),
        ("It struck in the 14th century.", "It struck Europe in the 14th century.", True),
        ("It was built in the 1800s.", "It was built in the 19th century.", True),
        ("There were fewer than 1,000 cases.", "By then it had almost 500 cases.", True),
        ("It made under $2.4M worldwide.", "Its worldwide total was $2,352,022.", True),
        ("It opened after 10th January 2020.", "It opened 10 November 2019; shut 2020.", False),
        # Thousands grouped by a no-break or thin space (SI style); a plain space groups none.
        ("More than 35,000 people came.", "Some 40\u00a0000 people came.", True),
        ("More than 45,000 people came.", "Some 40\u00a0000 people came.", False),
        ("It has 1,250,000 voters.", "It has 1\u202f250\u202f000 voters.", True),
        ("It had 200 people in 1990.", "In 1990 200 people lived there.", True),
        ("It had 1,990,200 people.", "In 1990 200 people lived there.", False),
        # A count of years or an age may be the difference of two years of the passage (an age
        # one fewer: the birthday is not said); a count of anything else may not.
        ("He died at the age of 45.", "Born in 1900, he died in 1945.", True),
        ("He died aged 44.", "Born in 1900, he died in 1945.", True),
        ("He died aged 52.", "Born in 1900, he died in 1945.", False),
        ("He was a 45-year-old man.", "Born in 1900, he died in 1945.", True),
        ("It sold 45 copies.", "Born in 1900, he died in 1945.", False),
        ("The war lasted 12 years.", "It began in 1939 and ended in 1951.", True),
        ("The war lasted 20 years.", "It began in 1939 and ended in 1951.", False),
        # Numbers written as words, with their scale, on either side.
        ("The album sold 3 million copies.", "The album sold three million copies.", True),
        ("The album sold three million copies.", "The album sold 5 million copies.", False),
        ("Over three million copies were sold.", "It sold 3.4 million copies.", True),
        ("It is her tenth studio album.", "It is her eleventh studio album.", False),
        ("It is her tenth studio album.", "It is her 10th studio album.", True),
        ("Fewer than three airports are busier.", "It is the fourth-busiest airport.", False),
        # "One" and "first" state no count often enough to be left unread.
        ("One of the members left in the first year.", "A member left early on.", True),
    ],
)
def test_a_bounded_number_holds_where_some_number_of_the_passage_meets_the_bound(
    claim: str, evidence: str, holds: bool
) -> None:
    assert numbers_hold(claim, evidence) is holds


class Agreeable:
    """A verifier that reads every pair as support: the number check alone decides."""

    def verify_logits(self, claims: list[str], evidence: list[str]) -> np.ndarray:
        return np.tile([4.0, -4.0, -4.0], (len(claims), 1))


@pytest.mark.parametrize(
    ("sentence", "supported"),
    [
        ("More than 200,000 tests for COVID-19 were performed in Massachusetts.", True),
        ("About 230,000 tests for COVID-19 were performed in Massachusetts.", True),
        ("More than 300,000 tests for COVID-19 were performed in Massachusetts.", False),
        ("Massachusetts began testing before 2021.", True),
        ("Massachusetts began testing after 2021.", False),
    ],
)
def test_a_rounded_or_bounded_number_is_kept_when_the_passage_bears_it_out(
    sentence: str, supported: bool
) -> None:
    passage = _passage(1, "By April 2020 Massachusetts had performed 226,845 tests for COVID-19.")
    checker = SupportChecker([passage], HashEmbedder(64), verifier=Agreeable())
    (support,) = checker.check([AnswerSentence(sentence, [1])])
    assert support.supported is supported


class Contrary:
    """A verifier that reads every pair as refuting: what a small cross-encoder often does with
    a comparison ("fewer than 98 reviews" against "97 reviews", VitaminC)."""

    def verify_logits(self, claims: list[str], evidence: list[str]) -> np.ndarray:
        return np.tile([-4.0, 4.0, -4.0], (len(claims), 1))


@pytest.mark.parametrize(
    ("sentence", "supported", "refuted"),
    [
        # a bound the number check reads as true: the model's "refutes" is its misreading
        ("More than 200,000 tests for COVID-19 were performed in Massachusetts.", True, False),
        ("Massachusetts began testing before 2021.", True, False),
        # a bound that cannot hold, and an exact number: the model's verdict stands
        ("More than 300,000 tests for COVID-19 were performed in Massachusetts.", False, True),
        ("Massachusetts had performed 226,845 tests for COVID-19.", False, True),
    ],
)
def test_a_comparison_whose_numbers_hold_is_not_refuted_by_the_model(
    sentence: str, supported: bool, refuted: bool
) -> None:
    passage = _passage(1, "By April 2020 Massachusetts had performed 226,845 tests for COVID-19.")
    checker = SupportChecker([passage], HashEmbedder(64), verifier=Contrary())
    (support,) = checker.check([AnswerSentence(sentence, [1])])
    assert (support.supported, support.refuted) == (supported, refuted)


@pytest.mark.parametrize(
    ("claim", "bounded"),
    [
        ("It has fewer than 98 reviews.", True),
        ("About 6 million people live there.", False),  # no comparison: the model reads it
        ("He was born before 1991.", True),
        ("It was published after January 2020.", True),
        ("He was born before June 10th, 1993.", True),
        ("It has 97 reviews.", False),
        ("The meeting ended before 5 pm.", False),  # a time of day, not a year or a count
        ("Nobody knows.", False),
    ],
)
def test_compares_names_the_claims_that_bound_a_number(claim: str, bounded: bool) -> None:
    assert compares(claim) is bounded
