"""What filters leave to search (qa/scope.py): the count agrees with the stores' own filtering,
and a scope that leaves nothing says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import Assistant, NoMatchingArticlesError
from qa.types import Filters, make_filters

ARTICLES = [
    ("old.md", "Old pier", "2019-12-30", "The old pier was built of granite blocks."),
    ("new.md", "New pier", "2024-06-01", "The new pier was built of concrete beams."),
    ("mid.md", "Mid pier", "2022-02-10T08:00:00", "The middle pier was built of steel."),
    ("wood.md", "Wood pier", None, "The wooden pier was built of oak planks."),
]


@pytest.fixture
def piers(assistant_on_each_store: Assistant, write) -> Assistant:
    for name, title, when, text in ARTICLES:
        front = f"---\ntitle: {title}\ndate: {when}\n---\n\n" if when else f"# {title}\n\n"
        write(f"{'sub/' if name == 'mid.md' else ''}{name}", front + text + "\n")
    assert assistant_on_each_store.ingest([write.base]).ok
    return assistant_on_each_store


def searched(assistant: Assistant, filters: Filters | None) -> set[str]:
    """Titles the store's own filter lets a search reach (the index is small: k covers all).
    The retriever's search, under the assistant's: that one refuses filters leaving nothing."""
    return {p.title for p in assistant.retriever.search("pier built of", 50, filters)}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, 4),
        ({"since": "2020"}, 2),
        ({"until": "2022-02-10"}, 2),
        ({"since": "2022-02", "until": "2022-02"}, 1),
        ({"since": "2030"}, 0),
        ({"titles": ["new PIER", "Wood pier"]}, 2),
        ({"titles": ["Wood pier"], "since": "2000"}, 0),
        ({"source": "sub"}, 1),
    ],
)
def test_the_count_agrees_with_the_store(
    piers: Assistant, write, kwargs: dict[str, object], expected: int
) -> None:
    if "source" in kwargs:
        kwargs = {"source": str(write.base / str(kwargs["source"]))}
    filters = make_filters(**kwargs)  # type: ignore[arg-type]
    scope = piers.scope(filters)
    assert scope.articles == expected == len(searched(piers, filters))
    assert (scope.total, scope.undated) == (4, 1)


def test_the_label_says_how_many_and_since_when(piers: Assistant) -> None:
    assert piers.scope(None).label() == "All articles"
    assert piers.scope(make_filters(since="2020")).label() == "2 articles since 2020-01-01"
    assert piers.scope(make_filters(until="2020")).label() == "1 article until 2020-12-31"
    both = make_filters(since="2020", until="2022")
    assert piers.scope(both).label() == "1 article 2020-01-01 to 2022-12-31"
    assert piers.scope(make_filters(titles=["Old pier"])).label() == "1 article"


def test_nothing_left_says_why_and_counts_the_undated(piers: Assistant) -> None:
    piers.scope(make_filters(since="2020")).require()  # something left: no error
    with pytest.raises(NoMatchingArticlesError) as nothing:
        piers.scope(make_filters(since="2030-01-01")).require()
    assert str(nothing.value) == (
        "No article is dated since 2030-01-01 (the index has 4). 1 article has no date, and a "
        "date range leaves undated articles out. Widen the filters or remove them."
    )
    with pytest.raises(NoMatchingArticlesError, match=r'named "Nothing" \(the index has 4\)'):
        piers.scope(make_filters(titles=["Nothing"])).require()


def test_an_empty_index_is_not_a_filter_problem(tmp_path: Path) -> None:
    with Assistant.open(tmp_path / "index", model="hash") as empty:
        empty.scope(make_filters(since="2020")).require()  # IndexEmptyError comes from ask
