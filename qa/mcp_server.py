"""``qa mcp``: the index as an MCP server over stdio, for desktop assistants and agents.

Built on the official MCP Python SDK (``mcp.server.mcpserver.MCPServer``, FastMCP in SDK 1.x).
Four tools, each returning structured results (the quote, its offsets, the article's URL, the
page for PDFs, and the link that opens the quote: qa/links.py) and the same as text:

- ``search(query, k)``: the passages most relevant to a query;
- ``ask(question)``: the cited answer, as ``qa ask`` gives it;
- ``list_articles()``: what the index holds;
- ``get_passage(article, start, end)``: the exact text at some offsets (e.g. around a quote).

A shell like the CLI: it calls the ``Assistant`` facade only, one call at a time (the SDK runs
each tool call on a worker thread), and turns ``QAError`` into a tool error here, once, so the
client's model reads the message and the server goes on. Bad arguments (a missing query, ``k``
out of range) are the SDK's tool errors too. The bounds are the CLI's and the web UI's
(qa/limits.py): ``k`` from 1 to ``MAX_K``, a question or query of at most
``MAX_QUESTION_CHARS`` characters (checked by the facade).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from qa.conversations import answer_text
from qa.errors import QAError
from qa.limits import MAX_K
from qa.links import answer_links, quote_link
from qa.pipeline.formats import is_paged

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.types import Citation, Passage

NAME = "article-qa"
INSTRUCTIONS = (
    "Search and quote the user's own articles (an article-qa index). Use `ask` for a question "
    "(its answer quotes the articles, each sentence cited [n]); `search` for the passages on a "
    "topic; `get_passage` to read more around a quote, by its article id and character "
    "offsets; `list_articles` to see what is indexed. Quote the returned text as it is and "
    "give the link of each source."
)
T = TypeVar("T")


@dataclass(frozen=True)
class Hit:
    """A passage that ``search`` found: ``quote`` is ``text[start:end]`` of the article."""

    rank: int
    article_id: str
    title: str
    url: str | None
    quote: str
    start: int
    end: int
    page: int | None
    score: float
    link: str | None


@dataclass(frozen=True)
class SearchResult:
    query: str
    passages: list[Hit]


@dataclass(frozen=True)
class Source:
    """Citation ``[number]`` of an answer: ``quote`` is ``text[start:end]`` of the article."""

    number: int
    article_id: str
    title: str
    url: str | None
    quote: str
    start: int
    end: int
    page: int | None
    link: str | None


@dataclass(frozen=True)
class AskResult:
    """``answer`` quotes the articles, each sentence followed by its ``[n]``; ``found`` is
    false when the articles don't answer the question (then ``citations`` is empty)."""

    question: str
    answer: str
    found: bool
    citations: list[Source]
    text: str  # the answer with its sources, as `qa ask` prints it


@dataclass(frozen=True)
class ArticleEntry:
    id: str
    title: str
    url: str | None
    source: str
    date: str | None
    chars: int


@dataclass(frozen=True)
class ArticleList:
    articles: list[ArticleEntry]


@dataclass(frozen=True)
class PassageText:
    """``quote`` is ``text[start:end]`` of the article, word for word."""

    article_id: str
    title: str
    url: str | None
    quote: str
    start: int
    end: int
    page: int | None
    link: str | None


class Tools:
    """The four tools, over one assistant, one call at a time."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.lock = threading.Lock()

    def call(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the assistant; a ``QAError`` becomes the tool's error message."""
        try:
            with self.lock:
                return work()
        except QAError as error:
            raise ToolError(str(error)) from error

    def search(
        self,
        query: str,
        k: Annotated[int, Field(ge=1, le=MAX_K, description="How many passages.")] = 5,
    ) -> SearchResult:
        """The passages of the indexed articles most relevant to a query (hybrid: meaning and
        keywords), best first, each with its article, URL, the page it starts on (PDFs),
        character offsets and a link that opens the source at the passage."""
        return self.call(lambda: SearchResult(query, self._hits(query, k)))

    def _hits(self, query: str, k: int) -> list[Hit]:
        return [
            self._hit(passage, self._page(passage)) for passage in self.assistant.search(query, k)
        ]

    def _page(self, passage: Passage) -> int | None:
        if not is_paged(passage.source):
            return None
        return self.assistant.excerpt(passage.article_id, passage.start, passage.end).page

    @staticmethod
    def _hit(p: Passage, page: int | None) -> Hit:
        link = quote_link(p.article_id, p.url, p.text, page, p.source)
        return Hit(
            p.rank, p.article_id, p.title, p.url, p.text, p.start, p.end, page,
            round(p.score, 4), link,
        )  # fmt: skip

    def ask(self, question: str) -> AskResult:
        """Answer a question from the indexed articles: quoted sentences, each cited [n], with
        each citation's article, URL, page (PDFs), offsets and a link that opens the quote.
        When the articles don't answer it, ``found`` is false and the text lists the closest
        passages."""

        def answer() -> AskResult:
            reply = self.assistant.ask(question)
            links = answer_links(reply)
            sources = [_source(c, links.get(c.number)) for c in reply.citations]
            return AskResult(reply.question, reply.text, reply.found, sources, answer_text(reply))

        return self.call(answer)

    def list_articles(self) -> ArticleList:
        """The articles in the index: id (for get_passage), title, URL, source file, date and
        length in characters."""
        return self.call(
            lambda: ArticleList(
                [
                    ArticleEntry(a.id, a.title, a.url, a.source, a.date, a.chars)
                    for a in self.assistant.articles()
                ]
            )
        )

    def get_passage(
        self,
        article: Annotated[str, Field(description="The article's id (or exact title).")],
        start: Annotated[int, Field(ge=0, description="First character (0-based).")],
        end: Annotated[int, Field(ge=1, description="One past the last character.")],
    ) -> PassageText:
        """The exact text of an article from character ``start`` to ``end`` (offsets as
        search and ask give them; widen them to read around a quote), with its page for
        PDFs and a link that opens it."""

        def read() -> PassageText:
            e = self.assistant.excerpt(article, start, end)
            link = quote_link(e.article_id, e.url, e.text, e.page, e.source)
            return PassageText(e.article_id, e.title, e.url, e.text, e.start, e.end, e.page, link)

        return self.call(read)


def _source(c: Citation, link: str | None) -> Source:
    return Source(c.number, c.article_id, c.title, c.url, c.quote, c.start, c.end, c.page, link)


def build_server(assistant: Assistant) -> MCPServer:
    """The MCP server over ``assistant`` (run it with ``.run("stdio")``)."""
    server: MCPServer = MCPServer(NAME, instructions=INSTRUCTIONS, log_level="WARNING")
    tools = Tools(assistant)
    read_only = ToolAnnotations(read_only_hint=True)  # they never change the index
    for tool in (tools.search, tools.ask, tools.list_articles, tools.get_passage):
        server.add_tool(tool, annotations=read_only)
    return server
