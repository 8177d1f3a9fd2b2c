"""Cut an article into chunks that follow its paragraphs and headings, with exact offsets.

A chunk never spans a paragraph break or a heading: one vector for two topics matches neither
(dense R@1 on SQuAD dev went from .538 on 200-token windows packed across paragraphs to .6+ on
paragraph chunks, benchmarks/quality_research/harness.py). Consecutive short paragraphs of one
section are merged up to ``chunk_tokens`` tiktoken tokens; a longer paragraph is cut into windows on
sentence boundaries that repeat up to ``overlap_tokens`` of the previous window's last sentences,
so an answer that straddles a cut is still whole in one chunk.

Headings (Markdown ``#`` lines, or short lines without final punctuation where a heading
stands: qa/pipeline/headings.py) are never part of a chunk; they become the chunk's context.
The embedding model sees ``embedding_text(title, chunk, heading)``; every chunk is checked
against the model's own tokenizer and split further until it fits, so the model never
truncates silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# heading_text is re-exported: qa/pipeline/answer.py imports it from here.
from qa.pipeline.headings import heading_lines
from qa.pipeline.headings import heading_text as heading_text
from qa.pipeline.sentences import split_sentences

DEFAULT_CHUNK_TOKENS = 200
DEFAULT_OVERLAP_TOKENS = 40
MIN_CHUNK_TOKENS = 8
# Titles are prepended to the embedded text (it helps retrieval); cap their share of the window.
TITLE_CHARS = 120
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def embedding_text(title: str, text: str, heading: str = "") -> str:
    """What the embedding model reads for a chunk: ``title › heading``, then the chunk."""
    title = title.strip()[:TITLE_CHARS]
    heading = heading.strip()[:TITLE_CHARS]
    parts = [title] if title else []
    if heading and heading != title:  # an article's first line often repeats its title
        parts.append(heading)
    context = " › ".join(parts)
    return f"{context}\n{text}" if context else text


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    tokens: int
    heading: str = ""  # the section heading the chunk sits under ("" before any heading)


def blocks(text: str) -> list[tuple[int, int, str | None]]:
    """Paragraphs and headings of ``text`` in order: (start, end, heading text or None).

    A paragraph ends at a blank line; its headings are found by ``heading_lines``
    (qa/pipeline/headings.py): a Markdown ``#`` line anywhere, a paragraph that is one short
    line without final punctuation, such a line opening a paragraph when the next line starts
    with a capital (a heading glued to its text: "Blame game\nIn a ..."), or standing between
    a sentence's end and a capital inside one ("...years.\nOutlook\nThe operator...").
    """
    found: list[tuple[int, int, str | None]] = []
    start = 0
    ends = [(m.start(), m.end()) for m in _PARAGRAPH_BREAK.finditer(text)] + [
        (len(text), len(text))
    ]
    for end, following in ends:
        found.extend(_split_block(text, start, end))
        start = following
    return found


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int, str | None]]:
    out: list[tuple[int, int, str | None]] = []
    position = start
    for a, b, heading in heading_lines(text, start, end):
        body = _trim(text, position, a)
        if body:
            out.append((body[0], body[1], None))
        out.append((a, b, heading))
        position = b
    body = _trim(text, position, end)
    if body:
        out.append((body[0], body[1], None))
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


class Chunker:
    """``Chunker(count_tokens, chunk_tokens=200, overlap_tokens=40, model_tokens=…)``.

    ``count_tokens(text)`` counts tiktoken tokens (the window size unit). ``model_tokens(texts)``
    counts the embedding model's tokens, special tokens included, and ``model_max_tokens`` is the
    model's limit; leave them out to skip the check (tests of window logic only).
    """

    def __init__(
        self,
        count_tokens: Callable[[str], int],
        chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
        overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
        model_tokens: Callable[[list[str]], list[int]] | None = None,
        model_max_tokens: int | None = None,
    ) -> None:
        if chunk_tokens < MIN_CHUNK_TOKENS:
            raise ValueError(
                f"chunk_tokens must be at least {MIN_CHUNK_TOKENS}. Currently, it is {chunk_tokens}"
            )
        if not 0 <= overlap_tokens < chunk_tokens:
            raise ValueError(
                "overlap_tokens must be at least 0 and less than chunk_tokens. Currently, "
                f"overlap_tokens is {overlap_tokens} and chunk_tokens is {chunk_tokens}"
            )
        self.count_tokens = count_tokens
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self.model_tokens = model_tokens
        self.model_max_tokens = model_max_tokens

    def split(self, text: str, title: str = "") -> list[Span]:
        """Chunk spans of ``text``, in order; ``text[span.start:span.end]`` is each chunk."""
        spans: list[Span] = []
        heading = ""
        group: list[Span] = []  # short paragraphs of the current section, to merge

        def flush() -> None:
            if group:
                spans.append(Span(group[0].start, group[-1].end, 0, heading))
                group.clear()

        found = blocks(text)
        if all(section is not None for *_, section in found):
            # Only heading-like lines (a list of names, a one-line note): they are the content.
            found = [(start, end, None) for start, end, _ in found]
        for start, end, title_of_section in found:
            if title_of_section is not None:
                flush()
                heading = title_of_section
                continue
            units = [
                piece
                for a, b in split_sentences(text[start:end])
                for piece in self._units(text, start + a, start + b)
            ]
            size = sum(u.tokens for u in units)
            if size > self.chunk_tokens:
                flush()
                spans.extend(Span(w[0].start, w[-1].end, 0, heading) for w in self._pack(units))
                continue
            if group and sum(g.tokens for g in group) + size > self.chunk_tokens:
                flush()
            group.append(Span(start, end, size))
        flush()
        if self.model_tokens is not None and self.model_max_tokens is not None:
            spans = self._fit_model(text, title, spans)
        return [
            Span(s.start, s.end, self.count_tokens(text[s.start : s.end]), s.heading) for s in spans
        ]

    def _units(self, text: str, start: int, end: int) -> list[Span]:
        """A sentence as one unit, or cut at word boundaries if it alone exceeds a window."""
        tokens = self.count_tokens(text[start:end])
        if tokens <= self.chunk_tokens:
            return [Span(start, end, tokens)]
        return self._cut_words(text, start, end, self.chunk_tokens)

    def _cut_words(self, text: str, start: int, end: int, limit: int) -> list[Span]:
        pieces: list[Span] = []
        piece_start, piece_tokens, last_end = start, 0, start
        for word in re.finditer(r"\S+", text[start:end]):
            w_start, w_end = start + word.start(), start + word.end()
            w_tokens = self.count_tokens(text[w_start:w_end])
            if w_tokens > limit:  # one unbroken "word" longer than a window: cut by characters
                if piece_tokens:
                    pieces.append(Span(piece_start, last_end, piece_tokens))
                pieces.extend(self._cut_chars(text, w_start, w_end, limit))
                piece_start, piece_tokens, last_end = w_end, 0, w_end
                continue
            if piece_tokens and piece_tokens + w_tokens > limit:
                pieces.append(Span(piece_start, last_end, piece_tokens))
                piece_start, piece_tokens = w_start, 0
            piece_tokens += w_tokens
            last_end = w_end
        if piece_tokens:
            pieces.append(Span(piece_start, last_end, piece_tokens))
        return pieces

    def _cut_chars(self, text: str, start: int, end: int, limit: int) -> list[Span]:
        tokens = self.count_tokens(text[start:end])
        if tokens <= limit or end - start <= 1:
            return [Span(start, end, tokens)]
        middle = (start + end) // 2
        return self._cut_chars(text, start, middle, limit) + self._cut_chars(
            text, middle, end, limit
        )

    def _pack(self, units: list[Span]) -> list[list[Span]]:
        """Greedy windows of whole units; each new window starts with the previous one's tail."""
        windows: list[list[Span]] = []
        current: list[Span] = []
        fresh = 0  # units in `current` that no earlier window holds
        for unit in units:
            size = sum(u.tokens for u in current)
            if current and fresh and size + unit.tokens > self.chunk_tokens:
                windows.append(current)
                current = self._overlap_tail(current, self.chunk_tokens - unit.tokens)
                fresh = 0
            current.append(unit)
            fresh += 1
        if current and fresh:
            windows.append(current)
        return windows

    def _overlap_tail(self, window: list[Span], room: int) -> list[Span]:
        tail: list[Span] = []
        budget = min(self.overlap_tokens, room)
        for unit in reversed(window[1:]):  # never repeat a whole window
            if unit.tokens > budget:
                break
            tail.insert(0, unit)
            budget -= unit.tokens
        return tail

    def _fit_model(self, text: str, title: str, spans: list[Span]) -> list[Span]:
        """Split any span whose embedding text exceeds the model's limit, until all fit."""
        assert self.model_tokens is not None and self.model_max_tokens is not None
        limit = self.model_max_tokens
        pending = spans
        fitted: dict[tuple[int, int], Span] = {}
        while pending:
            counts = self.model_tokens(
                [embedding_text(title, text[s.start : s.end], s.heading) for s in pending]
            )
            retry: list[Span] = []
            for span, count in zip(pending, counts, strict=True):
                if count <= limit or span.end - span.start <= 1:
                    fitted[(span.start, span.end)] = span
                else:
                    retry.extend(
                        Span(h.start, h.end, 0, span.heading) for h in self._halve(text, span)
                    )
            pending = retry
        return sorted(fitted.values(), key=lambda s: (s.start, s.end))

    def _halve(self, text: str, span: Span) -> list[Span]:
        """Two halves of a span, cut on a sentence or word boundary where there is one."""
        inner = [
            (span.start + a, span.start + b)
            for a, b in split_sentences(text[span.start : span.end])
        ]
        if len(inner) > 1:
            middle = len(inner) // 2
            return [
                Span(inner[0][0], inner[middle - 1][1], 0),
                Span(inner[middle][0], inner[-1][1], 0),
            ]
        words = [m.start() for m in re.finditer(r"\S+", text[span.start : span.end])]
        if len(words) > 1:
            cut = span.start + words[len(words) // 2]
            first_end = cut
            while first_end > span.start and text[first_end - 1].isspace():
                first_end -= 1
            return [Span(span.start, first_end, 0), Span(cut, span.end, 0)]
        middle = (span.start + span.end) // 2
        return [Span(span.start, middle, 0), Span(middle, span.end, 0)]
