"""Chunk windows: exact offsets, token budgets, overlap, and the model's own limit."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings import HashEmbedder
from qa.pipeline.chunking import Chunker, blocks, embedding_text, heading_text
from qa.pipeline.sentences import split_sentences
from qa.pipeline.tokens import get_encoding, token_counter

count_tokens = token_counter()

SENTENCE = "The quick brown fox number {n} jumps over the lazy dog near the river bank. "


def tiktoken_chunker(**kw: int) -> Chunker:
    return Chunker(count_tokens, **kw)


def test_sentences_keep_exact_offsets_and_skip_abbreviations() -> None:
    text = "Dr. Smith met J. R. Tolkien in the U.S. Army! Was it 1945?\n\n# Next\nNew part."
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == [
        "Dr. Smith met J. R. Tolkien in the U.S. Army!",
        "Was it 1945?",
        "# Next",
        "New part.",
    ]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=3000))
def test_sentence_spans_are_ordered_trimmed_slices(text: str) -> None:
    previous_end = 0
    for start, end in split_sentences(text):
        assert previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip()
        previous_end = end


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=400),
            st.sampled_from([". ", "\n\n", "! ", "x" * 700, "Mr. A. B. ", "word " * 90]),
        ),
        max_size=25,
    ).map("".join)
)
def test_chunks_slice_text_exactly_and_fit_the_model(text: str) -> None:
    embedder = HashEmbedder(max_tokens=40)
    chunker = Chunker(count_tokens, 60, 10, model_tokens=embedder.count_tokens, model_max_tokens=40)
    spans = chunker.split(text, title="A title")
    inside = set()
    for span in spans:
        piece = text[span.start : span.end]
        assert piece.strip()
        fits = embedder.count_tokens([embedding_text("A title", piece, span.heading)])[0] <= 40
        assert fits or len(piece) == 1
        inside.update(range(span.start, span.end))
    found = blocks(text)
    headings = [(a, b) for a, b, heading in found if heading is not None]
    if len(headings) == len(found):
        headings = []  # only heading-like lines: they are indexed as text
    for start, end in headings:
        assert not inside & set(range(start, end)), "a heading is never inside a chunk"
        inside.update(range(start, end))
    # Nothing is dropped: every non-space character lies in some chunk or is a heading.
    assert all(i in inside for i, char in enumerate(text) if not char.isspace())


def test_windows_respect_chunk_tokens_and_overlap() -> None:
    text = "".join(SENTENCE.format(n=n) for n in range(60))
    spans = tiktoken_chunker(chunk_tokens=100, overlap_tokens=20).split(text)
    assert len(spans) > 5
    for span in spans:
        assert count_tokens(text[span.start : span.end]) <= 100
    for before, after in itertools.pairwise(spans):
        assert after.start < before.end, "neighbouring chunks share their boundary sentence"
        assert after.start > before.start, "every chunk moves forward"
        shared = count_tokens(text[after.start : before.end])
        assert 0 < shared <= 20


def test_no_overlap_when_asked() -> None:
    text = "".join(SENTENCE.format(n=n) for n in range(30))
    spans = tiktoken_chunker(chunk_tokens=60, overlap_tokens=0).split(text)
    for before, after in itertools.pairwise(spans):
        assert after.start >= before.end


def test_short_text_is_one_chunk() -> None:
    text = "One sentence only."
    spans = tiktoken_chunker().split(text)
    assert [(s.start, s.end) for s in spans] == [(0, len(text))]


def test_sentence_longer_than_a_window_is_cut_at_words() -> None:
    text = "word " * 500 + "end."
    spans = tiktoken_chunker(chunk_tokens=50, overlap_tokens=0).split(text)
    assert len(spans) >= 10
    for span in spans:
        piece = text[span.start : span.end]
        assert count_tokens(piece) <= 50
        assert not piece.startswith(" ") and not piece.endswith(" ")


def test_model_limit_splits_chunks_the_window_allows() -> None:
    # 200 tiktoken tokens fit the window, but the (fake) model takes only 30 tokens: no chunk
    # may be longer than that, since the model would silently cut the rest.
    embedder = HashEmbedder(max_tokens=30)
    text = "".join(SENTENCE.format(n=n) for n in range(20))
    plain = tiktoken_chunker(chunk_tokens=200, overlap_tokens=0).split(text)
    fitted = Chunker(
        count_tokens, 200, 0, model_tokens=embedder.count_tokens, model_max_tokens=30
    ).split(text, title="Foxes")
    assert len(fitted) > len(plain)
    for span in fitted:
        assert (
            embedder.count_tokens([embedding_text("Foxes", text[span.start : span.end])])[0] <= 30
        )


def test_bad_parameters_are_named() -> None:
    import pytest

    with pytest.raises(ValueError, match="overlap_tokens"):
        Chunker(count_tokens, 100, 100)
    with pytest.raises(ValueError, match="chunk_tokens"):
        Chunker(count_tokens, 2, 0)


def test_cl100k_loads_offline_and_matches_known_ids() -> None:
    # Known cl100k_base ids: the vocabulary is the real one, loaded from the shipped file.
    assert get_encoding("cl100k_base").encode("hello world") == [15339, 1917]


PARAGRAPH = "The council met on Monday to discuss the budget for the coming year in detail. "


def test_a_chunk_never_spans_a_paragraph_break_when_paragraphs_are_long() -> None:
    first, second = PARAGRAPH * 3, "Rain fell across the valley for a week without end. " * 3
    text = f"{first.strip()}\n\n{second.strip()}"
    spans = tiktoken_chunker(chunk_tokens=60, overlap_tokens=0).split(text)
    assert [text[s.start : s.end] for s in spans] == [first.strip(), second.strip()]


def test_short_paragraphs_of_one_section_merge_up_to_the_window() -> None:
    paragraphs = [f"Short paragraph number {n} says one thing." for n in range(6)]
    text = "\n\n".join(paragraphs)
    spans = tiktoken_chunker(chunk_tokens=30, overlap_tokens=5).split(text)
    assert len(spans) < len(paragraphs)  # merged
    for span in spans:
        piece = text[span.start : span.end]
        assert count_tokens(piece) <= 30
        # whole paragraphs only: a merged chunk starts and ends on a paragraph's edge
        assert piece.startswith("Short") and piece.endswith("thing.")
    assert "".join(text[s.start : s.end] for s in spans).count("Short") == 6  # no overlap


def test_long_paragraph_is_cut_on_sentences_with_overlap_inside_it() -> None:
    text = "".join(SENTENCE.format(n=n) for n in range(20)).strip() + "\n\nNext paragraph."
    spans = tiktoken_chunker(chunk_tokens=60, overlap_tokens=20).split(text)
    assert text[spans[-1].start : spans[-1].end] == "Next paragraph."
    body = spans[:-1]
    assert len(body) > 2
    for before, after in itertools.pairwise(body):
        assert after.start < before.end  # overlap inside the paragraph
    assert all("\n" not in text[s.start : s.end] for s in body)


def test_headings_are_context_never_chunk_text() -> None:
    text = (
        "# Kremlin speech\n\nPutin spoke on television for an hour.\n\n"
        "Blame game\nIn a televised speech, Putin blamed Kyiv for the attack.\n\n"
        "## Aftermath\nMarkets fell on the news."
    )
    spans = tiktoken_chunker(chunk_tokens=200).split(text, title="News")
    assert [(text[s.start : s.end], s.heading) for s in spans] == [
        ("Putin spoke on television for an hour.", "Kremlin speech"),
        ("In a televised speech, Putin blamed Kyiv for the attack.", "Blame game"),
        ("Markets fell on the news.", "Aftermath"),
    ]
    assert embedding_text("News", "x", "Blame game") == "News › Blame game\nx"
    assert embedding_text("News", "x", "News") == "News\nx"  # a heading repeating the title
    assert embedding_text("", "x", "") == "x"


def test_what_counts_as_a_heading() -> None:
    assert heading_text("## Results ##") == "Results"
    assert heading_text("Blame game") == "Blame game"
    assert heading_text("The end of the story.") is None  # final punctuation: a sentence
    assert heading_text("lower case start") is None
    assert (
        heading_text("A line that goes on with far too many words to be a heading at all") is None
    )
    # A wrapped line of prose is not a heading: the next line does not start a new sentence.
    wrapped = "Officials said the storm\nwould reach the coast by night."
    assert all(heading is None for *_, heading in blocks(wrapped))


def test_a_text_of_heading_like_lines_is_still_indexed() -> None:
    text = "Alice Smith\n\nBob Jones"
    spans = tiktoken_chunker().split(text)
    assert [text[s.start : s.end] for s in spans] == ["Alice Smith\n\nBob Jones"]
