"""The shipped reader (embeddings/trained/) with the real embedding model, network blocked.

What a user meets: the sentence that answers is quoted, not its neighbour that shares the rare
words; questions the demo articles cannot answer abstain; a conversation changes topic when the
question does; a follow-up is answered inside its article. Plus the model file itself: it is the
one the model card names, and its tokenisation matches the one it was trained with.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from embeddings.reader import TRAINED_DIR, VERIFIER_FILE, ReaderModel, file_sha256
from qa import Assistant, Turn
from tests.conftest import CORPUS

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", ["reader.onnx", "verifier.onnx"])
def test_the_model_file_is_the_one_the_card_names(name: str) -> None:
    card = (TRAINED_DIR / "README.md").read_text(encoding="utf-8")
    named = re.search(rf"^\| {re.escape(name)} \|.*`([0-9a-f]{{64}})`", card, re.M)
    assert named, f"the model card names {name}'s sha256"
    assert file_sha256(TRAINED_DIR / name) == named.group(1)
    assert (TRAINED_DIR / name).stat().st_size <= 25 * 2**20


def test_tokenisation_matches_training() -> None:
    """Query time tokenises with `tokenizers`; training used transformers' tokenizer."""
    from transformers import AutoTokenizer

    from embeddings.reader import ANSWER_MAX_TOKENS
    from embeddings.sentence import default_model_path, go_offline

    go_offline()
    pairs = [
        ("Who brought the plague to Sicily?", "Black Death\nGenoese traders fled by ship."),
        ("x " * 80, "Warsaw\n" + "the river flows " * 40),
    ]
    reference = AutoTokenizer.from_pretrained(str(default_model_path()), local_files_only=True)
    model = ReaderModel()
    tokenizer = model._tokenizer(ANSWER_MAX_TOKENS)
    for a, b in pairs:
        expected = reference(a, b, truncation="longest_first", max_length=ANSWER_MAX_TOKENS)
        got = tokenizer.encode(a, b)
        assert got.ids == expected["input_ids"]
        assert got.type_ids == expected["token_type_ids"]


def test_answer_logits_prefer_the_answering_sentence() -> None:
    model = ReaderModel()
    logits = model.answer_logits(
        ["Which group claimed responsibility for the attack on the Bataclan?"] * 2,
        [
            "Paris attacks\nGunmen attacked the Bataclan theatre on a Friday night.",
            "Paris attacks\nThe militant group Islamic State claimed responsibility.",
        ],
    )
    assert logits[1] > logits[0]


def test_pairs_read_in_length_order_come_back_in_the_order_given() -> None:
    """``_run`` reads pairs sorted by length, RUN_PAIRS at a time: each logit must come back to
    its own pair. Every pair here has its own length, so the calls are the same whatever order
    the pairs are given in, and reversing the input must reverse the output exactly."""
    from embeddings.reader import RUN_PAIRS

    model = ReaderModel()
    question = "Which group claimed responsibility for the attack on the Bataclan?"
    sentences = [
        "Paris attacks\nGunmen attacked the Bataclan theatre" + " again" * n + "."
        for n in range(RUN_PAIRS * 2 + 3)
    ]
    sentences[7] = "Paris attacks\nThe militant group Islamic State claimed responsibility."
    given = model.answer_logits([question] * len(sentences), sentences)
    backwards = model.answer_logits([question] * len(sentences), sentences[::-1])
    assert np.array_equal(given, backwards[::-1])
    assert np.argmax(given) == 7


def test_verify_logits_see_a_changed_number() -> None:
    # verifier.onnx: reader.onnx keeps its verify head untrained (embeddings/trained/README.md).
    model = ReaderModel(file_name=VERIFIER_FILE)
    evidence = "Westlife\nWestlife has sold more than 24 million records in the UK."
    logits = model.verify_logits(
        ["Westlife sold more than 24 million records in the UK.",
         "Westlife sold fewer than 2 million records in the UK."],
        [evidence, evidence],
    )  # fmt: skip
    supports, refutes = 0, 1
    assert np.argmax(logits[0]) == supports
    assert logits[1][refutes] > logits[0][refutes]


@pytest.fixture(scope="module")
def demo(real_model: object, demo_index: Path) -> Iterator[Assistant]:
    """The run's shared real-model index of the demo corpus, opened here to read only."""
    with Assistant.open(demo_index, embedder=real_model, create=False) as assistant:  # type: ignore[arg-type]
        yield assistant


