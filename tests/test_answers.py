"""Retrieval fusion, sentence choice, citations and follow-ups, on the fast hash embedder."""

from __future__ import annotations

import json

import pytest

from qa import (
    Answer,
    Assistant,
    Filters,
    IndexEmptyError,
    NoMatchingArticlesError,
    Passage,
    QAError,
    SearchOptionError,
    Turn,
)
from qa.lexical import content_words, fts_query, stem
from qa.pipeline.answer import NOT_FOUND, Candidate, choose, compose, overlap
from qa.pipeline.conversation import contextual_query, needs_context
from qa.pipeline.retrieval import fuse
from tests.conftest import source_text

ARTICLES = {
    "harbour.md": (
        "---\ntitle: Harbour storm\ndate: 2024-03-02\nurl: https://news.example/harbour\n---\n\n"
        "A storm closed the harbour of Port Ellis for three days in March. The harbour master, "
        "Ana Lima, reopened the harbour on Monday morning. Fishing boats returned at dawn.\n\n"
        "The ferry to Gull Island resumed service in the afternoon. Repairs to the pier will "
        "cost about two million euros, the council said."
    ),
    "concert.md": (
        "---\ntitle: Concert hall fire\ndate: 2023-11-20\n---\n\n"
        "A fire broke out at the Riverside concert hall during a rehearsal on Sunday. Nobody was "
        "hurt. A group of students claimed responsibility for the fireworks that started it.\n\n"
        "The concert hall will stay closed until January while the stage is rebuilt."
    ),
    "bridge.md": (
        "---\ntitle: New bridge\ndate: 2022-05-01\n---\n\n"
        "The new bridge over the Vale river opened in May. It is 420 metres long and carries "
        "a tram line. Engineers from Delft designed the bridge."
    ),
}


@pytest.fixture
def assistant(assistant_on_each_store: Assistant) -> Assistant:
    """Every retrieval and answer test here runs on the embedded store and on Milvus."""
    return assistant_on_each_store


@pytest.fixture
def filled(assistant: Assistant, write) -> Assistant:
    for name, text in ARTICLES.items():
        write(name, text)
    assert assistant.ingest([write.base]).ok
    return assistant


def test_fuse_mixes_z_scores_and_keeps_every_candidate() -> None:
    dense = {1: 0.9, 2: 0.5, 3: 0.4, 4: 0.1}
    keyword = {3: 20.0, 4: 1.0}  # chunks 1 and 2 had no keyword match: BM25 0
    ranked = fuse(dense, keyword, dense_weight=0.5, keyword_weight=0.5)
    assert [s.chunk_id for s in ranked] == [3, 1, 2, 4]
    assert ranked[0].keyword == 20.0 and ranked[1].keyword == 0.0
    assert [s.chunk_id for s in fuse(dense, keyword, 1.0, 0.0)] == [1, 2, 3, 4]
    assert [s.chunk_id for s in fuse(dense, keyword, 0.0, 1.0)][:2] == [3, 4]


def test_lexical_helpers() -> None:
    assert content_words("Who claimed the fire at the concert hall?") == [
        "claimed",
        "fire",
        "concert",
        "hall",
    ]
    assert stem("claimed") == stem("claims") == "claim"
    assert fts_query(['a"b', "c"]) == '"a""b" OR "c"'  # a quote inside a string is doubled
    assert fts_query(["c", ""]) == '"c"' and fts_query([]) is None
    assert overlap({"harbour", "reopen"}, "The harbour was reopened.") == 1.0


def test_search_returns_ranked_passages_with_exact_offsets(filled: Assistant) -> None:
    passages = filled.search("harbour master reopened", k=3)
    assert [p.rank for p in passages] == [1, 2, 3]
    assert passages[0].title == "Harbour storm"
    assert passages[0].url == "https://news.example/harbour"
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)
    for passage in passages:
        text = source_text(passage.source, passage.article_id)
        assert text[passage.start : passage.end] == passage.text


def test_filters_by_article_title_date_and_path(filled: Assistant, write) -> None:
    only = filled.search("harbour", k=5, filters=Filters(titles=("new bridge",)))
    assert {p.title for p in only} == {"New bridge"}
    recent = filled.search("harbour bridge concert", k=10, filters=Filters(date_from="2023-01-01"))
    assert {p.title for p in recent} == {"Harbour storm", "Concert hall fire"}
    old = filled.search("harbour bridge concert", k=10, filters=Filters(date_to="2022-12-31"))
    assert {p.title for p in old} == {"New bridge"}
    with pytest.raises(NoMatchingArticlesError, match='No article is with the id "no-such-id"'):
        filled.search("x", filters=Filters(article_ids=("no-such-id",)))  # not [] in silence
    folder = str(write.base.resolve())
    by_path = filled.search("harbour bridge", k=10, filters=Filters(source_prefix=folder + "/b"))
    assert {p.title for p in by_path} == {"New bridge"}
    (bridge_id,) = {p.article_id for p in by_path}
    either = Filters(article_ids=(bridge_id,), titles=("Concert hall fire",))
    assert {p.title for p in filled.search("harbour", k=10, filters=either)} == {
        "New bridge",
        "Concert hall fire",
    }


