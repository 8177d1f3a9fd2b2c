"""The reader stage (qa/pipeline/reader.py) on the hash embedder, with a scripted model.

The scripted model stands in for the trained cross-encoder: it gives a high logit to a sentence
holding a word the test names, so each test states which sentence a reader "knows" answers the
question and checks what the pipeline does with that: which sentence is quoted, how passages
are re-ranked, when the answer abstains, and what a conversation does. The shipped model itself
is tested in tests/test_reader_model.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from embeddings import HashEmbedder
from qa import Assistant, ModelError, Turn
from qa.pipeline import reader as stage
from qa.pipeline.answer import NOT_FOUND, Candidate
from qa.types import Filters, Passage
from tests.conftest import source_text

ARTICLES = {
    "attack.md": (
        "---\ntitle: Theatre attack\ndate: 2024-03-02\n---\n\n"
        "Gunmen attacked the Bataclan theatre in Paris on a Friday night in November. "
        "The militant group Islamic State claimed responsibility for the attack the next day. "
        "The theatre reopened a year later with a concert."
    ),
    "harbour.md": (
        "---\ntitle: Harbour storm\ndate: 2024-03-02\n---\n\n"
        "A storm closed the harbour of Port Ellis for three days in March. The harbour master, "
        "Ana Lima, reopened the harbour on Monday morning. Fishing boats returned at dawn."
    ),
    "bridge.md": (
        "---\ntitle: New bridge\ndate: 2022-05-01\n---\n\n"
        "The new bridge over the Vale river opened in May. It is 420 metres long and carries "
        "a tram line. Engineers from Delft designed the bridge."
    ),
}


class Scripted:
    """A reader that knows one word per question: sentences holding it get logit +4, others -4.
    Records what it was asked to read."""

    def __init__(self, knows: dict[str, str]) -> None:
        self.knows = knows
        self.read: list[tuple[str, str]] = []

    def answer_logits(self, questions: list[str], sentences: list[str]) -> np.ndarray:
        self.read += list(zip(questions, sentences, strict=True))
        out = []
        for question, sentence in zip(questions, sentences, strict=True):
            word = next((w for q, w in self.knows.items() if q in question), None)
            out.append(12.0 if word and word in sentence else -12.0)
        return np.array(out, dtype=np.float32)


@pytest.fixture
def docs(write) -> Path:
    for name, text in ARTICLES.items():
        write(name, text)
    return write.base


def open_with(index_dir: Path, docs: Path, model: object) -> Assistant:
    assistant = Assistant.open(index_dir, embedder=HashEmbedder(64, 128), reader=model)
    assert assistant.ingest([docs]).ok
    return assistant


def test_the_sentence_the_reader_knows_is_quoted_not_its_neighbour(
    index_dir: Path, docs: Path
) -> None:
    """The neighbour-sentence case: the venue's sentence shares the rare words, the next one
    answers; the reader's choice is what is quoted, with exact offsets."""
    model = Scripted({"claimed responsibility": "Islamic State"})
    with open_with(index_dir, docs, model) as assistant:
        reply = assistant.ask("Which group claimed responsibility for the Bataclan attack?")
        assert reply.found
        assert reply.citations[0].quote.startswith("The militant group Islamic State")
        text = (docs / "attack.md").read_text()
        assert reply.citations[0].quote in text
        # Offsets point into the article's text as read from its file.
        c = reply.citations[0]
        assert source_text(str(docs / "attack.md"), c.article_id)[c.start : c.end] == c.quote
        # The reader read the question with each candidate, title first.
        assert all(q.startswith("Which group") for q, _ in model.read)
        assert any(s.startswith("Theatre attack\n") for _, s in model.read)


def test_abstains_when_the_reader_finds_no_answer(index_dir: Path, docs: Path) -> None:
    with open_with(index_dir, docs, Scripted({})) as assistant:
        reply = assistant.ask("Who designed the harbour of Port Ellis?")
        assert not reply.found and reply.text == NOT_FOUND
        assert reply.passages, "an abstention still lists the possibly related passages"
        assert reply.confidence < stage.ABSTAIN_BELOW
        # Evaluation can see the best answer anyway.
        forced = assistant.ask("Who designed the harbour of Port Ellis?", abstain_below=-1.0)
        assert forced.found


