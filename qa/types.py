"""Plain, frozen data that flows out of article-qa (``to_dict`` gives JSON-ready dicts)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from qa.errors import FilterError
from qa.wording import plural


def now_iso() -> str:
    """The time now, as every record here writes it (``updated_at``): UTC, ISO 8601, whole
    seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def content_hash(title: str, text: str, metadata: dict[str, str]) -> str:
    """SHA-256 over everything that defines an article: equal hash means nothing to re-index."""
    payload = json.dumps([title, text, sorted(metadata.items())], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Article:
    """One article as read from a file or record.

    ``text`` is the exact text that chunks and citations point into, by character offsets.
    ``source`` is the absolute path of the file it came from.
    """

    id: str
    title: str
    text: str
    source: str
    url: str | None = None
    date: str | None = None
    author: str | None = None
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "content_hash", content_hash(self.title, self.text, self.metadata))

    @property
    def metadata(self) -> dict[str, str]:
        found = {"url": self.url, "date": self.date, "author": self.author}
        return {key: value for key, value in found.items() if value}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Chunk:
    """A window of an article: ``article.text[start:end] == text`` always holds."""

    article_id: str
    seq: int
    start: int
    end: int
    text: str
    tokens: int


@dataclass(frozen=True)
class ArticleInfo:
    """A row of ``qa list``."""

    id: str
    title: str
    source: str
    url: str | None
    date: str | None
    author: str | None
    chars: int
    chunks: int
    content_hash: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IngestFailure:
    """A file or record that was not ingested, and why (one line, names the file)."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IngestReport:
    """What one ``ingest`` call did. Lists hold article ids, except ``failed`` and ``skipped``."""

    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    failed: list[IngestFailure]
    skipped: list[str]
    chunks_embedded: int
    chunks_reused: int
    tokens_embedded: int
    seconds: float
    # Sentence vectors (sentence evidence): embedded now, or reused from the index by text.
    sentences_embedded: int = 0
    sentences_reused: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        line = (
            f"added {len(self.added)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, removed {len(self.removed)}, "
            f"failed {len(self.failed)}"
        )
        # The embedding progress bar counts chunks and sentences together: so does this line.
        reused = self.chunks_reused + self.sentences_reused
        return (
            f"{line} ({plural(self.chunks_embedded, 'chunk')} + "
            f"{plural(self.sentences_embedded, 'sentence')} embedded, {reused:,} reused, "
            f"{self.seconds:.1f} s)"
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


@dataclass(frozen=True)
class IndexStats:
    """What ``qa stats`` shows."""

    index_dir: str
    articles: int
    chunks: int
    tokens: int
    model: str | None
    dimension: int | None
    encoding: str
    chunk_tokens: int
    overlap_tokens: int
    vector_index: str | None
    size_bytes: int
    updated_at: str | None
    backend: str | None = None
    keyword_index: str = "fts5"
    store: str = "embedded"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Filters:
    """Narrow a search: to some articles (by id or exact title), a source path prefix, or a date
    range (ISO dates, inclusive; articles without a date are left out when a range is set)."""

    article_ids: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    source_prefix: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def __post_init__(self) -> None:
        # Checked where every way in builds one: a title given as one string would be read as
        # its letters, and a date that is not one would match nothing and say nothing.
        for name in ("article_ids", "titles"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            if not isinstance(value, tuple | list) or not all(isinstance(v, str) for v in value):
                raise FilterError(
                    f"Filters({name}=...) takes a list of strings; got {repr(value)[:60]}."
                )
            object.__setattr__(self, name, tuple(value))
        if self.source_prefix is not None and not isinstance(self.source_prefix, str):
            raise FilterError(
                f"Filters(source_prefix=...) takes a path as a string; got "
                f"{type(self.source_prefix).__name__}."
            )
        if self.date_from is not None or self.date_to is not None:
            from qa.dates import date_range

            start, stop = date_range(_day_text(self.date_from), _day_text(self.date_to))
            object.__setattr__(self, "date_from", start)
            object.__setattr__(self, "date_to", stop)

    @property
    def empty(self) -> bool:
        return not (
            self.article_ids or self.titles or self.source_prefix or self.date_from or self.date_to
        )


def _day_text(value: object) -> str | None:
    """A ``Filters`` date as text for ``qa.dates``: a ``datetime.date`` reads as its ISO day."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    raise FilterError(
        f"A Filters date must be text such as 2024-03-01 (or a datetime.date); got "
        f"{type(value).__name__}."
    )


