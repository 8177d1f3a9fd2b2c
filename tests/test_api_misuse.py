"""The Python API given what a new user writes by mistake: each is read as meant or refused in
one ``QAError`` that says what to pass, never a walk over the whole disk, a false answer or a
``TypeError`` from deep inside (found by a new user's walk-through, 2026-12-06)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa import Assistant, Filters, Turn
from qa.errors import FilterError, NoMatchingArticlesError, QAError, SearchOptionError
from tests.conftest import CORPUS


@pytest.fixture
def rhine(index_dir: Path) -> Iterator[Assistant]:
    with Assistant.open(index_dir, model="hash", reader=False) as assistant:
        assert assistant.ingest([CORPUS / "rhine.md", CORPUS / "warsaw.md"]).ok
        yield assistant


def test_one_path_given_alone_is_that_path_not_its_letters(index_dir: Path) -> None:
    with Assistant.open(index_dir, model="hash", reader=False) as assistant:
        report = assistant.ingest(str(CORPUS / "rhine.md"))  # read as "/", "w", ... before
        assert (len(report.added), report.failed) == (1, [])
        missing = assistant.ingest(str(CORPUS / "no-such-file.md"))
        assert missing.added == [] and len(missing.failed) == 1
        assert len(assistant.ingest(CORPUS / "warsaw.md").added) == 1  # a Path alone too
        assert sorted(a.title for a in assistant.articles()) == ["Rhine", "Warsaw"]
        rhine_id = assistant.titled("Rhine")[0].id
        assert assistant.remove(rhine_id) == [rhine_id]  # one id alone, not its characters
        assert [a.title for a in assistant.articles()] == ["Warsaw"]


def test_filters_that_leave_no_article_are_refused_not_answered(rhine: Assistant) -> None:
    question = "How long is the Rhine?"
    for filters, says in (
        (Filters(titles=("Nope",)), r'No article is named "Nope" \(the index has 2\)'),
        (Filters(article_ids=("deadbeef",)), 'No article is with the id "deadbeef"'),
        (Filters(date_from="2090-01-01"), "No article is dated since 2090-01-01"),
    ):
        with pytest.raises(NoMatchingArticlesError, match=says):
            rhine.ask(question, filters=filters)
        with pytest.raises(NoMatchingArticlesError, match=says):
            rhine.search(question, filters=filters)
    assert rhine.ask(question, filters=Filters(titles=("Rhine",))).found


def test_filters_are_counted_only_when_nothing_is_found(
    index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting what filters leave lists every article (2.1 s a question at 200,000 articles):
    a search that finds passages has its answer, and is never slowed by it."""
    question, rhine = "How long is the Rhine?", Filters(titles=("Rhine",))
    with Assistant.open(index_dir, model="hash") as assistant:  # the reader on: its search too
        assert assistant.ingest([CORPUS / "rhine.md", CORPUS / "warsaw.md"]).ok
        listed: list[int] = []
        real = assistant.articles
        monkeypatch.setattr(assistant, "articles", lambda: listed.append(1) or real())
        assert assistant.ask(question, filters=rhine).found
        for mode in ("reader", "hybrid", "dense", "keyword"):
            assert assistant.search(question, filters=rhine, mode=mode)
        assert listed == []
        for mode in ("reader", "hybrid", "dense", "keyword"):
            with pytest.raises(NoMatchingArticlesError, match='named "Nope"'):
                assistant.search(question, filters=Filters(titles=("Nope",)), mode=mode)
        assert len(listed) == 4


def test_filters_read_one_title_as_one_and_refuse_what_is_not_a_date() -> None:
    assert Filters(titles="Rhine").titles == ("Rhine",)
    assert Filters(article_ids=["a", "b"]).article_ids == ("a", "b")
    assert Filters(date_from="2024", date_to="2024-03").date_to == "2024-03-31"
    assert Filters(date_from=datetime.date(2024, 3, 1)).date_from == "2024-03-01"
    for wrong in (
        {"date_from": "yesterday"},
        {"date_to": "2024-13-01"},
        {"date_from": "2025", "date_to": "2024"},
        {"date_from": 2024},
        {"titles": [1]},
        {"source_prefix": 5},
    ):
        with pytest.raises(FilterError):
            Filters(**wrong)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "history",
    ["Who introduced plague to Europe?", ["hello"], [("a", "b", "c")], [{"question": "a"}], 5],
)
def test_history_that_is_not_a_list_of_turns_is_refused(rhine: Assistant, history: object) -> None:
    with pytest.raises(SearchOptionError, match="history"):
        rhine.ask("How long is it?", history=history)  # type: ignore[arg-type]


def test_history_of_turns_and_pairs_is_read(rhine: Assistant) -> None:
    first = rhine.ask("How long is the Rhine?")
    for history in ([Turn.of(first)], [(first.question, first.text)], [[first.question, "x"]]):
        assert rhine.ask("Where does it rise?", history=history).question  # type: ignore[arg-type]


def test_a_closed_assistant_says_it_is_closed_not_that_the_index_is_damaged(
    index_dir: Path,
) -> None:
    with Assistant.open(index_dir, model="hash", reader=False) as assistant:
        assert assistant.ingest([CORPUS / "rhine.md"]).ok
    calls = (
        lambda: assistant.ask("How long is the Rhine?"),
        lambda: assistant.search("Rhine"),
        assistant.stats,
        assistant.articles,
        assistant.check,
        lambda: assistant.excerpt("Rhine", 0, 10),
        lambda: assistant.ingest([CORPUS / "warsaw.md"]),
    )
    for call in calls:
        with pytest.raises(QAError, match="is closed") as raised:
            call()
        assert "damaged" not in str(raised.value)


def test_ask_stream_without_a_model_yields_the_quoted_answer_alone(rhine: Assistant) -> None:
    (only,) = list(rhine.ask_stream("How long is the Rhine?"))  # a TypeError before
    assert only == rhine.ask("How long is the Rhine?")
