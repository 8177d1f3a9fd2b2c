""" "Who was Ada Lovelace?" quotes her article's first sentence (qa.pipeline.definitions)."""

from __future__ import annotations

from typing import Any

import pytest

from qa import Assistant, Filters
from qa.pipeline.definitions import defined_article, lead_passage, subject

LEAD = (
    "Ada Lovelace was an English mathematician and writer, chiefly known for her work on "
    "Charles Babbage's proposed mechanical general-purpose computer, the Analytical Engine."
)
ADA = (
    "# Ada Lovelace\n\n"
    f"{LEAD} She was the first to recognise that the machine had applications beyond pure "
    "calculation.\n\n"
    + "\n\n".join(
        f"In {1835 + n}, Ada Lovelace wrote letter number {n} to a friend about music and "
        f"mathematics. This letter impressed Ada Lovelace's mother."
        for n in range(12)
    )
)
BABBAGE = (
    "# Charles Babbage\n\n"
    "Charles Babbage was an English polymath who originated the concept of a digital "
    "programmable computer. Ada Lovelace translated a paper on his engine."
)
STORM = (
    "# Harbour storm\n\n"
    "It was a wild night on the coast. The harbour storm of 2024 sank four boats and closed "
    "the port for a week."
)


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("Who was Ada Lovelace?", ["ada", "lovelace"]),
        ("what's the Rhine", ["rhine"]),
        ("Tell me about the steam engine.", ["steam", "engine"]),
        ("What do you know about oxygen?", ["oxygen"]),
        ("Describe packet switching", ["packet", "switching"]),
        ("tesla", ["tesla"]),  # a name alone
        ("Genghis Khan", ["genghis", "khan"]),
    ],
)
def test_the_subject_of_a_question_that_asks_what_something_is(
    question: str, words: list[str]
) -> None:
    assert subject(question) == words


@pytest.mark.parametrize(
    "question",
    [
        "Did it rain?",  # a question without "what is": no name alone
        "the boats sank in the harbour",  # a sentence, not a name
        "What is the name of the river that flows through the old town?",  # too long a subject
    ],
)
def test_other_questions_have_no_subject(question: str) -> None:
    assert subject(question) is None


TITLES = {
    "tesla": "Nikola Tesla",
    "coil": "Tesla coil",
    "rhine": "Rhine",
    "steam": "Steam engine",
    "fed": "Fed raises rates again as inflation cools",
}


@pytest.mark.parametrize(
    ("question", "article"),
    [
        ("What is a Tesla coil?", "coil"),  # exactly one title
        ("Who was Nikola Tesla?", "tesla"),
        ("Who was Tesla?", None),  # names two titles, neither exactly
        ("What is the Rhine?", "rhine"),
        ("What are steam engines?", "steam"),  # a plural names the title
        ("What is steam?", "steam"),  # one title word left over
        ("What is the population of the Rhine?", None),  # asks a fact, names no title
        ("What is the Fed?", None),  # a headline is never named by its words
        ("Where is the Rhine?", None),  # not "what is"
    ],
)
def test_a_subject_names_one_title(question: str, article: str | None) -> None:
    assert defined_article(question, TITLES) == article


def test_who_was_quotes_the_first_sentence(assistant_on_each_store: Assistant, write: Any) -> None:
    assistant = assistant_on_each_store
    write("ada.md", ADA)
    write("babbage.md", BABBAGE)
    assert assistant.ingest([write.base]).ok
    for question in ("Who was Ada Lovelace?", "ada lovelace", "Tell me about Ada Lovelace."):
        reply = assistant.ask(question)
        assert reply.found, question
        assert [c.quote for c in reply.citations] == [LEAD], question
        first = reply.passages[0]
        assert (first.title, first.rank) == ("Ada Lovelace", 1)
        assert first.text.startswith(LEAD)
    # Within filters that leave her article out, her article is not quoted.
    scoped = assistant.ask("Who was Ada Lovelace?", filters=Filters(titles=("Charles Babbage",)))
    assert all(c.title == "Charles Babbage" for c in scoped.citations)


def test_the_first_passage_is_fetched_when_the_search_missed_it(
    assistant: Assistant, write: Any
) -> None:
    write("ada.md", ADA)
    assert assistant.ingest([write.base]).ok
    question = "Who was Ada Lovelace?"
    found = assistant.search(question, k=20)
    later = [p for p in found if not p.text.startswith(LEAD)]
    assert later  # the article has passages past its first
    vector = assistant.embedder.embed([question])[0]
    with assistant._snapshot():
        lead = lead_passage(
            question, later, assistant.catalog.chunk_ids, assistant.retriever.index, vector
        )
    assert lead is not None and lead.text.startswith(LEAD) and lead.start < later[0].start
    assert (lead.rank, lead.score, lead.keyword_score) == (1, later[0].score, 0.0)
    assert -1.0 <= lead.dense_score <= 1.0 and lead.dense_score != 0.0


def test_a_first_sentence_that_does_not_name_the_subject_is_not_quoted(
    assistant: Assistant, write: Any
) -> None:
    write("storm.md", STORM)
    assert assistant.ingest([write.base]).ok
    reply = assistant.ask("What was the harbour storm?")
    assert all("wild night" not in c.quote for c in reply.citations)