def make_filters(
    articles: Sequence[str] = (),
    titles: Sequence[str] = (),
    source: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Filters | None:
    """Filters from what a user typed (CLI options, UI fields), or None when nothing narrows.

    ``articles`` match by id or exact title; ``source`` is a path (made absolute here);
    ``since`` and ``until`` are read by ``qa.dates.date_range`` ("2024-03-01", "2024-03",
    "2024", "last year"...), and a date that is not one is a ``FilterError``."""
    from pathlib import Path

    from qa.dates import date_range

    date_from, date_to = date_range(since, until)
    filters = Filters(
        article_ids=tuple(articles),
        titles=tuple(articles) + tuple(titles),
        source_prefix=str(Path(source).expanduser().resolve()) if source else None,
        date_from=date_from,
        date_to=date_to,
    )
    return None if filters.empty else filters


@dataclass(frozen=True)
class PassageRow:
    """A stored chunk with what a citation needs: its article, and its place in the article's
    text (``text`` is ``article.text[start:end]``). Stores return these by chunk id."""

    chunk_id: int
    article_id: str
    title: str
    url: str | None
    date: str | None
    source: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Passage(PassageRow):
    """A retrieved chunk: its ``PassageRow`` and how it ranked."""

    score: float  # fused relevance: higher is better, comparable within one search only
    rank: int  # 1 = best
    dense_score: float  # cosine similarity of question and chunk
    keyword_score: float  # BM25 (0 when no keyword matched)
    # The reader's probability that the passage's best sentence answers the question (search
    # mode "reader"; None when the reader did not read this passage).
    reader_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """Answer sentence ``[number]``: ``quote`` is ``article.text[start:end]``, word for word."""

    number: int
    article_id: str
    title: str
    url: str | None
    quote: str
    start: int
    end: int
    score: float
    chunk_id: int
    page: int | None = None  # 1-based page of ``start``, for articles read from a PDF

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Excerpt:
    """``article.text[start:end]`` of one article (``Assistant.excerpt``), word for word;
    ``page`` is the 1-based page of ``start`` for an article read from a PDF."""

    article_id: str
    title: str
    url: str | None
    source: str
    text: str
    start: int
    end: int
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation, for follow-up questions."""

    question: str
    answer: str = ""
    # The article the answer quoted first: a follow-up may be about it (None: the answer
    # abstained, or the turn was rebuilt from text alone, as the OpenAI-style endpoint does).
    article_id: str | None = None
    # The question respelled that an abstention offered ("Did you mean ...?"): a "yes" next
    # asks it (qa.pipeline.courtesy.accepted).
    suggested: str | None = None

    @classmethod
    def of(cls, reply: Answer) -> Turn:
        """The turn to pass as history after ``reply`` (what the chat passes back)."""
        if not reply.found:
            return cls(reply.question, suggested=reply.suggested)
        first = reply.citations[0].article_id if reply.citations else None
        return cls(reply.question, reply.text, first)


@dataclass(frozen=True)
class SentenceCheck:
    """One sentence of a generated answer and what the support check found for it.

    ``cited`` holds the passage numbers the model wrote after it (as given, valid or not);
    ``citation`` is the number of the ``Citation`` that now supports it (None when unsupported,
    and then the sentence is left out of the answer text). ``score`` is the support score of its
    best quote (the verifier's probability of "supports", or cosine + word overlap with
    ``--check cosine``; see qa/llm/check.py).
    """

    text: str
    cited: list[int]
    supported: bool
    score: float
    citation: int | None = None
    quote: str = ""  # the supporting quote, or the contradicting one when ``refuted``
    reattributed: bool = False
    refuted: bool = False  # the verifier found the quote contradicts the sentence

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """A short answer built from quoted source sentences, each followed by its ``[n]``.

    When ``found`` is False the text says the articles don't answer the question, there are no
    citations, and ``passages`` holds the closest passages as "possibly related".
    """

    question: str
    text: str
    found: bool
    citations: list[Citation]
    passages: list[Passage]
    confidence: float
    # "extractive" (quoted sentences) or "generative" (a language model wrote it, checked).
    mode: str = "extractive"
    model: str | None = None  # the language model, for generative answers
    sentences: list[SentenceCheck] = field(default_factory=list)  # generative: every sentence
    notice: str | None = None  # why a generative answer fell back to extractive, if it did
    # The question's names that no indexed article mentions (the reader abstains more readily).
    unmentioned: list[str] = field(default_factory=list)
    # The question with such a name respelled as the articles write it ("Ghengis" -> "Genghis"),
    # offered when it abstains (qa.pipeline.spelling); None otherwise.
    suggested: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
