"""Clean quotes (issue 28, point 8): a heading is never part of a quoted sentence, and web
leftovers such as "( listen)" and pronunciations stay in the text but not in the quote shown,
with offsets that still map back exactly."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from embeddings import HashEmbedder
from qa import Assistant
from qa.pipeline.chunking import Chunker, blocks
from qa.pipeline.quotes import clean_quote, quote_pieces
from qa.pipeline.readers.pdf import reflow
from qa.pipeline.sentences import split_sentences
from qa.pipeline.tokens import token_counter

WARSAW = (
    "Warsaw (Polish: Warszawa [varˈʂava] ( listen); see also other names) is the capital and "
    "largest city of Poland."
)
ARTEFACTS = ["( listen)", "(listen)", "[varˈʂava]", "/vɑːrˈʃɑːvə/", "(help·info)", "[ˈwɔːrsɔː]"]
WORDS = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP0123456789.,;:'-", min_size=1,
            max_size=12),
    min_size=1, max_size=30,
)  # fmt: skip


def test_a_wikipedia_quote_is_shown_without_its_leftovers() -> None:
    assert clean_quote(WARSAW) == (
        "Warsaw (Polish: Warszawa; see also other names) is the capital and largest city of Poland."
    )
    pronounced = "Warsaw (/ˈwɔːrsɔː/ WOR-saw; Polish: Warszawa [varˈʂava] ( listen)) is a city."
    assert clean_quote(pronounced) == "Warsaw (WOR-saw; Polish: Warszawa) is a city."
    for prose in ("Speed: 30 km/h, see [1] and (listen to this).", "Rock and/or roll [sic]."):
        assert clean_quote(prose) == prose  # brackets and slashes of prose stay


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"ab ()[]/\nˈə:;,.", "listen"]), max_size=60).map("".join))
@example("[/]ˈa/]")  # a "/.../" reaching into a "[...]" once left out the word "a"
def test_pieces_are_exact_slices_and_the_quote_is_made_of_them(text: str) -> None:
    pieces = quote_pieces(text)
    position = 0
    for start, end in pieces:
        assert position <= start < end <= len(text)
        position = end
    assert clean_quote(text) == " ".join("".join(text[a:b] for a, b in pieces).split())
    # What is left out is only leftovers, brackets and white space: never a word.
    ends = [0] + [end for _, end in pieces]
    starts = [start for start, _ in pieces] + [len(text)]
    gaps = "".join(text[a:b] for a, b in zip(ends, starts, strict=True))
    assert not re.search(r"[ab,.;:]", re.sub(r"listen|\[[^\]]*\]|/[^/]*/", "", gaps))


@settings(max_examples=100, deadline=None)
@given(WORDS, st.lists(st.tuples(st.integers(0, 30), st.sampled_from(ARTEFACTS)), max_size=3))
def test_leftovers_inserted_anywhere_between_words_are_not_shown(
    words: list[str], inserted: list[tuple[int, str]]
) -> None:
    plain = " ".join(words)
    assert clean_quote(plain) == plain  # prose without brackets loses nothing
    with_leftovers = list(words)
    for where, artefact in sorted(inserted, reverse=True):
        with_leftovers.insert(min(where, len(with_leftovers)), artefact)
    noisy = " ".join(with_leftovers)
    assert clean_quote(noisy) == plain
    assert clean_quote(clean_quote(noisy)) == clean_quote(noisy)


def test_a_heading_inside_a_paragraph_is_its_own_span_never_part_of_a_sentence() -> None:
    text = "The plant ran for years.\nOutlook\nThe operator plans a second line."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "The plant ran for years.",
        "Outlook",
        "The operator plans a second line.",
    ]
    assert [h for *_, h in blocks(text)] == [None, "Outlook", None]  # the chunker's context
    # Not taken for headings: prose wrapped short, and a list of short lines.
    for prose in (
        "A storm closed the harbour.\nAna Lima reopened the\nHarbour on Monday.",
        "We visited three cities.\nWarsaw\nKrakow\nGdansk",
    ):
        assert all(h is None for *_, h in blocks(prose))


def test_a_pdf_heading_is_not_glued_to_the_next_sentence() -> None:
    body = "The operator plans a second line in 2026, which should double the output of"
    lines = ["The plant ran for years and produced a great deal of steel for the region.",
             "Outlook", body, "the plant by the end of the decade."]  # fmt: skip
    assert reflow(lines) == [lines[0], "Outlook", f"{body} the plant by the end of the decade."]
    listed = ["We visited three cities on this long journey through the country last year.",
              "Warsaw", "Krakow", "Gdansk"]  # fmt: skip
    assert reflow(listed) == [" ".join(listed)]  # a list stays text


def test_the_answer_quotes_the_sentence_without_the_heading(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (
        "# Steel plant\n\nThe plant in the valley ran for forty years and employed many people.\n"
        "Outlook\nThe operator plans a second furnace line for the valley plant next spring.\n"
    )
    (tmp_path / "plant.md").write_text(text, encoding="utf-8")
    with Assistant.open(tmp_path / "index", embedder=HashEmbedder()) as assistant:
        assert assistant.ingest([tmp_path / "plant.md"]).ok
        reply = assistant.ask("What does the operator plan for the valley plant?")
    assert reply.found
    assert all("Outlook" not in c.quote for c in reply.citations)
    assert any(c.quote.startswith("The operator plans") for c in reply.citations)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["The plant ran.", "Outlook", "Ana Lima reopened the", "Warsaw",
                             "# Heading", "Harbour on Monday.", "x" * 30, "Mr. A. B. went."]),
            st.text(alphabet="abc ABC.\n", max_size=40),
        ),
        max_size=20,
    ).map("\n".join)
)  # fmt: skip
def test_offsets_round_trip_and_headings_stay_out_of_chunks_and_sentences(text: str) -> None:
    spans = Chunker(token_counter(), 40, 8).split(text)
    headings = [(a, b) for a, b, h in blocks(text) if h is not None]
    if len(headings) == len(blocks(text)):
        headings = []  # only heading-like lines: they are indexed as text
    for span in spans:
        chunk = text[span.start : span.end]
        assert chunk.strip() == chunk and chunk
        for a, b in headings:
            assert b <= span.start or a >= span.end, "a heading is never inside a chunk"
        for a, b in split_sentences(chunk):
            start, end = span.start + a, span.start + b
            assert text[start:end] == chunk[a:b]
            for h_start, h_end in headings:
                assert end <= h_start or start >= h_end