def test_ask_quotes_and_cites_exact_sentences(filled: Assistant) -> None:
    reply = filled.ask("Who reopened the harbour?")
    assert reply.found and reply.citations
    assert "Ana Lima" in reply.text
    assert [c.number for c in reply.citations] == list(range(1, len(reply.citations) + 1))
    chunk_ids = {p.chunk_id for p in reply.passages}
    sources = {p.article_id: p.source for p in reply.passages}
    for citation in reply.citations:
        text = source_text(sources[citation.article_id], citation.article_id)
        assert text[citation.start : citation.end] == citation.quote
        assert f"{citation.quote} [{citation.number}]" in reply.text
        assert citation.chunk_id in chunk_ids, "a citation must point into a retrieved passage"
    assert len({c.chunk_id for c in reply.citations}) == len(reply.citations)


def test_answer_to_dict_is_json(filled: Assistant) -> None:
    data = filled.ask("Who reopened the harbour?").to_dict()
    assert json.loads(json.dumps(data))["question"] == "Who reopened the harbour?"
    assert {"text", "found", "citations", "passages", "confidence"} <= set(data)
    assert {"number", "article_id", "title", "url", "quote", "start", "end", "score"} <= set(
        data["citations"][0]
    )


def test_unrelated_question_abstains(filled: Assistant) -> None:
    reply = filled.ask("Quantum chromodynamics lattice gauge theory")
    assert isinstance(reply, Answer)
    assert not reply.found and reply.citations == []
    assert reply.text.startswith(NOT_FOUND)


def test_follow_up_uses_the_previous_turn() -> None:
    history = [Turn("What happened at the concert hall?", "A fire broke out. [1]")]
    assert needs_context("Who claimed it?")
    assert "concert hall" in contextual_query("Who claimed it?", history)
    standalone = "Which engineers designed the new bridge over the Vale river?"
    assert not needs_context(standalone)
    assert contextual_query(standalone, history) == standalone


def test_follow_up_retrieves_the_earlier_topic(filled: Assistant) -> None:
    first = filled.ask("What happened at the concert hall?")
    history = [Turn(first.question, first.text)]
    with_history = filled.ask("Who claimed it?", history=history)
    assert with_history.passages[0].title == "Concert hall fire"
    assert "students" in with_history.text


def test_bad_questions_and_empty_index(assistant: Assistant) -> None:
    with pytest.raises(QAError, match="question is empty"):
        assistant.ask("   ")
    for k in (0, -1):
        with pytest.raises(SearchOptionError, match="at least 1"):
            assistant.search("bridge", k=k)
    for question in ("?!?..,;", "…"):  # punctuation alone asks nothing
        with pytest.raises(QAError, match="has no words"):
            assistant.ask(question)
        with pytest.raises(QAError, match="has no words"):
            assistant.search(question)
    with pytest.raises(IndexEmptyError, match="qa ingest"):
        assistant.ask("Anything?")


def passage(chunk_id: int, rank: int, text: str, start: int = 100) -> Passage:
    return Passage(chunk_id, f"a{chunk_id}", f"T{chunk_id}", None, None, "/x", text, start,
                   start + len(text), 1.0 / rank, rank, 0.5, 0.0)  # fmt: skip


def candidate(p: Passage, score: float, start: int = 0) -> Candidate:
    return Candidate(
        p, p.start + start, p.start + start + 5, p.text[start : start + 5], 0.5, 0.0, score
    )


def test_choose_takes_near_ties_from_other_passages_only() -> None:
    one, two, three = (
        passage(1, 1, "Alpha beta."),
        passage(2, 2, "Gamma delta."),
        passage(3, 3, "Eps."),
    )
    ranked = [
        candidate(one, 0.90),
        candidate(one, 0.89, 6),
        candidate(two, 0.86),
        candidate(three, 0.70),
    ]
    chosen = choose(ranked)
    assert [(c.passage.chunk_id, c.score) for c in chosen] == [(1, 0.90), (2, 0.86)]


def test_a_short_clause_cut_off_at_a_comma_or_colon_is_never_quoted(embedder) -> None:
    from qa.pipeline.answer import candidates

    cut = passage(
        1,
        1,
        "Tesla fed the pigeons. Tesla stated,\n\nAs he remembers:\n\nHe gave his reply on Monday:",
    )
    question = "What did Tesla state?"
    found = candidates(question, [cut], embedder, embedder.embed([question])[0])
    assert sorted(c.text for c in found) == [
        "He gave his reply on Monday:",
        "Tesla fed the pigeons.",
    ]


