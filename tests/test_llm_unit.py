"""The --llm pieces that need no language model: SSE parsing on recorded byte streams, the
prompt's budget, the sentence check, and abstaining before any model is asked."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from embeddings import HashEmbedder
from qa import Assistant
from qa.llm import LLMConfig, LLMError, Token, Verdict, checked_answer, generate
from qa.llm.check import answer_sentences, complete_sentences
from qa.llm.client import LLMClient
from qa.llm.prompt import build_prompt, count_tokens
from qa.llm.sse import SSEParser
from qa.types import Answer, Passage
from tests.conftest import source_text

# Recorded from llama-server (xllamacpp, SmolLM2), trimmed: role chunk, two deltas, a finish
# chunk, a usage chunk with "choices": [] (what stream_options.include_usage sends), [DONE].
RECORDED = (
    b'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant",'
    b'"content":null}}],"model":"smollm2-135m","object":"chat.completion.chunk"}\n\n'
    b'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":" Rhine"}}],'
    b'"model":"smollm2-135m","object":"chat.completion.chunk"}\n\n'
    b'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":" rises \xc3\xa9"}}],'
    b'"model":"smollm2-135m","object":"chat.completion.chunk"}\n\n'
    b'data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"model":"smollm2-135m"}\n\n'
    b'data: {"choices":[],"usage":{"completion_tokens":2,"prompt_tokens":31}}\n\n'
    b"data: [DONE]\n\n"
)


def _parse(chunks: list[bytes]) -> list[str]:
    parser = SSEParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    return [event.data for event in [*events, *parser.close()]]


def test_sse_events_split_across_every_byte_boundary_parse_the_same() -> None:
    whole = _parse([RECORDED])
    assert len(whole) == 6 and whole[-1] == "[DONE]"
    assert "rises é" in whole[2]  # a two-byte character split across reads is kept whole
    for cut in range(1, len(RECORDED)):
        assert _parse([RECORDED[:cut], RECORDED[cut:]]) == whole
    assert _parse([bytes([b]) for b in RECORDED]) == whole


def test_sse_crlf_cr_comments_and_multiline_data() -> None:
    crlf = RECORDED.replace(b"\n", b"\r\n")
    assert _parse([crlf]) == _parse([RECORDED])
    assert _parse([crlf[:-1], crlf[-1:]]) == _parse([RECORDED])  # CR | LF split across reads
    assert _parse([RECORDED.replace(b"\n", b"\r")]) == _parse([RECORDED])
    assert _parse([b": ping\n\nevent: error\ndata: a\ndata: b\n\n"]) == ["a\nb"]
    assert _parse([b"data: last without blank line"]) == ["last without blank line"]


def _serve_once(body: bytes, status: str = "200 OK") -> str:
    """A one-request HTTP server on loopback that sends ``body`` as an event stream."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]

    def run() -> None:
        for _ in range(2):  # GET /models, then POST /chat/completions
            conn, _ = listener.accept()
            with conn:
                request = conn.recv(65536)
                if request.startswith(b"GET"):
                    reply = b'{"data":[{"id":"recorded"}]}'
                    head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                else:
                    reply = body
                    head = f"HTTP/1.1 {status}\r\nContent-Type: text/event-stream\r\n"
                head += f"Content-Length: {len(reply)}\r\nConnection: close\r\n\r\n"
                conn.sendall(head.encode() + reply)
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    return f"http://127.0.0.1:{port}/v1"


def _stream(url: str) -> str:
    client = LLMClient(LLMConfig(url))
    try:
        client.resolve_model()
        return "".join(delta.text for delta in client.stream([{"role": "user", "content": "q"}]))
    finally:
        client.close()


def test_client_reads_a_recorded_stream_and_the_model_it_names() -> None:
    url = _serve_once(RECORDED)
    assert _stream(url) == " Rhine rises é"


def test_an_error_frame_mid_stream_and_an_empty_answer_are_errors() -> None:
    broken = RECORDED.split(b'data: {"choices":[{"finish_reason":"stop"')[0] + (
        b'data: {"error":{"code":500,"message":"slot crashed"}}\n\n'
    )
    with pytest.raises(LLMError, match="mid-answer: slot crashed"):
        _stream(_serve_once(broken))
    empty = b'data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\ndata: [DONE]\n\n'
    with pytest.raises(LLMError, match="no text"):
        _stream(_serve_once(empty))


