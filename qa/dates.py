"""Dates typed by people (``qa ask --since/--until``, the web UI's date fields), read once.

Accepted forms, each as a day (``YYYY-MM-DD``) of the calendar:

- an ISO day, ``2024-03-01`` (a time after it, ``2024-03-01T10:00``, is ignored);
- a month, ``2024-03``, or a year, ``2024``;
- the words ``today``, ``this month``, ``last month``, ``this year`` and ``last year``.

A month, a year or a word names a period: as a start (``--since``) it means the period's first
day, as an end (``--until``) its last, so ``--since 2023 --until 2023`` is the whole of 2023 and
``--since "last year"`` is from 1 January of last year on. Anything else is refused with the
forms and an example: "1/2/2020" could be 1 February or 2 January, so it is not guessed, and
"garbage" never silently filters out every article (issue 29, finding 10).

>>> day("2024-03", end=True)
'2024-03-31'
>>> date_range("2023", "2023")
('2023-01-01', '2023-12-31')
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from qa.errors import FilterError

FORMS = 'YYYY-MM-DD (2024-03-01), YYYY-MM (2024-03), YYYY (2024) or "last year"'
_ISO = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})(?:[T ][0-9:.+\-Z]*)?)?)?")
WORDS = ("today", "this month", "last month", "this year", "last year")


def day(text: str, *, end: bool = False, today: date | None = None) -> str:
    """The ISO day that ``text`` names, as the start of a range or (``end=True``) its end.

    Raises ``FilterError`` naming the accepted forms when ``text`` is none of them."""
    cleaned = " ".join(text.split()).lower()
    now = today or date.today()
    first, last = _period(cleaned, now) or _calendar_period(cleaned, text)
    return (last if end else first).isoformat()


def date_range(
    since: str | None, until: str | None, today: date | None = None
) -> tuple[str | None, str | None]:
    """``(first day, last day)`` of what was typed as a start and an end (blank: None).

    Raises ``FilterError`` for a date that is not one, or a start after the end."""
    start = day(since, today=today) if since and since.strip() else None
    stop = day(until, end=True, today=today) if until and until.strip() else None
    if start and stop and start > stop:
        raise FilterError(
            f"The start date {start} is after the end date {stop}: nothing can be in between."
        )
    return start, stop


def _period(words: str, now: date) -> tuple[date, date] | None:
    """The first and last day of ``today``, ``this month``... (None for other text)."""
    if words == "today":
        return now, now
    if words in ("this year", "last year"):
        year = now.year - 1 if words == "last year" else now.year
        return date(year, 1, 1), date(year, 12, 31)
    if words in ("this month", "last month"):
        year, month = now.year, now.month
        if words == "last month":
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    return None


def _calendar_period(cleaned: str, typed: str) -> tuple[date, date]:
    match = _ISO.fullmatch(cleaned.upper())
    if match is None:
        raise FilterError(f'"{typed.strip()}" is not a date. Use {FORMS}.')
    year, month, day_of_month = (int(part) if part else None for part in match.groups())
    assert year is not None
    try:
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        if day_of_month is None:
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        exact = date(year, month, day_of_month)
    except ValueError:  # month 13, 30 February, year 0
        raise FilterError(f'"{typed.strip()}" is not a day of the calendar. Use {FORMS}.') from None
    return exact, exact
