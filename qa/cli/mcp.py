"""``qa mcp``: serve the index to MCP clients over stdio (the server is qa/mcp_server.py)."""

from __future__ import annotations

import click

from qa.cli.options import index_option, no_reader_flag
from qa.cli.output import echo


@click.command(name="mcp")
@index_option
@no_reader_flag(
    "Serve search and ask without the trained reader: passages in retrieval's order, answers "
    "quoted by the word-overlap score"
)
def mcp_command(index_dir: str, no_reader: bool) -> None:
    """Serve the index to MCP clients (desktop assistants, agents) over stdio.

    The client starts this command and talks to it on stdin/stdout. Tools: search(query, k),
    ask(question), list_articles() and get_passage(article, start, end); each result carries
    the quote, its character offsets, the article's URL, the page (PDFs) and a link that opens
    the quote. Messages go to stderr. Configure a client with the command `qa` and the
    arguments `mcp --index /absolute/path/to/index` (see the README). search and ask use the
    trained reader, as qa search and qa ask do (--no-reader: without it).

    \b
    Example:
      qa mcp --index ~/notes-index
    """
    from qa.assistant import Assistant
    from qa.mcp_server import build_server

    # The index must exist: a client gets a clear startup error, not an empty server.
    with Assistant.open(index_dir, create=False, reader=not no_reader) as assistant:
        echo(f"article-qa MCP server on stdio, index {assistant.index_dir}", err=True)
        build_server(assistant).run("stdio")