def test_config_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_LLM_URL", "http://127.0.0.1:11434/v1/")
    monkeypatch.setenv("QA_LLM_MODEL", "qwen2.5:3b")
    monkeypatch.setenv("QA_LLM_API_KEY", "secret")
    config = LLMConfig.from_env()
    assert config is not None
    assert (config.url, config.model, config.api_key) == (
        "http://127.0.0.1:11434/v1",
        "qwen2.5:3b",
        "secret",
    )
    assert config.timeout == 120.0 and config.context == 4096
    monkeypatch.delenv("QA_LLM_URL")
    assert LLMConfig.from_env() is None
    with pytest.raises(LLMError, match="http"):
        LLMConfig("127.0.0.1:11434")


def _passage(number: int, text: str, start: int = 100) -> Passage:
    return Passage(
        number,
        f"a{number}",
        f"Title {number}",
        None,
        None,
        "s",
        text,
        start,
        start + len(text),
        1.0,
        number,
        0.5,
        0.0,
    )


PASSAGES = [
    _passage(1, "Paris is the capital of France. It lies on the Seine."),
    _passage(2, "The Rhine rises in the Swiss Alps. It flows into the North Sea.", 500),
    _passage(3, "Bread is baked from flour, water and yeast."),
    _passage(4, "The tram line opened in May. It carries ten thousand people a day."),
]
EXTRACTIVE = Answer("q", "Quoted. [1]", True, [], PASSAGES, 1.2)


def test_markers_before_or_after_the_period_belong_to_their_sentence() -> None:
    split = answer_sentences("The Rhine rises in the Alps [2]. It flows north. [2][3] Done [1, 4].")
    assert [(s.text, s.cited) for s in split] == [
        ("The Rhine rises in the Alps.", [2]),
        ("It flows north.", [2, 3]),
        ("Done.", [1, 4]),
    ]


def test_a_number_that_was_not_given_is_reattributed_and_never_shown() -> None:
    text = "The Rhine rises in the Swiss Alps [9]. Paris is the capital of France [3]."
    reply = checked_answer("q", text, PASSAGES, EXTRACTIVE, HashEmbedder(64), "m")
    assert reply.mode == "generative" and "[9]" not in reply.text and "[3]" not in reply.text
    first, second = reply.sentences
    assert first.cited == [9] and first.reattributed and first.supported
    assert second.cited == [3] and second.reattributed  # cited bread, supported by passage 1
    rhine = reply.citations[first.citation - 1]
    assert rhine.article_id == "a2" and rhine.quote == "The Rhine rises in the Swiss Alps."
    # Offsets are article-absolute: passage 2 starts at 500 in its article.
    assert (rhine.start, rhine.end) == (500, 500 + len(rhine.quote))
    assert (
        reply.text == "The Rhine rises in the Swiss Alps. [1] Paris is the capital of France. [2]"
    )


def test_an_unsupported_sentence_is_left_out_and_recorded() -> None:
    text = "The Rhine rises in the Swiss Alps [2]. Dragons guard the golden treasure of Oslo [2]."
    reply = checked_answer("q", text, PASSAGES, EXTRACTIVE, HashEmbedder(64), "m")
    assert reply.text == "The Rhine rises in the Swiss Alps. [1]"
    dragons = reply.sentences[1]
    assert not dragons.supported and dragons.citation is None and dragons.quote == ""
    assert len(reply.citations) == 1


def test_nothing_supported_falls_back_to_the_extractive_answer() -> None:
    reply = checked_answer(
        "q", "Dragons guard Oslo [1].", PASSAGES, EXTRACTIVE, HashEmbedder(64), "m"
    )
    assert reply.mode == "extractive" and reply.text == EXTRACTIVE.text
    assert reply.notice and "No sentence" in reply.notice
    assert reply.sentences and not reply.sentences[0].supported
    said_no = checked_answer(
        "q", "The passages don't answer this question.", PASSAGES, EXTRACTIVE, HashEmbedder(64), "m"
    )
    assert said_no.mode == "extractive" and said_no.notice