# Questions the 12 demo articles cannot answer, as a new user tried them (issue 23).
OFF_TOPIC = [
    "What is the population of Tokyo?",
    "Who painted the Mona Lisa?",
    "How tall is Mount Everest?",
    "How do I bake sourdough bread?",
    "What is the boiling point of ethanol?",
    "Who won the 2018 FIFA World Cup?",
    "What is the capital of Australia?",
]


def test_off_topic_questions_read_less_sure_than_the_demo_questions(demo: Assistant) -> None:
    """The reader is less sure of every question the articles cannot answer than of nine in
    ten of the demo's own questions. (The shipped threshold, fitted to keep false abstention
    at 5% on news, lets the surest of these through: see the model card.)"""
    off = [demo.ask(q, abstain_below=-1.0).confidence for q in OFF_TOPIC]
    questions = json.loads((CORPUS.parent / "questions.json").read_text(encoding="utf-8"))
    on = sorted(demo.ask(q["question"], abstain_below=-1.0).confidence for q in questions)
    assert max(off) < on[len(on) // 10], (sorted(off), on[:5])
    assert not demo.ask("How do I bake sourdough bread?").found


def test_off_topic_questions_naming_what_no_article_mentions_abstain(demo: Assistant) -> None:
    """The surest off-topic questions above name a place or a painting the demo articles never
    mention: they abstain at the shipped threshold and say which name is missing."""
    for question, missing in (
        ("What is the population of Tokyo?", ["Tokyo"]),
        ("Who painted the Mona Lisa?", ["Mona", "Lisa"]),
        ("How tall is Mount Everest?", ["Everest"]),
    ):
        reply = demo.ask(question)
        assert not reply.found and reply.unmentioned == missing, (question, reply.confidence)
    # A question naming what the articles do mention is still answered.
    assert demo.ask("Who won Super Bowl 50?").unmentioned == []


def test_a_name_the_quoted_article_never_mentions_makes_the_reader_abstain(
    demo: Assistant,
) -> None:
    """Priestley is in the Oxygen article, not Warsaw's, whose "Let this Warsaw not disappear
    forever, he commented." the reader would quote (probability about .09, between the
    thresholds): it abstains and names the article."""
    reply = demo.ask("What did Priestley say about Warsaw?")
    assert not reply.found and reply.unmentioned == [], reply.text
    assert reply.text.endswith("The closest, Warsaw, never mentions Priestley."), reply.text
    sure = demo.ask("What did Priestley say about Warsaw?", abstain_below=-1.0)
    assert sure.found and sure.citations[0].title == "Warsaw"


def test_a_conversation_changes_topic(demo: Assistant) -> None:
    first = demo.ask("Who won Super Bowl 50?")
    assert first.found and first.citations[0].title == "Super Bowl 50"
    second = demo.ask("Where is the Rhine?", history=[Turn(first.question, first.text)])
    assert second.found and second.citations[0].title == "Rhine"


def test_after_a_topic_switch_the_follow_up_stays_on_the_new_topic(demo: Assistant) -> None:
    """Four questions about Super Bowl 50, then the Rhine: "Where does it end?" is about the
    Rhine, though the last five questions together still name Super Bowl 50 (it went back there
    until the last answer's article was searched too)."""
    history: list[Turn] = []
    for question in (
        "Who won Super Bowl 50?",
        "Who was the MVP?",
        "Where was it played?",
        "Who performed at halftime?",
        "Where is the Rhine?",
    ):
        history.append(Turn.of(demo.ask(question, history=history)))
    assert [t.article_id for t in history].count(history[0].article_id) == 4
    follow = demo.ask("Where does it end?", history=history)
    assert follow.found and follow.citations[0].title == "Rhine", follow.text


def test_a_second_follow_up_after_a_switch_stays_on_the_new_topic(demo: Assistant) -> None:
    """Two questions on Genghis Khan, then two on Tesla: "Where did he die?" is about Tesla,
    though three of the last five questions name Genghis Khan (it went back to him, to
    Jamukha's death, until the subject was read from the question that named Tesla)."""
    history: list[Turn] = []
    for question in (
        "Who founded the Mongol Empire?",
        "When was he born?",
        "Who was Tesla?",
        "When was he born?",
    ):
        history.append(Turn.of(demo.ask(question, history=history)))
    titles = [demo.article(t.article_id).title for t in history if t.article_id]
    assert titles == ["Genghis Khan", "Genghis Khan", "Nikola Tesla", "Nikola Tesla"]
    follow = demo.ask("Where did he die?", history=history)
    assert follow.found and follow.citations[0].title == "Nikola Tesla", follow.text


def test_a_follow_up_is_answered_inside_its_article(demo: Assistant) -> None:
    first = demo.ask("How did the Black Death reach Europe?")
    assert first.found and first.citations[0].title == "Black Death"
    follow = demo.ask("When did it start?", history=[Turn(first.question, first.text)])
    assert follow.found and follow.citations[0].title == "Black Death"


def test_the_answering_sentence_beats_its_neighbour(tmp_path: Path) -> None:
    """Articles written for this test: the first sentence names the venue, the next says who
    claimed the attack; the question names the venue."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "attack.md").write_text(
        "# Attack on the Corrib Arena\n\n"
        "Gunmen opened fire at the Corrib Arena in Galway during a concert on Saturday night, "
        "killing four people. A group calling itself the Western Front claimed responsibility "
        "for the attack in a statement on Sunday. Police arrested two men on Monday.\n",
        encoding="utf-8",
    )
    (docs / "harbour.md").write_text(
        "# Harbour reopens\n\nThe harbour of Port Ellis reopened on Monday after a storm. "
        "Fishing boats returned at dawn and the ferry resumed its service.\n",
        encoding="utf-8",
    )
    with Assistant.open(tmp_path / "index") as assistant:
        assert assistant.ingest([docs]).ok
        reply = assistant.ask("Which group claimed responsibility for the Corrib Arena attack?")
    assert reply.found
    assert "Western Front" in reply.citations[0].quote, json.dumps(reply.to_dict())[:500]


class ReplayServer:
    """A loopback OpenAI-compatible server that replays one recorded llama-server stream
    (the SSE frames of SmolLM2 via xllamacpp, with its text replaced by ``text``)."""

    def __init__(self, text: str) -> None:
        import socket
        import threading

        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"
        words = text.split(" ")
        frames = [
            {"choices": [{"index": 0, "delta": {"role": "assistant", "content": None}}]},
            *(
                {"choices": [{"index": 0, "delta": {"content": w if n == 0 else " " + w}}]}
                for n, w in enumerate(words)
            ),
            {"choices": [{"finish_reason": "stop", "index": 0, "delta": {}}]},
        ]
        body = b"".join(
            b"data: " + json.dumps({**f, "model": "smollm2-135m"}).encode() + b"\n\n"
            for f in frames
        )
        self.stream = body + b"data: [DONE]\n\n"
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            request = conn.recv(65536)
            if request.startswith(b"GET"):
                reply, kind = b'{"data":[{"id":"smollm2-135m"}]}', "application/json"
            else:
                reply, kind = self.stream, "text/event-stream"
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\n"
            head += f"Content-Length: {len(reply)}\r\nConnection: close\r\n\r\n"
            conn.sendall(head.encode() + reply)
            conn.close()

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize(
    ("sentence", "kept"),
    [
        ("The band has sold more than 24 million records in the United Kingdom.", True),
        ("Westlife were formed in Sligo in 1998.", True),
        ("The band has sold more than 31 million records in the United Kingdom.", False),
        ("The band has sold more than 24 million records in the United States.", False),
        ("Westlife were formed in Dublin in 1998.", False),
        ("Westlife were formed in Sligo in 1996.", False),
    ],
)
def test_the_shipped_check_keeps_the_facts_and_drops_a_swapped_one(
    sentence: str, kept: bool
) -> None:
    """verifier.onnx with the text checks of qa/llm/check.py: a copy of the quote with one
    number or name changed is contradicted by it; the quote's own facts are kept."""
    from embeddings import HashEmbedder
    from qa.llm.check import AnswerSentence, SupportChecker
    from qa.types import Passage

    text = (
        "Westlife are an Irish boy band formed in Sligo in 1998. The band has sold more than "
        "24 million records in the United Kingdom."
    )
    passage = Passage(1, "westlife", "Westlife", None, None, "", text, 0, len(text), 1.0, 1, 0, 0)
    checker = SupportChecker(
        [passage], HashEmbedder(64), verifier=ReaderModel(file_name=VERIFIER_FILE)
    )
    (support,) = checker.check([AnswerSentence(sentence, [1])])
    assert support.supported is kept, support
    if not kept:
        assert support.refuted and support.quote


def test_a_sentence_gets_the_same_verdict_alone_and_within_an_answer() -> None:
    """The int8 model quantizes a call's activations with one scale: pairs read together moved
    each other's logits. A sentence checked as it streams, alone, must get the verdict and
    score it gets in the whole answer."""
    from embeddings import HashEmbedder
    from qa.llm.check import AnswerSentence, SupportChecker
    from qa.types import Passage

    text = (
        "Westlife are an Irish boy band formed in Sligo in 1998. The band has sold more than "
        "24 million records in the United Kingdom. They had fourteen number-one singles, and "
        "their first five singles all went to number one. In 2012 the band split up after a "
        "farewell tour."
    )
    passage = Passage(1, "westlife", "Westlife", None, None, "", text, 0, len(text), 1.0, 1, 0, 0)
    checker = SupportChecker(
        [passage], HashEmbedder(64), verifier=ReaderModel(file_name=VERIFIER_FILE)
    )
    answer = [
        AnswerSentence(s, [1])
        for s in (
            "Westlife were formed in Sligo in 1998.",
            "They have sold over 20 million records in the UK.",
            "Their first five singles reached number one.",
            "The band split up in 2012 after a farewell tour.",
            "Westlife won a Grammy in 2005.",
        )
    ]
    together = checker.check(answer)
    alone = [checker.check([sentence])[0] for sentence in answer]
    assert together == alone


def test_a_refuted_sentence_of_a_recorded_stream_is_dropped(tmp_path: Path) -> None:
    """The verifier drops "only 2 million" against "more than 24 million" and shows it as
    contradicted; the cosine check (same words, same topic) keeps it."""
    from qa.llm import LLMConfig

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "westlife.md").write_text(
        "# Westlife\n\nWestlife are an Irish boy band formed in Sligo in 1998. The band has "
        "sold more than 24 million records in the United Kingdom. Their first single, Swear "
        "It Again, went to number one in the UK and Ireland.\n",
        encoding="utf-8",
    )
    server = ReplayServer(
        "Westlife were formed in Sligo in 1998 [1]. Westlife have sold only 2 million records "
        "in the United Kingdom [1]."
    )
    try:
        with Assistant.open(tmp_path / "index") as assistant:
            assert assistant.ingest([docs]).ok
            question = "How many records has Westlife sold in the UK?"
            verified = assistant.ask(question, llm=LLMConfig(server.url))
            cosine = assistant.ask(question, llm=LLMConfig(server.url, check="cosine"))
    finally:
        server.close()
    assert verified.mode == "generative", verified.notice
    formed, sold = verified.sentences
    assert formed.supported and not formed.refuted
    assert sold.refuted and not sold.supported and "24 million" in sold.quote
    assert "only 2 million" not in verified.text
    assert cosine.mode == "generative"
    assert cosine.sentences[1].supported, "the cosine check cannot see the changed number"


