"""What a set of filters leaves to search: the web UI's scope chip and the message when nothing
is left ("No article is dated from 2030-01-01; 3 of the 12 articles have no date...").

``Filters`` are applied by the stores (SQL, Milvus expressions); ``matches`` is the same rule
over ``ArticleInfo`` rows, for counting (tests/test_scope.py checks the two agree).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.errors import NoMatchingArticlesError
from qa.types import ArticleInfo, Filters


def matches(article: ArticleInfo, filters: Filters) -> bool:
    """Whether the stores' filter keeps ``article``: one of the ids or titles (titles compared
    without case), under the source path, and dated within the range (undated articles are
    left out by any date bound)."""
    if filters.article_ids or filters.titles:
        titles = {title.lower() for title in filters.titles}
        if article.id not in filters.article_ids and article.title.lower() not in titles:
            return False
    if filters.source_prefix and not article.source.startswith(filters.source_prefix):
        return False
    day = (article.date or "")[:10]
    if filters.date_from and (not article.date or day < filters.date_from[:10]):
        return False
    return not (filters.date_to and (not article.date or day > filters.date_to[:10]))


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def dates_text(filters: Filters) -> str:
    """The date range in words: "since 2024-01-01", "until ...", "2024-01-01 to ..." or ""."""
    if filters.date_from and filters.date_to:
        return f"{filters.date_from} to {filters.date_to}"
    if filters.date_from:
        return f"since {filters.date_from}"
    if filters.date_to:
        return f"until {filters.date_to}"
    return ""


@dataclass(frozen=True)
class Scope:
    """How many of the index's articles ``filters`` leave, and how many have no date."""

    filters: Filters | None
    articles: int  # articles the filters keep
    total: int  # articles in the index
    undated: int  # articles without a date: a date range leaves them out

    @property
    def narrowed(self) -> bool:
        return self.filters is not None and not self.filters.empty

    def label(self) -> str:
        """The scope in a few words: "All articles", "3 articles since 2024-01-01"."""
        if not self.narrowed:
            return "All articles"
        assert self.filters is not None
        count = _plural(self.articles, "article") if self.articles else "No articles"
        dates = dates_text(self.filters)
        return f"{count} {dates}" if dates else count

    def nothing_left(self) -> str:
        """Why nothing can be searched: the filters, and the undated articles they leave out."""
        assert self.filters is not None
        said = []
        if self.filters.titles:
            said.append("named " + " or ".join(f'"{t}"' for t in self.filters.titles))
        ids = [i for i in self.filters.article_ids if i not in self.filters.titles]
        if ids:  # make_filters gives each name as a title too; Filters(article_ids=...) not
            said.append("with the id " + " or ".join(f'"{i}"' for i in ids))
        if self.filters.source_prefix:
            said.append(f"read from under {self.filters.source_prefix}")
        if dates_text(self.filters):
            said.append(f"dated {dates_text(self.filters)}")
        text = f"No article is {' and '.join(said)} (the index has {self.total:,})."
        if (self.filters.date_from or self.filters.date_to) and self.undated:
            text += (
                f" {_plural(self.undated, 'article')} {'has' if self.undated == 1 else 'have'} "
                "no date, and a date range leaves undated articles out."
            )
        return text + " Widen the filters or remove them."

    def require(self) -> None:
        """Raise ``NoMatchingArticlesError`` (with ``nothing_left``) when nothing is left."""
        if self.narrowed and self.total and not self.articles:
            raise NoMatchingArticlesError(self.nothing_left())


def scope_of(articles: Sequence[ArticleInfo], filters: Filters | None) -> Scope:
    kept = len(articles) if filters is None else sum(matches(a, filters) for a in articles)
    undated = sum(1 for a in articles if not a.date)
    return Scope(filters, kept, len(articles), undated)