def test_passages_are_trimmed_to_the_context_never_past_it() -> None:
    long = [
        _passage(i, " ".join(f"Sentence number {j} of passage {i}." for j in range(80)))
        for i in range(1, 6)
    ]
    prompt = build_prompt("Which sentence?", long, None, context=1024, answer_tokens=200)
    assert prompt.trimmed and 0 < len(prompt.passages) < 5
    assert prompt.tokens <= 1024 * 0.75 - 200
    last = prompt.passages[-1]
    assert last.text.endswith(".") and long[len(prompt.passages) - 1].text.startswith(last.text)
    assert last.end - last.start == len(last.text)
    roomy = build_prompt("Which sentence?", long[:1], None, context=8192)
    assert not roomy.trimmed and count_tokens(long[0].text) < roomy.tokens


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_an_out_of_corpus_question_asks_no_model(assistant: Assistant, write) -> None:
    write("rhine.md", "# Rhine\n\nThe Rhine rises in the Swiss Alps. It flows into the North Sea.")
    assert assistant.ingest([write.base]).ok
    config = LLMConfig(_closed_port_url())  # any call would fail and set ``notice``
    events = list(assistant.ask_stream("Who painted the Mona Lisa?", llm=config))
    assert len(events) == 1 and isinstance(events[0], Answer)
    assert not events[0].found and events[0].notice is None
    # An in-corpus question does try the server, fails, and answers with quotes instead.
    events = list(assistant.ask_stream("The Rhine rises in which Swiss Alps?", llm=config))
    reply = events[-1]
    assert isinstance(reply, Answer) and not any(isinstance(e, Token) for e in events)
    assert reply.found and reply.mode == "extractive" and "Could not reach" in (reply.notice or "")
    citation = reply.citations[0]
    text = source_text(str(write.base / "rhine.md"), citation.article_id)
    assert text[citation.start : citation.end] == citation.quote


