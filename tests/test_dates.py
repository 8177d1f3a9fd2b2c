"""Dates typed by people (qa/dates.py): the forms accepted, the periods they name, the rest
refused with an example."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.dates import date_range, day
from qa.errors import FilterError, SearchOptionError
from qa.types import make_filters

TODAY = date(2025, 1, 15)


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        ("2024-03-01", "2024-03-01", "2024-03-01"),
        ("2024-3-1", "2024-03-01", "2024-03-01"),
        ("2024-03-01T10:30:00Z", "2024-03-01", "2024-03-01"),
        ("2024-02", "2024-02-01", "2024-02-29"),
        ("2023-02", "2023-02-01", "2023-02-28"),
        ("2024", "2024-01-01", "2024-12-31"),
        ("  Last   YEAR ", "2024-01-01", "2024-12-31"),
        ("this year", "2025-01-01", "2025-12-31"),
        ("last month", "2024-12-01", "2024-12-31"),
        ("this month", "2025-01-01", "2025-01-31"),
        ("today", "2025-01-15", "2025-01-15"),
    ],
)
def test_each_form_names_a_period(typed: str, start: str, end: str) -> None:
    assert day(typed, today=TODAY) == start
    assert day(typed, end=True, today=TODAY) == end


@pytest.mark.parametrize(
    "typed", ["1/1/2020", "garbage", "2024-13", "2023-02-30", "24", "2024-01-01 to 2024-02-01", ""]
)
def test_anything_else_is_refused_with_the_forms(typed: str) -> None:
    with pytest.raises(FilterError, match=r"Use YYYY-MM-DD \(2024-03-01\)") as refused:
        day(typed)
    assert isinstance(refused.value, SearchOptionError)  # and a ValueError, for old callers


def test_a_range_is_checked_and_blank_bounds_are_none() -> None:
    assert date_range("2023", "2023") == ("2023-01-01", "2023-12-31")
    assert date_range("", "  ") == (None, None)
    assert date_range(None, "2024-06") == (None, "2024-06-30")
    with pytest.raises(FilterError, match="start date 2024-02-01 is after the end date"):
        date_range("2024-02", "2024-01")


def test_make_filters_reads_the_dates() -> None:
    filters = make_filters(since="2024", until="2024-06")
    assert filters is not None
    assert (filters.date_from, filters.date_to) == ("2024-01-01", "2024-06-30")
    with pytest.raises(FilterError):
        make_filters(since="1/1/2020")


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_every_iso_day_reads_back_as_itself(when: date) -> None:
    text = f"{when.year:04d}-{when.month:02d}-{when.day:02d}"
    assert day(text) == day(text, end=True) == when.isoformat()


@given(st.integers(1, 9999), st.integers(1, 12))
def test_a_month_runs_from_its_first_to_its_last_day(year: int, month: int) -> None:
    first = date.fromisoformat(day(f"{year:04d}-{month:02d}"))
    last = date.fromisoformat(day(f"{year:04d}-{month:02d}", end=True))
    assert first.day == 1 and (first.year, first.month) == (last.year, last.month) == (year, month)
    assert last == date(9999, 12, 31) or (last + timedelta(days=1)).month != month