def test_compose_numbers_citations_in_order_with_offsets() -> None:
    one, two = passage(7, 1, "Alpha beta."), passage(3, 2, "Gamma delta.", start=40)
    reply = compose("q?", [candidate(one, 0.9), candidate(two, 0.8)], [one, two], 0.9)
    assert reply.text == "Alpha [1] Gamma [2]"
    assert [(c.number, c.chunk_id, c.start, c.end) for c in reply.citations] == [
        (1, 7, 100, 105),
        (2, 3, 40, 45),
    ]


def test_a_sentence_broken_across_lines_reads_as_one_line_and_its_quote_stays_exact() -> None:
    broken = passage(5, 1, "Uptake of O\n2 from\x0cair.")
    quoted = Candidate(broken, 100, 121, broken.text, 0.5, 0.0, 0.9)
    reply = compose("q?", [quoted], [broken], 0.9)
    assert reply.text == "Uptake of O 2 from air. [1]"
    assert reply.citations[0].quote == "Uptake of O\n2 from\x0cair."


def test_broken_index_is_a_clear_error(index_dir, embedder, write) -> None:
    from qa import IndexFormatError

    write("a.md", ARTICLES["bridge.md"])
    with Assistant.open(index_dir, embedder=embedder) as embedded:  # SQLite damage: embedded
        embedded.ingest([write.base])
    folder = index_dir
    (folder / "index.sqlite").write_bytes(b"this is not a database" * 100)
    for name in ("index.sqlite-wal", "index.sqlite-shm"):
        (folder / name).unlink(missing_ok=True)
    with pytest.raises(IndexFormatError, match="cannot be opened"):
        Assistant.open(folder, model="hash")
    (folder / "config.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(IndexFormatError, match="damaged"):
        Assistant.open(folder, model="hash")


def test_question_kinds_and_their_cues() -> None:
    from qa.pipeline.answer import cue_match, question_kind

    assert question_kind("When did the war end?") == "date"
    assert question_kind("In what year was the bridge built?") == "date"
    assert question_kind("How many people live in Paris?") == "number"
    assert question_kind("Who did Putin blame for the attack?") == "name"
    assert question_kind("What is the capital of France?") is None
    assert cue_match("date", "The war ended in 1945.", "When did the war end?") == 1.0
    assert cue_match("date", "The war ended badly.", "When did the war end?") == 0.0
    assert cue_match("number", "About 2 million people live there.", "How many?") == 1.0
    # A name the question already holds is no answer to "who".
    who = "Who did Putin blame for the attack?"
    assert cue_match("name", "In a speech, Putin spoke.", who) == 0.0
    assert cue_match("name", "In a speech, Putin blamed Kyiv.", who) == 1.0


def test_idf_weighted_overlap_prefers_the_rare_word() -> None:
    from qa.pipeline.answer import idf_weights, overlap

    weights = idf_weights({"war": 90, "treaty": 2}, documents=100)
    stems = {"war", "treaty"}
    assert overlap(stems, "The treaty was signed.", weights) > 0.5
    assert overlap(stems, "The war went on.", weights) < 0.5
    assert overlap(stems, "The war went on.") == 0.5  # without weights every word counts alike


def test_abstention_rule_uses_relative_scores_coverage_and_the_sentence() -> None:
    import dataclasses

    from qa.pipeline.answer import ABSTAIN_BELOW, confidence

    question = "When did the harbour storm sink the boats?"
    on_topic = passage(1, 1, "The harbour storm sank the boats in 1990.")
    off_topic = passage(2, 1, "A concert hall burned down last spring.")
    second = dataclasses.replace(passage(3, 2, "Something else entirely."), score=0.5)
    clear = [dataclasses.replace(on_topic, score=3.5), second]
    vague = [dataclasses.replace(off_topic, score=1.0), dataclasses.replace(second, score=0.9)]
    assert confidence(question, clear, 0.6) >= ABSTAIN_BELOW  # answers
    assert confidence(question, vague, 0.3) < ABSTAIN_BELOW  # abstains
    # The same passages with a sentence that does not match the question: less sure.
    assert confidence(question, vague, 0.05) < confidence(question, vague, 0.3)
    # Same coverage: a clear lead over the second passage makes it surer, not the level alone.
    close = [dataclasses.replace(on_topic, score=3.5), dataclasses.replace(second, score=3.4)]
    assert confidence(question, clear, 0.6) > confidence(question, close, 0.6)
    assert confidence(question, [], 0.9) == float("-inf")