class StallingServer:
    """A loopback server that names a model (GET /models) but never answers a completion: it
    reads the request and holds the connection open until closed. A timeout then fires
    whatever the machine's speed (no race with a real model)."""

    def __init__(self) -> None:
        import threading

        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"
        self.stalled = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        import threading

        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed
            request = conn.recv(65536)
            if request.startswith(b"GET"):
                reply = b'{"data":[{"id":"stalling"}]}'
                head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                head += f"Content-Length: {len(reply)}\r\nConnection: close\r\n\r\n"
                conn.sendall(head.encode() + reply)
                conn.close()
            else:
                self.held.append(conn)  # never answered...
                self.stalled.set()
                # ...but dropped after 60 s, so a client that ignores its timeout fails the
                # test (with another message) instead of hanging it
                threading.Timer(60, conn.close).start()

    def close(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()


def test_a_server_that_stalls_times_out_with_how_to_raise_it(assistant: Assistant, write) -> None:
    write("rhine.md", "# Rhine\n\nThe Rhine rises in the Swiss Alps. It flows into the North Sea.")
    assert assistant.ingest([write.base]).ok
    server = StallingServer()
    try:
        config = LLMConfig(server.url, timeout=0.3)
        events = list(assistant.ask_stream("The Rhine rises in which Swiss Alps?", llm=config))
    finally:
        server.close()
    assert server.stalled.is_set(), "the completion request reached the stalling server"
    reply = events[-1]
    assert isinstance(reply, Answer) and not any(isinstance(e, Token) for e in events)
    assert reply.found and reply.mode == "extractive" and reply.citations
    assert "did not answer within 0.3 s" in (reply.notice or "") and "--llm-timeout" in (
        reply.notice or ""
    )


def _recorded_stream(deltas: list[str]) -> bytes:
    """An SSE body as llama-server sends it, one chunk per delta, then [DONE]."""
    import json

    frames = [
        {"choices": [{"index": 0, "delta": {"content": d}}], "model": "recorded"} for d in deltas
    ]
    body = b"".join(b"data: " + json.dumps(f).encode() + b"\n\n" for f in frames)
    return body + b"data: [DONE]\n\n"


def test_each_sentence_is_checked_as_soon_as_it_is_complete() -> None:
    # The marker of the first sentence comes after its period, in pieces ("[", "2", "]"): the
    # sentence is complete only once the next one has begun.
    deltas = ["The Rhine rises", " in the Swiss Alps.", " [", "2", "]", " Dragons", " guard"]
    deltas += [" Oslo [1].", " It flows", " into the North Sea."]
    url = _serve_once(_recorded_stream(deltas))
    events = list(generate("q", PASSAGES, EXTRACTIVE, HashEmbedder(64), LLMConfig(url)))
    kinds = [type(e).__name__ for e in events]
    verdicts = [e for e in events if isinstance(e, Verdict)]
    assert [v.index for v in verdicts] == [0, 1, 2]
    # The first verdict comes right before " Dragons", the token that showed the first
    # sentence complete (after its marker), not before; the last before the Answer.
    first = kinds.index("Verdict")
    assert events[first + 1] == Token(" Dragons") and kinds[:first] == ["Token"] * 5
    assert kinds[-2:] == ["Verdict", "Answer"]
    assert [(v.sentence, v.supported) for v in verdicts] == [
        ("The Rhine rises in the Swiss Alps.", True),
        ("Dragons guard Oslo.", False),
        ("It flows into the North Sea.", True),
    ]
    assert verdicts[0].passage == 2 and not verdicts[0].reattributed
    assert verdicts[0].quote == "The Rhine rises in the Swiss Alps."
    # The final answer is the one checked from the whole text, verdicts or not.
    final = events[-1]
    text = "".join(e.text for e in events if isinstance(e, Token))
    assert final == checked_answer("q", text, PASSAGES, EXTRACTIVE, HashEmbedder(64), "recorded")
    assert [s.supported for s in final.sentences] == [v.supported for v in verdicts]


def test_a_partial_marker_does_not_complete_a_sentence() -> None:
    assert complete_sentences("The Rhine rises in the Alps. [2") == []
    assert complete_sentences("The Rhine rises in the Alps. [2] I") == []
    done = complete_sentences("The Rhine rises in the Alps. [2] It flo")
    assert [(s.text, s.cited) for s in done] == [("The Rhine rises in the Alps.", [2])]


def test_generative_eval_figures_count_as_documented() -> None:
    from qa.eval.evaluation import Question
    from qa.eval.generative import GenerativeResult, markdown_generative, summarise_generative
    from qa.types import SentenceCheck

    def result(n: int, mode: str, text: str, sentences: list[SentenceCheck], **kw: Any) -> Any:
        asked = Question(str(n), "q", ("Swiss Alps",), "t", "a1", (), n)
        values: dict[str, Any] = {"asked": True, "citations": 0, "citations_on_gold": 0}
        values |= {"first_token_s": 1.0, "seconds": 2.0, "notice": None, "model": "m"} | kw
        return GenerativeResult(asked, mode=mode, text=text, sentences=tuple(sentences), **values)

    right = SentenceCheck("The Rhine rises in the Swiss Alps.", [2], True, 0.9, 1, "q")
    moved = SentenceCheck("It flows north.", [9], True, 0.8, 2, "q", reattributed=True)
    uncited = SentenceCheck("It is long.", [], True, 0.8, 3, "q", reattributed=True)
    dropped = SentenceCheck("Dragons guard Oslo.", [1], False, 0.3)
    results = [
        result(1, "generative", "The Rhine rises in the Swiss Alps. [1]", [right, moved, dropped]),
        result(2, "generative", "It is long. [1]", [uncited]),
        result(3, "extractive", "Quoted Swiss Alps. [1]", [], notice="timed out"),
        result(4, "extractive", "", [], asked=False, first_token_s=None),  # abstained
    ]
    summary = summarise_generative(results)
    assert summary["questions_in_corpus"] == 4 and summary["asked_model"] == 3
    assert summary["answer_hit_rate"] == 2 / 4  # the fallback's quote hits; abstaining misses
    assert summary["fallback_rate"] == 1 / 3 and summary["generative_answers"] == 2
    assert summary["sentences"] == 4 and summary["dropped_sentences"] == 1 / 4
    # recall: right / all sentences; precision: right / the sentences that cite something.
    assert summary["citation_recall"] == 1 / 4 and summary["citation_precision"] == 1 / 3
    assert summary["gold_citation_precision"] is None  # no gold spans given
    assert summary["notices"] == ["timed out"] and summary["model"] == "m"
    table = markdown_generative(summary, {"answers": {"answer_hit_rate": 0.75}})
    assert "| answer hit rate | 0.500 | 0.750 |" in table
    assert "the trained verifier" in table and "ALCE" in table


def test_the_cli_marks_each_streamed_sentence_as_it_is_checked(
    assistant: Assistant, write, capsys: pytest.CaptureFixture[str]
) -> None:
    from qa.cli.llm import UNSUPPORTED, VERIFIED, ask_printing

    write("rhine.md", "# Rhine\n\nThe Rhine rises in the Swiss Alps. It flows into the North Sea.")
    assert assistant.ingest([write.base]).ok
    deltas = ["The Rhine rises", " in the Swiss Alps.", " [", "1", "]", " Dragons guard Oslo."]
    deltas += [" It flows into the North Sea."]
    config = LLMConfig(_serve_once(_recorded_stream(deltas)))
    question = "The Rhine rises in which Swiss Alps?"
    reply = ask_printing(assistant, question, None, 5, None, config, stream=True)
    shown = capsys.readouterr().err
    assert shown.strip() == (
        f"Model: The Rhine rises in the Swiss Alps. [1]{VERIFIED} Dragons guard Oslo.{UNSUPPORTED}"
        f" It flows into the North Sea.{VERIFIED}"
    )
    assert reply.mode == "generative" and "Dragons" not in reply.text