def test_search_reranks_by_the_reader_and_shows_its_score(index_dir: Path, docs: Path) -> None:
    model = Scripted({"river": "Delft"})
    with open_with(index_dir, docs, model) as assistant:
        query = "river harbour storm theatre"
        hybrid = assistant.search(query, k=3, mode="hybrid")
        reranked = assistant.search(query, k=3)  # the reader is on: mode "reader"
        assert reranked[0].title == "New bridge"
        scores = [p.reader_score for p in reranked if p.reader_score is not None]
        assert reranked[0].reader_score == max(scores) and len(set(scores)) > 1
        assert [p.rank for p in reranked] == [1, 2, 3]
        assert {p.chunk_id for p in reranked} <= {p.chunk_id for p in hybrid} | {
            p.chunk_id for p in assistant.search(query, k=8, mode="hybrid")
        }
        assert all(p.reader_score is None for p in hybrid)


def test_no_reader_keeps_todays_answer_path(index_dir: Path, docs: Path) -> None:
    """reader=False answers exactly as before the reader: the same text and citations as the
    old answer function on the same passages."""
    from qa.pipeline.answer import answer
    from qa.pipeline.evidence import stored_sentence_vectors

    with Assistant.open(index_dir, embedder=HashEmbedder(64, 128), reader=False) as assistant:
        assert assistant.ingest([docs]).ok
        question = "When did the harbour master reopen the harbour?"
        reply = assistant.ask(question, k=4)
        vector = assistant.embedder.embed([question])[0]
        passages = assistant.search(question, k=4)
        stored = stored_sentence_vectors(assistant.retriever.sentences, passages)
        expected = answer(question, passages, assistant.embedder, vector, sentence_vectors=stored)
        assert reply.text == expected.text
        assert assistant.default_mode == "hybrid"
        assert all(p.reader_score is None for p in assistant.search(question))


