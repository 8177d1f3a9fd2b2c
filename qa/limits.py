"""Bounds on what a caller may ask for, checked the same way by the CLI, the web UI and the
server's ``/ask`` API: each refusal is one line (a ``SearchOptionError``) saying what is allowed.

    k = check_k(request_k)                          # 1..50 passages, as `qa ask -k`
    question = check_question(text)                 # text of at most 1,000 characters
    filters = check_filters(["Rhine"], "2020-01-01", "")
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.errors import SearchOptionError
from qa.types import Filters, make_filters

MAX_K = 50  # passages an answer keeps (qa ask -k, the UI's slider, /ask)
MAX_QUESTION_CHARS = 1000  # the UI's question box holds as many
MAX_FILTER_TITLES = 50
MAX_FILTER_CHARS = 300  # an article title or id, a date


def check_k(k: object, most: int | None = MAX_K) -> int:
    """``k`` as an int from 1 to ``most`` (None: no upper bound), else a ``SearchOptionError``."""
    if isinstance(k, float) and k.is_integer():
        k = int(k)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1 or (most is not None and k > most):
        allowed = f"from 1 to {most}" if most is not None else "of at least 1"
        raise SearchOptionError(
            f"k (passages to keep) must be a whole number {allowed}; got {str(k)[:20]!r}."
        )
    return k


def check_question(question: object, what: str = "question") -> str:
    """The question's text, if it is text of at most ``MAX_QUESTION_CHARS`` characters
    (``what`` names it in the refusal: "query" for a search)."""
    if not isinstance(question, str):
        raise SearchOptionError(f"The {what} must be text; got {type(question).__name__}.")
    if len(question) > MAX_QUESTION_CHARS:
        raise SearchOptionError(
            f"The {what} is {len(question):,} characters long; ask in at most "
            f"{MAX_QUESTION_CHARS:,}."
        )
    return question


def has_words(text: str) -> bool:
    """Whether a question has something to search for: punctuation alone has not."""
    return any(c.isalnum() for c in text)


def check_filters(
    titles: object = None, since: object = None, until: object = None
) -> Filters | None:
    """Filters from request values: ``titles`` a list of article titles or ids (or one), and
    ``since``/``until`` dates; anything else is a ``SearchOptionError``."""
    if titles is None or titles == "":
        names: Sequence[object] = ()
    elif isinstance(titles, str):
        names = (titles,)
    elif isinstance(titles, list | tuple):
        names = titles
    else:
        raise SearchOptionError("articles must be a list of article titles or ids.")
    if len(names) > MAX_FILTER_TITLES:
        raise SearchOptionError(f"Filter on at most {MAX_FILTER_TITLES} articles at a time.")
    for name in names:
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_FILTER_CHARS:
            raise SearchOptionError(
                f"Each article to filter on must be a title or id of 1 to {MAX_FILTER_CHARS} "
                f"characters; got {str(name)[:40]!r}."
            )
    for label, value in (("since", since), ("until", until)):
        if value is not None and (not isinstance(value, str) or len(value) > MAX_FILTER_CHARS):
            raise SearchOptionError(f"{label} must be a date such as 2024-03-31.")
    return make_filters(
        articles=[str(name) for name in names],
        since=since if isinstance(since, str) else None,
        until=until if isinstance(until, str) else None,
    )
