"""``qa mcp``: the index as an MCP server over stdio (qa/mcp_server.py), driven by the MCP
SDK's own client (``stdio_client`` + ``ClientSession``), as a desktop assistant would.

One server process serves the whole module: the scenario lists the tools and calls each one,
with good and bad arguments, and the tests read what came back. ``Assistant.excerpt``, the
facade behind ``get_passage``, is tested directly too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from mcp import ClientSession, StdioServerParameters, stdio_client

from qa import ArticleNotFoundError, Assistant, SearchOptionError
from qa.assistant import MAX_EXCERPT_CHARS
from qa.cli.commands import cli
from qa.conversations import answer_text
from qa.pipeline.readers.pdf import PAGE_BREAK
from tests.conftest import source_text
from tests.pdf_fixtures import report_pdf

HARBOUR = (
    "---\ntitle: Harbour storm\nurl: https://news.example/harbour\n---\n\n"
    "A storm closed the harbour for three days. The harbour master Ana Lima reopened the harbour "
    "on Monday. Fishing boats returned at dawn."
)
BRIDGE = "# New bridge\n\nThe new bridge over the Vale river opened in May with a tram line."
LIGHTHOUSE = {
    1: ["The lighthouse report covers the northern cape."],
    2: ["The lighthouse keeper Tomas Berg repainted the lantern room in bright red."],
}
KEEPER = LIGHTHOUSE[2][0]
TOOLS = {"search", "ask", "list_articles", "get_passage"}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mcp")
    docs = root / "docs"
    docs.mkdir()
    (docs / "harbour.md").write_text(HARBOUR, encoding="utf-8")
    (docs / "bridge.md").write_text(BRIDGE, encoding="utf-8")
    (docs / "lighthouse.pdf").write_bytes(report_pdf(LIGHTHOUSE))
    with Assistant.open(root / "index", model="hash") as assistant:
        assert assistant.ingest([docs]).ok
    return root / "index"


@pytest.fixture(scope="module")
def local(index: Path) -> Any:
    with Assistant.open(index, create=False) as assistant:
        yield assistant


def server(index: Path) -> StdioServerParameters:
    # The client passes only a few variables on (HOME, PATH...): the test's own import path
    # and model cache go along.
    env = {name: os.environ[name] for name in ("PYTHONPATH", "QA_CACHE_DIR") if name in os.environ}
    return StdioServerParameters(
        command=sys.executable, args=["-m", "qa", "mcp", "--index", str(index)], env=env
    )


CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("search", "search", {"query": "Who reopened the harbour?", "k": 2}),
    ("ask", "ask", {"question": "Who reopened the harbour?"}),
    ("list", "list_articles", {}),
    ("lantern", "search", {"query": "Who repainted the lantern room?", "k": 1}),
    ("k 0", "search", {"query": "harbour", "k": 0}),
    ("k 51", "search", {"query": "harbour", "k": 51}),
    ("no query", "search", {"k": 3}),
    ("k text", "search", {"query": "harbour", "k": "many"}),
    ("empty question", "ask", {"question": "   "}),
    ("empty query", "search", {"query": "   "}),
    ("long question", "ask", {"question": "Who reopened it? " * 60}),  # the CLI's bound too
    ("long query", "search", {"query": "harbour " * 130, "k": 1}),
    ("unknown article", "get_passage", {"article": "no-such-article", "start": 0, "end": 5}),
    ("after errors", "list_articles", {}),
]


@pytest.fixture(scope="module")
def session(index: Path) -> dict[str, Any]:
    """Everything one client session saw: the tool list and each call's result."""
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with (
            stdio_client(server(index)) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            seen["tools"] = (await client.list_tools()).tools
            for name, tool, arguments in CALLS:
                seen[name] = await client.call_tool(tool, arguments)
            # Read the sentence on page 2 of the passage that search found in the PDF.
            lantern = seen["lantern"].structured_content["passages"][0]
            start = lantern["start"] + lantern["quote"].index(KEEPER)
            seen["passage"] = await client.call_tool(
                "get_passage",
                {"article": lantern["article_id"], "start": start, "end": start + len(KEEPER)},
            )
            seen["past the end"] = await client.call_tool(
                "get_passage", {"article": lantern["article_id"], "start": 0, "end": 10_000}
            )

    anyio.run(scenario)
    return seen


def test_the_four_tools_are_listed_with_their_schemas(session: dict[str, Any]) -> None:
    tools = {tool.name: tool for tool in session["tools"]}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and tool.output_schema, tool.name
        assert tool.annotations is not None and tool.annotations.read_only_hint
    search = tools["search"].input_schema["properties"]
    assert search["k"]["minimum"] == 1 and search["k"]["maximum"] == 50
    assert tools["get_passage"].input_schema["required"] == ["article", "start", "end"]


def test_search_gives_quotes_with_offsets_url_and_link(session: dict[str, Any]) -> None:
    result = session["search"]
    assert not result.is_error
    passages = result.structured_content["passages"]
    assert 1 <= len(passages) <= 2
    best = passages[0]
    assert best["title"] == "Harbour storm" and best["url"] == "https://news.example/harbour"
    assert "Ana Lima" in best["quote"]
    assert best["link"].startswith("https://news.example/harbour#:~:text=")
    assert best["page"] is None


def test_ask_gives_the_cited_answer(session: dict[str, Any], local: Assistant) -> None:
    result = session["ask"].structured_content
    expected = local.ask("Who reopened the harbour?")
    assert result["found"] and result["answer"] == expected.text
    assert result["text"] == answer_text(expected)
    (cited,) = result["citations"]
    source = next(p.source for p in expected.passages if p.article_id == cited["article_id"])
    assert cited["quote"] == source_text(source, cited["article_id"])[cited["start"] : cited["end"]]
    assert cited["url"] == "https://news.example/harbour" and cited["page"] is None
    assert cited["link"].startswith("https://news.example/harbour#:~:text=")


def test_list_articles_lists_the_index(session: dict[str, Any], local: Assistant) -> None:
    listed = session["list"].structured_content["articles"]
    assert [(a["id"], a["title"]) for a in listed] == [(a.id, a.title) for a in local.articles()]
    assert len(listed) == 3 and {"Harbour storm", "New bridge"} <= {a["title"] for a in listed}
    assert all(a["chars"] > 0 and a["source"] for a in listed)


def test_get_passage_gives_the_exact_text_and_the_pdf_page(
    session: dict[str, Any], local: Assistant
) -> None:
    lantern = session["lantern"].structured_content["passages"][0]
    passage = session["passage"].structured_content
    article = next(a for a in local.articles() if a.id == passage["article_id"])
    text = source_text(article.source, article.id)
    # A search passage gives the page it starts on: one more than the page breaks before it.
    assert KEEPER in lantern["quote"]
    assert lantern["page"] == 1 + text.count(PAGE_BREAK, 0, lantern["start"])
    assert passage["quote"] == text[passage["start"] : passage["end"]] == KEEPER
    assert passage["page"] == 2
    assert passage["link"] == f"{Path(article.source).as_uri()}#page=2"


@pytest.mark.parametrize(
    ("call", "says"),
    [
        ("k 0", "greater than or equal to 1"),
        ("k 51", "less than or equal to 50"),
        ("no query", "query"),
        ("k text", "valid integer"),
        ("empty question", "The question is empty"),
        ("empty query", "The query is empty"),  # as the tool names it
        ("long question", "The question is 1,"),
        ("long query", "The query is 1,"),
        ("unknown article", "No article 'no-such-article'"),
        ("past the end", "is not inside"),
    ],
)
def test_a_bad_argument_is_a_tool_error(session: dict[str, Any], call: str, says: str) -> None:
    result = session[call]
    assert result.is_error
    assert says in result.content[0].text


def test_the_server_goes_on_after_errors(session: dict[str, Any]) -> None:
    assert not session["after errors"].is_error
    assert session["after errors"].structured_content == session["list"].structured_content


@pytest.mark.parametrize(
    ("arguments", "env", "reader"),
    [([], {}, True), (["--no-reader"], {}, False), ([], {"QA_NO_READER": "1"}, False)],
)
def test_no_reader_serves_without_the_trained_reader(
    index: Path,
    monkeypatch: pytest.MonkeyPatch,
    arguments: list[str],
    env: dict[str, str],
    reader: bool,
) -> None:
    """As qa ask and qa search: the reader answers unless --no-reader or QA_NO_READER says not
    to (the server itself is replaced: only the assistant it is given is looked at)."""
    seen: dict[str, Any] = {}

    class Server:
        def run(self, transport: str) -> None:
            seen["transport"] = transport

    def build(assistant: Assistant) -> Server:
        seen["reader"] = assistant.reader_enabled
        return Server()

    monkeypatch.delenv("QA_NO_READER", raising=False)
    monkeypatch.setattr("qa.mcp_server.build_server", build)
    result = CliRunner().invoke(cli, ["mcp", "--index", str(index), *arguments], env=env)
    assert result.exit_code == 0, result.output
    assert seen == {"reader": reader, "transport": "stdio"}


def test_a_missing_index_fails_at_startup(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["mcp", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1 and "No index found in" in result.output


# -- Assistant.excerpt, behind get_passage --------------------------------------------------


def test_excerpt_is_the_article_text_at_the_offsets(assistant: Assistant, write) -> None:  # type: ignore[no-untyped-def]
    source = write("harbour.md", HARBOUR)
    assert assistant.ingest([source]).ok
    (article,) = assistant.articles()
    text = source_text(str(source), article.id)
    start = text.index("Ana Lima")
    excerpt = assistant.excerpt("Harbour storm", start, start + 8)  # by title too
    assert (excerpt.text, excerpt.article_id, excerpt.page) == ("Ana Lima", article.id, None)
    assert excerpt.url == "https://news.example/harbour"
    assert assistant.article("Harbour storm") == assistant.article(article.id) == article
    assert assistant.article("harbour storm") is None  # a title exactly, as excerpt reads it
    assert assistant.titled("Harbour storm") == [article]
    assert assistant.titled(article.id) == []  # an id is not a title
    with pytest.raises(SearchOptionError, match="is not inside"):
        assistant.excerpt(article.id, 5, len(text) + 1)
    with pytest.raises(SearchOptionError, match="is not inside"):
        assistant.excerpt(article.id, 9, 9)
    with pytest.raises(SearchOptionError, match="at most"):
        assistant.excerpt(article.id, 0, MAX_EXCERPT_CHARS + 1)
    with pytest.raises(ArticleNotFoundError):
        assistant.excerpt("nope", 0, 1)