def test_an_answer_stage_plugs_in_through_the_table(
    index_dir: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The facade has no branch per stage: the entry of ANSWER_STAGES it names answers, after
    getting as many passages as the stage reads, with their stored sentence vectors; the
    reader's loader is called only by a stage that asks for it."""
    from qa.pipeline import stages

    seen: list[stages.Found] = []

    class Echo:
        passages_read, reads_alone, weighs_names = 6, False, False

        def answer(self, found: stages.Found, embedder: object, abstain_below: object):  # type: ignore[no-untyped-def]
            seen.append(found)
            return stages.OverlapStage().answer(found, embedder, abstain_below)  # type: ignore[arg-type]

    loads: list[str] = []

    def loader(load):  # type: ignore[no-untyped-def]
        loads.append("loaded")
        return Echo()

    monkeypatch.setitem(stages.ANSWER_STAGES, "overlap", loader)
    with Assistant.open(index_dir, embedder=HashEmbedder(64, 128), reader=False) as assistant:
        assert assistant.ingest([docs]).ok
        reply = assistant.ask("When did the harbour master reopen the harbour?", k=2)
    (found,) = seen
    assert loads == ["loaded"] and reply.found
    assert len(found.passages) == 3  # every chunk of the index: 6 asked for, k=2 returned
    assert len(reply.passages) == 2
    assert found.stored and {key[0] for key in found.stored} == {
        p.article_id for p in found.passages
    }
    assert found.conversation is None
    # A stage that does not weigh names gets none looked up ("Tokyo" is in no article).
    seen.clear()
    with Assistant.open(index_dir, embedder=HashEmbedder(64, 128), reader=False) as assistant:
        assistant.ask("What did the harbour master of Tokyo do?")
    assert seen[0].unmentioned == ()


def test_follow_up_is_read_with_the_question_before_it(index_dir: Path, docs: Path) -> None:
    model = Scripted({"When did it": "Friday"})
    with open_with(index_dir, docs, model) as assistant:
        first = assistant.ask("Who attacked the Bataclan theatre in Paris?")
        follow = assistant.ask("When did it happen?", history=[Turn(first.question, first.text)])
        asked = {q for q, _ in model.read}
        assert "When did it happen? Who attacked the Bataclan theatre in Paris?" in asked
        assert follow.found and "Friday" in follow.citations[0].quote


def test_a_new_topic_leaves_the_conversation(index_dir: Path, docs: Path) -> None:
    """ "Who designed it?" after the theatre talk stays if the reader is sure there; a question
    the reader answers surely in another article leaves the subject."""
    model = Scripted({"Delft": "Delft", "theatre": "Gunmen"})
    with open_with(index_dir, docs, model) as assistant:
        history = [Turn("Who attacked the theatre?", "Gunmen attacked the Bataclan theatre.")]
        reply = assistant.ask("Were engineers from Delft involved?", history=history)
        assert reply.found and reply.citations[0].title == "New bridge"


def test_a_follow_up_after_a_new_topic_asks_about_the_new_topic(
    index_dir: Path, docs: Path
) -> None:
    """After four questions about the theatre, "Who reopened the harbour of Port Ellis?" leaves
    it. "When did it reopen?" is then about the harbour, which the last answer quoted, though
    the conversation's questions together still name the theatre."""
    model = Scripted({"When did it reopen": "Monday", "Port Ellis": "Ana", "theatre": "Gunmen"})
    with open_with(index_dir, docs, model) as assistant:
        history: list[Turn] = []
        for question in (
            "Who attacked the Bataclan theatre?",
            "Which theatre in Paris was attacked?",
            "Who attacked the theatre in Paris on a Friday?",
            "When was the Bataclan theatre attacked?",
        ):
            history.append(Turn.of(assistant.ask(question, history=history)))
        assert {t.article_id for t in history} == {history[0].article_id}
        switched = assistant.ask("Who reopened the harbour of Port Ellis?", history=history)
        assert switched.citations[0].title == "Harbour storm"
        history.append(Turn.of(switched))
        follow = assistant.ask("When did it reopen?", history=history)
        assert follow.found and follow.citations[0].title == "Harbour storm"
        assert "Monday" in follow.citations[0].quote


def test_switch_rule() -> None:
    def reading(p: float) -> stage.Reading:
        passage = Passage(1, "a", "t", None, None, "s", "x", 0, 1, 1.0, 1, 0.5, 1.0)
        candidate = Candidate(passage, 0, 1, "x", 0.5, 0.5, 1.0)
        return stage.Reading([passage], [stage.ReadSentence(candidate, 0.0, p)])

    empty = stage.Reading([], [])
    assert stage.switches_topic(reading(0.2), reading(0.9), leaning=False)
    assert not stage.switches_topic(reading(0.9), reading(0.2), leaning=False)
    sure, surer = 0.5, 0.5 + stage.LEANING_SWITCH_MARGIN / 2
    named = "Where is the Rhine?"
    assert not stage.switches_topic(reading(sure), reading(surer), True, named)
    assert stage.switches_topic(reading(sure), reading(surer), False, named)
    assert not stage.switches_topic(reading(0.5), empty, False, named)
    assert stage.switches_topic(empty, reading(0.5), True, named)
    # Leaning on the conversation and naming nothing: it stays, however sure the other is.
    assert not stage.switches_topic(reading(0.01), reading(0.99), True, "When did it start?")
    assert stage.names_something(named) and not stage.names_something("When did it start?")


def test_choose_takes_near_ties_from_other_passages_only() -> None:
    def sentence(chunk: int, p: float) -> stage.ReadSentence:
        passage = Passage(chunk, "a", "t", None, None, "s", "x", 0, 1, 1.0, chunk, 0.5, 1.0)
        return stage.ReadSentence(Candidate(passage, chunk, chunk + 1, "x", 0, 0, 0), 0.0, p)

    best = sentence(1, 0.95)
    same_chunk = sentence(1, 0.94)
    other = sentence(2, 0.93)
    far = sentence(3, 0.95 - stage.EXTRA_MARGIN - 0.01)
    assert stage.choose([best, same_chunk, other, far]) == [best, other]


def test_rerank_puts_read_passages_first_by_probability() -> None:
    def passage(chunk: int) -> Passage:
        return Passage(chunk, "a", "t", None, None, "s", "x", 0, 1, 1.0 - chunk, chunk, 0.5, 1.0)

    passages = [passage(1), passage(2), passage(3)]
    sentences = [
        stage.ReadSentence(Candidate(passages[2], 0, 1, "x", 0, 0, 0), 0.0, 0.9),
        stage.ReadSentence(Candidate(passages[0], 0, 1, "x", 0, 0, 0), 0.0, 0.4),
    ]
    ranked = stage.rerank(passages, sentences)
    assert [p.chunk_id for p in ranked] == [3, 1, 2]
    assert [p.rank for p in ranked] == [1, 2, 3]


def test_head_is_monotone_in_the_logit() -> None:
    values = [stage.HEAD.probability((x, 0.5, 0.5, 0.0)) for x in (-6, -2, 0, 2, 6)]
    assert values == sorted(values) and 0.0 < values[0] < values[-1] < 1.0


def test_a_missing_model_file_is_one_clear_line(index_dir: Path, docs: Path, tmp_path) -> None:
    empty = tmp_path / "no-model"
    empty.mkdir()
    with Assistant.open(index_dir, embedder=HashEmbedder(64, 128), reader_dir=empty) as a:
        assert a.ingest([docs]).ok
        with pytest.raises(ModelError) as caught:
            a.ask("Who designed the bridge?")
    message = str(caught.value)
    assert str(empty / "reader.onnx") in message and "--no-reader" in message
    assert "\n" not in message


def test_a_damaged_model_file_is_one_clear_line(index_dir: Path, docs: Path, tmp_path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "reader.onnx").write_bytes(b"not an onnx file" * 10)
    with Assistant.open(index_dir, embedder=HashEmbedder(64, 128), reader_dir=broken) as a:
        assert a.ingest([docs]).ok
        with pytest.raises(ModelError, match=r"cannot be loaded.*--no-reader"):
            a.search("bridge")


def test_reader_query_only_leans_when_the_question_does() -> None:
    assert stage.reader_query("Who founded it?", ["What is Disney?"]) == (
        "Who founded it? What is Disney?"
    )
    alone = "Who founded the Walt Disney Company in Burbank?"
    assert stage.reader_query(alone, ["What is Disney?"]) == alone
    assert stage.reader_query("Who founded it?", []) == "Who founded it?"


def test_a_follow_up_may_quote_the_sentence_quoted_before(index_dir: Path, docs: Path) -> None:
    """In a conversation the next answer is often in the sentence already quoted: it is quoted
    again, not passed over for a sentence the reader does not believe."""
    model = Scripted({"Who attacked": "Gunmen", "When did": "Friday"})
    with open_with(index_dir, docs, model) as assistant:
        first = assistant.ask("Who attacked the Bataclan theatre in Paris?")
        assert first.found and "Gunmen" in first.citations[0].quote
        follow = assistant.ask("When did it happen?", history=[Turn(first.question, first.text)])
        assert follow.found, follow.text
        assert follow.citations[0].quote == first.citations[0].quote


def test_an_answer_carries_the_reader_probabilities() -> None:
    """The quote's score is its sentence's probability; each passage's reader score is its best
    read sentence's, also where another sentence of the reading is quoted."""

    def sentence(chunk: int, text: str, p: float) -> stage.ReadSentence:
        passage = Passage(chunk, "a", "t", None, None, "s", text, 0, len(text), 1.0, chunk, 0, 0)
        return stage.ReadSentence(Candidate(passage, 0, len(text), text, 0, 0, 0), 0.0, p)

    best = sentence(1, "The bridge opened in May.", 0.95)
    other = sentence(2, "Engineers from Delft designed it.", 0.3)
    reading = stage.Reading([best.candidate.passage, other.candidate.passage], [best, other])
    reply = stage.reading_answer("q", reading)
    assert [c.quote for c in reply.citations] == [best.candidate.text]
    assert reply.citations[0].score == pytest.approx(0.95)
    assert [p.reader_score for p in reply.passages] == [pytest.approx(0.95), pytest.approx(0.3)]


def test_names_are_the_capitalised_words_past_the_first_without_acronyms() -> None:
    assert stage.names("Who painted the Mona Lisa?") == ["Mona", "Lisa"]
    assert stage.names("What did the IRA say about Belfast and Belfast?") == ["Belfast"]
    assert stage.names("When did it start?") == []


def test_a_name_no_article_mentions_lowers_the_confidence_it_needs() -> None:
    """Below UNMENTIONED_SURE_BELOW the answer abstains and says which name is missing; a sure
    answer is still given, and a question naming nothing present abstains at the usual
    threshold only."""
    passage = Passage(1, "a", "t", None, None, "s", "Tokyo is big.", 0, 13, 1.0, 1, 0, 0)

    def reading(p: float) -> stage.Reading:
        candidate = Candidate(passage, 0, 13, "Tokyo is big.", 0, 0, 0)
        return stage.Reading([passage], [stage.ReadSentence(candidate, 0.0, p)])

    between = (stage.ABSTAIN_BELOW + stage.UNMENTIONED_SURE_BELOW) / 2
    assert stage.reading_answer("q", reading(between)).found
    reply = stage.reading_answer("q", reading(between), unmentioned=["Osaka"])
    assert not reply.found and reply.unmentioned == ["Osaka"]
    assert reply.text == f"{NOT_FOUND} None of them mentions Osaka."
    sure = stage.reading_answer("q", reading(0.9), unmentioned=["Osaka"])
    # The confidence carries the discount.
    assert sure.found and sure.unmentioned == ["Osaka"] and sure.confidence < 0.9
    # Evaluation applies thresholds afterwards: the confidence alone decides there too.
    assert reply.confidence < stage.ABSTAIN_BELOW <= sure.confidence


def test_a_name_the_quoted_article_never_mentions_lowers_the_confidence_it_needs() -> None:
    """A question asked alone whose name other articles mention but the best sentence's article
    never does abstains below ARTICLE_LACKS_SURE_BELOW, saying which article lacks it; a sure
    answer is still given, discounted; a name the corpus lacks is the other rule's."""
    passage = Passage(1, "w", "Warsaw", None, None, "s", "It is a capital.", 0, 16, 1.0, 1, 0, 0)
    asked: list[tuple[str, list[str]]] = []

    def lacking(article_id: str, names: Sequence[str]) -> list[str]:
        asked.append((article_id, list(names)))
        return ["France"]

    def reading(p: float) -> stage.Reading:
        candidate = Candidate(passage, 0, 16, "It is a capital.", 0, 0, 0)
        return stage.Reading([passage], [stage.ReadSentence(candidate, 0.0, p)])

    between = (stage.ABSTAIN_BELOW + stage.ARTICLE_LACKS_SURE_BELOW) / 2
    assert stage.reading_answer("q", reading(between)).found
    question = "What is the capital of France?"
    reply = stage.reading_answer(question, reading(between), lacking=lacking)
    assert asked == [("w", ["France"])] and not reply.found and reply.unmentioned == []
    assert reply.text == f"{NOT_FOUND} The closest, Warsaw, never mentions France."
    sure = stage.reading_answer(question, reading(0.9), lacking=lacking)
    assert sure.found and reply.confidence < stage.ABSTAIN_BELOW <= sure.confidence < 0.9
    assert stage.reading_answer(question, reading(between), lacking=lambda a, n: []).found
    # Names no article mentions: the corpus-wide rule alone speaks, the article is not asked.
    asked.clear()
    reply = stage.reading_answer(
        "q", reading(between), unmentioned=["Osaka"], lacking=lacking
    )  # fmt: skip
    assert asked == [] and reply.text == f"{NOT_FOUND} None of them mentions Osaka."


def test_a_misspelled_name_is_read_as_the_name_it_means() -> None:
    """An unmentioned name that a title spells almost alike ("Tesle": Tesla) is the name meant:
    an answer that would quote an article never mentioning it abstains and offers the question
    respelled; quoting an article that mentions it, it is given. The titles are read only when
    no passage read spells the name."""
    passage = Passage(
        1, "g", "Genghis Khan", None, None, "s", "Temüjin was born in 1162.", 0, 25, 1, 1, 0, 0
    )
    candidate = Candidate(passage, 0, 25, passage.text, 0, 0, 0)
    reading = stage.Reading([passage], [stage.ReadSentence(candidate, 0.0, 0.9)])
    question = "When was Tesle born?"
    listed: list[int] = []

    def titles() -> list[str]:
        listed.append(1)
        return ["Genghis Khan", "Nikola Tesla"]

    asked: list[tuple[str, list[str]]] = []

    def lacking(mentions: bool):  # type: ignore[no-untyped-def]
        def lacks(article_id: str, names: Sequence[str]) -> list[str]:
            asked.append((article_id, list(names)))
            return [] if mentions else list(names)

        return lacks

    reply = stage.reading_answer(
        question, reading, unmentioned=["Tesle"], lacking=lacking(False), titles=titles
    )
    assert not reply.found and reply.suggested == "When was Tesla born?"
    assert asked == [("g", ["Tesla"])] and listed  # asked of the article it would quote
    assert reply.text == (
        f'{NOT_FOUND} None of them mentions Tesle. Did you mean "When was Tesla born?"'
    )
    asked.clear()
    reply = stage.reading_answer(
        question, reading, unmentioned=["Tesle"], lacking=lacking(True), titles=titles
    )
    assert reply.found and asked == [("g", ["Tesla"])]
    # Without a name meant (nothing spelled alike), the corpus-wide rule alone decides.
    asked.clear()
    reply = stage.reading_answer(
        "When was Osaka born?", reading, unmentioned=["Osaka"], lacking=lacking(False),
        titles=titles,
    )  # fmt: skip
    assert reply.found and asked == []


def test_the_facade_asks_the_quoted_article_for_the_names_other_articles_mention(
    index_dir: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found.lacking says which of the question's names an article never mentions, for a
    question whose names the index has; none is given when a name is in no article."""
    from qa.pipeline import stages

    seen: list[stages.Found] = []

    class Recording(stages.ReaderStage):
        def answer(self, found: stages.Found, embedder: object, abstain_below: object):  # type: ignore[no-untyped-def]
            seen.append(found)
            return super().answer(found, embedder, abstain_below)  # type: ignore[arg-type]

    monkeypatch.setitem(stages.ANSWER_STAGES, "reader", lambda load: Recording(load()))
    with open_with(index_dir, docs, Scripted({"Delft": "Delft"})) as assistant:
        ids = {info.title: info.id for info in assistant.articles()}
        reply = assistant.ask("What did engineers from Delft build in Paris?")
        (found,) = seen
        assert found.unmentioned == () and found.lacking is not None
        asked = ["Delft", "Paris"]
        assert list(found.lacking(ids["New bridge"], asked)) == ["Paris"]
        assert list(found.lacking(ids["Theatre attack"], asked)) == ["Delft"]
        assert list(found.lacking(ids["Harbour storm"], asked)) == ["Delft", "Paris"]
        # The reader is sure of the bridge's sentence: answered, the discount in its confidence.
        assert reply.found and reply.citations[0].title == "New bridge"
        assert found.titles is None  # every name is somewhere: no spelling to look up
        reply = assistant.ask("What did engineers from Delft build in Tokyo?")
        assert seen[1].unmentioned == ("Tokyo",) and seen[1].titles is not None
        assert reply.unmentioned == ["Tokyo"]


def test_a_name_misspelled_past_finding_is_respelled_from_the_titles(
    index_dir: Path, docs: Path
) -> None:
    """ "Theatrre" is in no article, and no passage writes "Theatre" as a name (only the title
    does): the abstention offers the title's spelling. Asked of a reader sure of the harbour's
    reopening, the answer would quote an article that never mentions the theatre: it abstains
    with the same offer; sure of the theatre's own reopening, it answers."""
    question = "When did the Theatrre reopen?"
    with open_with(index_dir, docs, Scripted({})) as assistant:
        reply = assistant.ask(question)
        assert not reply.found and reply.unmentioned == ["Theatrre"]
        assert reply.suggested == "When did the Theatre reopen?"
        harbour = assistant.ask(question, filters=Filters(titles=("Harbour storm",)))
        assert harbour.suggested is None  # a title outside the filters is not offered
    with open_with(index_dir, docs, Scripted({"reopen": "Monday"})) as assistant:
        reply = assistant.ask(question)
        assert not reply.found and reply.suggested == "When did the Theatre reopen?"
    with open_with(index_dir, docs, Scripted({"reopen": "concert"})) as assistant:
        reply = assistant.ask(question)
        assert reply.found and reply.citations[0].title == "Theatre attack"


def test_yes_after_an_offered_spelling_asks_it(index_dir: Path, docs: Path) -> None:
    """ "yes" right after "Did you mean ...?" asks the question offered, whether the history is
    the chat's turns or (question, answer) text pairs; with nothing offered it is courtesy."""
    with open_with(index_dir, docs, Scripted({"the Theatre?": "concert"})) as assistant:
        offer = assistant.ask("Who reopened the Theatrre?")
        assert not offer.found and offer.suggested == "Who reopened the Theatre?"
        for history in ([Turn.of(offer)], [(offer.question, offer.text)]):
            reply = assistant.ask("yes please", history=history)  # type: ignore[arg-type]
            assert reply.question == "Who reopened the Theatre?" and reply.found
            assert reply.citations[0].title == "Theatre attack"
            streamed = list(assistant.ask_stream("yes", history=history))  # type: ignore[arg-type]
            assert streamed[-1].question == "Who reopened the Theatre?"  # type: ignore[union-attr]
        thanked = assistant.ask("yes", history=[Turn.of(offer), Turn("thanks")])
        assert thanked.question == "yes" and not thanked.found  # the offer was not answered
        assert not assistant.ask("yes").found  # nothing offered: nothing to look up
        assert assistant.ask("yes").question == "yes"


def test_the_names_the_index_lacks_are_found_within_the_filters(
    index_dir: Path, docs: Path
) -> None:
    with open_with(index_dir, docs, Scripted({})) as assistant:
        reply = assistant.ask("What did Ana Lima say in Tokyo?")
        assert not reply.found and reply.unmentioned == ["Tokyo"]
        assert "None of them mentions Tokyo." in reply.text
        # Within the bridge article, Ana Lima is not mentioned either.
        narrowed = assistant.ask("What did Ana Lima say?", filters=Filters(titles=("New bridge",)))
        assert narrowed.unmentioned == ["Ana", "Lima"]
    known = Scripted({"Bataclan": "Islamic State"})
    with open_with(index_dir.parent / "known", docs, known) as assistant:
        # A sure answer is given though the question names a city no article mentions.
        reply = assistant.ask("Which group claimed the Bataclan attack in Tokyo?")
        assert reply.found and reply.unmentioned == ["Tokyo"]


def test_a_reader_folder_without_a_verifier_is_checked_by_the_shipped_one(
    index_dir: Path, tmp_path: Path
) -> None:
    """reader.onnx keeps its verify head untrained: a reader folder that has no verifier.onnx
    must not fall back to it, but to the verifier shipped with the package."""
    from embeddings.reader import MODEL_FILE, TOKENIZER_FILE, TRAINED_DIR, VERIFIER_FILE

    folder = tmp_path / "my-reader"
    folder.mkdir()
    for name in (MODEL_FILE, TOKENIZER_FILE):
        (folder / name).symlink_to(TRAINED_DIR / name)
    with Assistant.open(index_dir, embedder=HashEmbedder(64, 128), reader_dir=folder) as a:
        assert a._trained_model().model_file == folder / MODEL_FILE
        assert a._verifier_model().model_file == TRAINED_DIR / VERIFIER_FILE


def test_a_question_without_its_mark_is_read_with_it_and_answered_as_typed(
    index_dir: Path, docs: Path
) -> None:
    model = Scripted({"claimed responsibility": "Islamic State"})
    typed = "which group claimed responsibility for the bataclan attack"
    with open_with(index_dir, docs, model) as assistant:
        reply = assistant.ask(typed)
        assert reply.found and reply.question == typed
        assert reply.citations[0].quote.startswith("The militant group Islamic State")
        assert model.read and all(q == f"{typed}?" for q, _ in model.read)
        model.read.clear()
        assistant.search(typed)
        assert model.read and all(q == f"{typed}?" for q, _ in model.read)