def test_the_chat_shows_a_refuted_sentence_as_contradicted(tmp_path: Path) -> None:
    """qa serve --llm: the server's state checks with the verifier as qa ask does (the cosine
    check with --check cosine), the draft marks the refuted sentence ✗! while the model
    writes, and the answer names it with the quote that contradicts it."""
    from qa.llm import LLMConfig
    from ui.chat import respond
    from ui.render import CONTRADICTED_MARK
    from ui.state import AppState

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "westlife.md").write_text(
        "# Westlife\n\nWestlife are an Irish boy band formed in Sligo in 1998. The band has "
        "sold more than 24 million records in the United Kingdom. Their first single, Swear "
        "It Again, went to number one in the UK and Ireland.\n",
        encoding="utf-8",
    )
    with Assistant.open(tmp_path / "index") as assistant:
        assert assistant.ingest([docs]).ok
    server = ReplayServer(
        "Westlife were formed in Sligo in 1998 [1]. Westlife have sold only 2 million records "
        "in the United Kingdom [1]."
    )
    question = "How many records has Westlife sold in the UK?"
    messages: dict[str, list[str]] = {}
    try:
        for check in ("verifier", "cosine"):
            state = AppState(tmp_path / "index", llm=LLMConfig(server.url, check=check))
            try:
                views = list(respond(state, question, [], [], 5, None, "", ""))
            finally:
                state.close()
            messages[check] = [view[1][-1]["content"] for view in views]
    finally:
        server.close()
    *drafts, final = messages["verifier"]
    assert any(CONTRADICTED_MARK in draft for draft in drafts), drafts
    answer, heading, left_out = final.partition("Left out, contradicted by the sources")
    assert heading, final
    assert "Sligo" in answer and "only 2 million" not in answer
    assert "only 2 million" in left_out and "24 million" in left_out
    assert "Westlife: “" in left_out  # the article the contradicting quote is from
    *_, kept = messages["cosine"]
    assert "only 2 million" in kept and "contradicted" not in kept
