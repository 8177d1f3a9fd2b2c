"""Metric functions on hand-made cases with known values, and gold-span mapping."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from qa.eval.evaluation import Question, Reply, Result, questions_for, tune_threshold
from qa.eval.metrics import (
    contains_answer,
    contains_span,
    first_hit,
    ndcg_at,
    normalise_answer,
    overlaps_span,
    percentile,
    recall_at,
    reciprocal_rank,
)
from qa.pipeline.formats import squad_article_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Denver Broncos!", "denver broncos"),
        ("  an Apple a day ", "apple day"),
        ("U.S. (1992)", "us 1992"),
        ("Theatre", "theatre"),
    ],
)
def test_squad_normalisation(text: str, expected: str) -> None:
    assert normalise_answer(text) == expected


def test_contains_answer_matches_whole_words_only() -> None:
    assert contains_answer("In 2016, the Denver Broncos won. [1]", ["Denver Broncos"])
    assert not contains_answer("In 2016 they won.", ["Denver Broncos"])
    assert not contains_answer("The year 19567 was odd.", ["1956"])
    assert not contains_answer("anything", ["", "   "])


def test_a_quote_in_curly_marks_holds_its_answer() -> None:
    # News text quotes with “ ” and ‘ ’ and joins with —: the answer inside them is quoted.
    lundqvist = "Lundqvist called Julien’s remarks “disrespectful,” adding that his neck was sore."
    assert contains_answer(lundqvist, ["disrespectful"])
    assert contains_answer("(Scott) ★ ‘Taxi’ (No rating, 1:22)", ["Taxi"])
    assert contains_answer("He added, “The future looks bright.” [1]", ["bright"])
    assert contains_answer("the best—and worst—of it", ["the best and worst of it"])
    assert not contains_answer("“disrespectfully,” he said", ["disrespectful"])


def test_a_possessive_or_a_hyphen_does_not_hide_the_answer() -> None:
    # Deleting punctuation glued "Miyazaki’s" into "miyazakis" and "29-year-old" into
    # "29yearold": quotes that show the answer were counted as misses.
    totoro = "like Hayao Miyazaki’s “My Neighbor Totoro,” to the crushingly sad"
    assert contains_answer(totoro, ["Hayao Miyazaki"])
    assert contains_answer("the 29-year-old Kate Tempest’s gift", ["29"])
    assert contains_answer("a baseboard heater.The heater is costly", ["baseboard heater"])
    # Either reading counts: "e-mail" still holds "email", as SQuAD's reading has it.
    assert contains_answer("send an e-mail", ["email"])
    # A number stays one number: "3.5" holds neither "3" nor "5", "12,000" not "2,000".
    assert not contains_answer("about 3.5 lbs", ["3"])
    assert not contains_answer("about 3.5 lbs", ["5"])
    assert contains_answer("about 3.5 lbs", ["3.5"])
    assert not contains_answer("12,000 people", ["2,000"])
    assert not contains_answer("at 9:30 p.m.", ["30"])
    assert not contains_answer("Miyazakis films", ["Miyazaki"])


def test_rank_metrics() -> None:
    assert first_hit([False, False, True]) == 3 and first_hit([False]) is None
    assert [recall_at(3, k) for k in (1, 5, 10)] == [0.0, 1.0, 1.0]
    assert recall_at(None, 10) == 0.0
    assert reciprocal_rank(4) == 0.25 and reciprocal_rank(11) == 0.0 and reciprocal_rank(None) == 0
    # One relevant item at rank 2: DCG = 1/log2(3); ideal = 1.
    assert ndcg_at([False, True], 1) == pytest.approx(1 / math.log2(3))
    # Two relevant in the index, both retrieved at ranks 1 and 3.
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at([True, False, True], 2) == pytest.approx(expected)
    assert ndcg_at([False, False], 0) == 0.0


def test_spans_and_percentiles() -> None:
    assert contains_span(10, 50, [(12, 20)]) and not contains_span(10, 50, [(45, 55)])
    assert overlaps_span(10, 50, [(45, 55)]) and not overlaps_span(10, 50, [(50, 60)])
    assert percentile([5, 1, 3, 2, 4], 0.5) == 3 and percentile([5, 1, 3, 2, 4], 0.95) == 5
    assert percentile([], 0.5) == 0.0


def squad_file(tmp_path: Path) -> Path:
    data = {
        "data": [
            {
                "title": "Harbour",
                "paragraphs": [
                    {
                        "context": "The harbour reopened on Monday.",
                        "qas": [{"id": "q1", "question": "When did it reopen?",
                                 "answers": [{"text": "Monday", "answer_start": 24}]}],
                    },
                    {
                        "context": "Boats returned at dawn.",
                        "qas": [{"id": "q2", "question": "When did boats return?",
                                 "answers": [{"text": "dawn", "answer_start": 18},
                                             {"text": "at dawn", "answer_start": 15}]}],
                    },
                ],
            }
        ]
    }  # fmt: skip
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_gold_answers_map_to_exact_article_offsets(tmp_path: Path) -> None:
    path = squad_file(tmp_path)
    raw = json.loads(path.read_text())["data"]
    questions = questions_for(raw, path, [0])
    text = squad_article_text(raw[0]["paragraphs"])
    assert [q.id for q in questions] == ["q1", "q2"]
    for question in questions:
        assert question.article_id is not None
        assert [text[a:b] for a, b in question.spans] == list(question.answers)
    assert questions[1].spans[0][0] > len("The harbour reopened on Monday.")
    outside = questions_for(raw, None, [7])
    assert outside[0].article_id is None and outside[0].article_number == 7


def test_threshold_keeps_false_abstention_at_five_percent() -> None:
    question = Question("q", "q?", ("a",), "t", "id", ((0, 1),), 0)
    results = [Result(question, replies={"p": Reply(confidence=c / 100)}) for c in range(100)]
    threshold = tune_threshold(results, "p")
    assert sum(r.reply("p").confidence < threshold for r in results) == 5
