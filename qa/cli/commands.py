"""The ``qa`` command line: a thin shell over ``qa.Assistant``.

Each command parses its options, calls the library, and prints. Library errors (``QAError``)
become one-line messages here, at one boundary; anything else is a bug and shows a traceback.
Heavy modules (torch, faiss) load inside commands, so ``qa --help`` starts instantly.
"""

from __future__ import annotations

import inspect
import logging
import shlex
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from qa.cli.llm import ask_printing, llm_config, llm_options, print_checks
from qa.cli.options import (
    backend_option,
    index_option,
    json_option,
    print_json,
    ranking_reader_option,
    reader_option,
)
from qa.cli.output import echo, secho
from qa.cli.summaries import WholeSummaries
from qa.errors import QAError
from qa.layout import DEFAULT_INDEX
from qa.pipeline.chunking import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS, MIN_CHUNK_TOKENS
from qa.pipeline.corpus import DEFAULT_MAX_FILE_MB
from qa.pipeline.formats import suffixes
from qa.types import make_filters
from qa.wording import plural

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.types import Answer

# Typed alone in `qa chat`, these end it (as in simonw/llm's chat) instead of being asked.
END_CHAT = ("exit", "quit")


class QAGroup(WholeSummaries):
    """Turns ``QAError`` into ``Error: <message>`` and exit status 1, and Ctrl-C into 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QAError as error:
            raise click.ClickException(str(error)) from error
        except KeyboardInterrupt:
            echo(
                "\nInterrupted. The index keeps every article finished before the interruption; "
                "run the same command again to finish.",
                err=True,
            )
            sys.exit(130)


class FormatsHelp(click.Command):
    """A command whose help names the formats ingest reads: ``{formats}`` in its help becomes
    the list of ``qa.pipeline.formats`` (plugins' formats included) when the help is shown."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from qa.pipeline.formats import listed

        text = inspect.cleandoc(self.help or "").partition("\f")[0]
        text = text.replace("{formats}", listed())
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(text)


def open_assistant(
    index_dir: str, model: str | None = None, create: bool = False, **kw: Any
) -> Assistant:
    from qa.assistant import Assistant

    return Assistant.open(index_dir, model=model, create=create, **kw)


@click.group(cls=QAGroup)
@click.version_option(package_name="article-qa")
def cli() -> None:
    """Ask questions about your articles; every answer sentence cites its source.

    \b
    Start with:
      qa ingest corpus/articles     # index a folder of articles
      qa ask "Who introduced plague to Europe?"
      qa chat                       # several questions, with follow-ups
    """


@cli.command(cls=FormatsHelp)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@index_option
@click.option(
    "--model", help="Local sentence-transformers model folder (default: bundled all-MiniLM-L6-v2)."
)
@backend_option
@click.option(
    "--chunk-tokens",
    type=click.IntRange(MIN_CHUNK_TOKENS),
    help=f"Tokens per chunk (new index; default {DEFAULT_CHUNK_TOKENS}).",
)
@click.option(
    "--overlap-tokens",
    type=click.IntRange(0),
    help=f"Tokens shared by neighbouring chunks (new index; default {DEFAULT_OVERLAP_TOKENS}, "
    "or a fifth of smaller chunks).",
)
@click.option(
    "--prune",
    is_flag=True,
    help="Also remove articles whose files were deleted from the folders given.",
)
@click.option(
    "--max-file-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_MAX_FILE_MB,
    show_default=True,
    help="Skip files larger than this.",
)
@click.option(
    "--store",
    metavar="STORE",
    help="Where a new index keeps its chunks: embedded (default: SQLite + FAISS in the index "
    "folder), milvus (a Milvus Lite file in the index folder), milvus:///path/to/file.db, or "
    "http://host:19530 (a Milvus server; token from $QA_MILVUS_TOKEN); add #name to keep "
    "several indexes in one Milvus (collections name_chunks, name_articles). Needs "
    "pip install 'article-qa[milvus]'. An existing index keeps its own.",
)
@click.option(
    "--workers",
    metavar="WORKERS",
    help="Embed on a Ray cluster instead of in this process (the default): ray (start a local "
    "cluster on this machine's cores) or ray://HOST:10001 (a running cluster; its nodes need "
    "article-qa and the model). Same vectors either way; a failed worker's batch is retried. "
    "Needs pip install 'article-qa[ray]'.",
)
@click.option(
    "--sentence-vectors",
    metavar="WAY",  # checked by Assistant.open: qa.config would slow `qa --help` 0.12 -> 0.23 s
    help="How a new index makes its vectors: pooled (the default: each sentence embedded with "
    "the title, each chunk's vector pooled from them), titled (each chunk embedded too: about "
    "twice the ingest time, answers within .004), alone or late. An existing index keeps its "
    "own.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@json_option
def ingest(
    paths: tuple[str, ...],
    index_dir: str,
    model: str | None,
    backend: str | None,
    chunk_tokens: int | None,
    overlap_tokens: int | None,
    prune: bool,
    max_file_mb: float,
    store: str | None,
    workers: str | None,
    sentence_vectors: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Add or update articles from files, folders (searched recursively) and web addresses.

    Reads {formats}, and their .gz versions; an http(s) address is fetched (a page, or each
    item of an RSS/Atom feed), and fetched again only when it changed.
    Unchanged articles are skipped; changed ones are re-indexed; a bad file is reported and
    the rest is ingested. Exit status 1 means some file or record failed.

    \b
    Examples:
      qa ingest corpus/articles notes/ report.html report.pdf
      qa ingest https://example.org/feed.xml
      qa ingest corpus/articles --index news --store milvus
      qa ingest squad.json.gz --workers ray://head:10001
      qa ingest corpus/articles --index titled --sentence-vectors titled
    """
    from qa.cli.progress import TqdmProgress

    assistant = open_assistant(
        index_dir,
        model,
        create=True,
        backend=backend,
        chunk_tokens=chunk_tokens,
        overlap_tokens=overlap_tokens,
        store=store,
        sentence_vectors=sentence_vectors,
    )
    with assistant, TqdmProgress(disable=quiet or as_json) as progress:
        report = assistant.ingest(
            paths, prune=prune, max_file_mb=max_file_mb, progress=progress, workers=workers
        )
    if as_json:
        print_json(report.to_dict())
    else:
        for failure in report.failed:
            secho(f"failed: {failure}", fg="red", err=True)
        if report.skipped:
            echo(skipped_line(report.skipped), err=True)
        echo(report.summary())
    if not report.ok:
        sys.exit(1)


SKIPPED_NAMED = 3  # files named on the skipped line; more would bury it (--json lists all)


def skipped_line(skipped: list[str]) -> str:
    """ "skipped 2 files that are not articles: a.csv, b.png (read: .txt, .md, ...)"."""
    what = "is not an article" if len(skipped) == 1 else "are not articles"
    names = ", ".join(skipped[:SKIPPED_NAMED])
    if len(skipped) > SKIPPED_NAMED:
        names += f" and {len(skipped) - SKIPPED_NAMED:,} more"
    read = ", ".join(suffixes())
    return f"skipped {plural(len(skipped), 'file')} that {what}: {names} (read: {read})"


@cli.command(name="list")
@index_option
@json_option
def list_articles(index_dir: str, as_json: bool) -> None:
    """List the articles in the index: id, chunks, title, source.

    \b
    Example:
      qa list --json
    """
    with open_assistant(index_dir) as assistant:
        articles = assistant.articles()
    if as_json:
        print_json([a.to_dict() for a in articles])
        return
    if not articles:
        echo("The index is empty. Add articles with: qa ingest PATH")
        return
    for article in articles:
        chunks = plural(article.chunks, "chunk")
        echo(f"{article.id}  {chunks:>10}  {article.title}  ({article.source})")
    echo(plural(len(articles), "article"))


@cli.command()
@index_option
@json_option
def stats(index_dir: str, as_json: bool) -> None:
    """Show what the index holds: articles, chunks, tokens, model, size on disk."""
    with open_assistant(index_dir) as assistant:
        info = assistant.stats()
    if as_json:
        print_json(info.to_dict())
        return
    rows = [
        ("index", info.index_dir),
        ("articles", f"{info.articles:,}"),
        ("chunks", f"{info.chunks:,}"),
        ("tokens", f"{info.tokens:,} ({info.encoding})"),
        (
            "model",
            f"{info.model or '(none yet)'}"
            + (f", {info.dimension}-d" if info.dimension else "")
            + (f" ({info.backend})" if info.backend else ""),
        ),
        ("chunking", f"{info.chunk_tokens} tokens, {info.overlap_tokens} overlap"),
        ("vector index", info.vector_index or "(none yet)"),
        ("keyword index", info.keyword_index),
        ("store", info.store),
        ("size on disk", f"{info.size_bytes / 2**20:.1f} MB"),
        ("updated", info.updated_at or "never"),
    ]
    for name, value in rows:
        echo(f"{name:>13}: {value}")


@cli.command()
@click.argument("targets", nargs=-1, required=True)
@index_option
def remove(targets: tuple[str, ...], index_dir: str) -> None:
    """Remove articles by id, or all articles read from a file or folder.

    \b
    Example:
      qa remove 3d73d4f1d71517dd
      qa remove corpus/articles/warsaw.md
    """
    with open_assistant(index_dir) as assistant:
        removed = assistant.remove(targets)
    echo(f"removed {plural(len(removed), 'article')}")


@cli.command()
@index_option
@click.option(
    "--repair", is_flag=True, help="Rebuild what can be rebuilt from the database, then check."
)
@json_option
def check(index_dir: str, repair: bool, as_json: bool) -> None:
    """Verify the index: database, vectors, keyword index and chunk offsets agree.

    Each problem is one line saying what is wrong and what to do; --repair rebuilds the vector
    file and the keyword index from the database, and re-chunks articles whose chunks are
    damaged. On a Milvus store it finds what interrupted writes leave (chunks of no article or
    of old versions, miscounted articles); --repair deletes those chunks and marks the articles
    for the next ingest. Exit status 1 means problems remain.

    \b
    Example:
      qa check --repair
    """
    with open_assistant(index_dir) as assistant:
        report = assistant.repair() if repair else assistant.check()
    if as_json:
        print_json(report.to_dict())
    else:
        for line in report.repaired:
            echo(f"repaired: {line}")
        for line in report.notes:
            echo(f"note: {line}")
        for line in report.problems:
            secho(f"problem: {line}", fg="red", err=True)
        if report.ok:
            agree = (
                "articles, chunks and offsets agree"
                if assistant.store_uri
                else "the database, vectors, keyword index and offsets agree"
            )
            counted = f"{plural(report.articles, 'article')}, {plural(report.chunks, 'chunk')}"
            echo(f"ok: {counted}; {agree}.")
    if not report.ok:
        sys.exit(1)


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--article",
            "articles",
            multiple=True,
            help="Only this article (id or exact title); repeatable.",
        ),
        click.option("--source", help="Only articles read from files under this path."),
        click.option(
            "--since",
            metavar="DATE",
            help='Only articles dated on or after this day: 2024-03-01, 2024-03, 2024 or "last '
            'year" (a month or year counts from its first day).',
        ),
        click.option(
            "--until",
            metavar="DATE",
            help="Only articles dated on or before this day (a month or year counts to its "
            "last day).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def quote(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def print_answer(reply: Answer) -> None:
    from qa.conversations import answer_text

    echo(answer_text(reply))


@cli.command()
@click.argument("question")
@click.option(
    "-k", "k", type=click.IntRange(1, 50), default=5, show_default=True, help="Passages to keep."
)
@filter_options
@llm_options
@reader_option
@index_option
@json_option
def ask(
    question: str,
    k: int,
    articles: tuple[str, ...],
    source: str | None,
    since: str | None,
    until: str | None,
    no_reader: bool,
    llm_url: str | None,
    llm_model: str | None,
    llm_context: int,
    llm_timeout: float,
    llm_check: str,
    no_stream: bool,
    index_dir: str,
    as_json: bool,
) -> None:
    """Answer a question with quoted sentences, each cited as [n].

    When the articles don't answer it, says so and lists possibly related passages. --json
    prints the whole answer; each citation has a link that opens its source at the quote (a web
    page with a text fragment, a PDF at its page).

    \b
    Example:
      qa ask "Who introduced plague to Europe?"
      qa ask "Who brought plague to Europe?" --llm http://127.0.0.1:11434/v1 --llm-model qwen2.5:3b
    """
    config = llm_config(llm_url, llm_model, llm_context, llm_timeout, llm_check)
    filters = make_filters(articles, source=source, since=since, until=until)
    with open_assistant(index_dir, reader=not no_reader) as assistant:
        if config is None:
            reply = assistant.ask(question, k=k, filters=filters)
        else:
            stream = not (no_stream or as_json)
            reply = ask_printing(assistant, question, None, k, filters, config, stream)
    if as_json:
        from qa.links import answer_dict

        print_json(answer_dict(reply))  # each citation with the link that opens its quote
    else:
        print_answer(reply)
        print_checks(reply)


@cli.command()
@click.argument("query")
@click.option(
    "-k", "k", type=click.IntRange(1, 100), default=5, show_default=True, help="Passages to show."
)
@filter_options
@ranking_reader_option
@index_option
@json_option
def search(
    query: str,
    k: int,
    articles: tuple[str, ...],
    source: str | None,
    since: str | None,
    until: str | None,
    no_reader: bool,
    index_dir: str,
    as_json: bool,
) -> None:
    """List the passages most relevant to a query, with scores (reader, dense + keyword).

    The top passages are re-ranked by the reader: "reader 0.93" is its probability that the
    passage's best sentence answers the query (--no-reader: the fused ranking alone).

    \b
    Example:
      qa search "plague ships Sicily" -k 3
    """
    filters = make_filters(articles, source=source, since=since, until=until)
    with open_assistant(index_dir, reader=not no_reader) as assistant:
        passages = assistant.search(query, k=k, filters=filters)
    if as_json:
        print_json([p.to_dict() for p in passages])
        return
    for passage in passages:
        where = f" ({passage.url})" if passage.url else ""
        reader = "" if passage.reader_score is None else f"reader {passage.reader_score:.2f}, "
        echo(
            f"{passage.rank}. {passage.title}{where}  {reader}score {passage.score:.2f} "
            f"(cosine {passage.dense_score:.2f}, bm25 {passage.keyword_score:.1f})"
        )
        echo(f"   chars {passage.start}-{passage.end}: {quote(passage.text, 300)}")


@cli.command()
@click.option(
    "-k", "k", type=click.IntRange(1, 50), default=5, show_default=True, help="Passages to keep."
)
@click.option(
    "--resume",
    metavar="ID",
    is_flag=False,
    flag_value="latest",
    default=None,
    help="Continue a saved conversation (the latest when no ID is given; see qa history).",
)
@llm_options
@reader_option
@index_option
def chat(
    k: int,
    resume: str | None,
    no_reader: bool,
    llm_url: str | None,
    llm_model: str | None,
    llm_context: int,
    llm_timeout: float,
    llm_check: str,
    no_stream: bool,
    index_dir: str,
) -> None:
    """Ask questions one after another; follow-ups use the conversation so far.

    Type a question and press Enter; exit, quit, an empty line or Ctrl-D ends the chat.
    Each question and answer is saved in the index folder (conversations.sqlite): list them
    with qa history, continue one with --resume.

    \b
    Example:
      qa chat
      ? When did the Black Death reach Europe?
      ? How many people did it kill?
      qa chat --resume              # continue the latest conversation
      qa chat --resume 3f2a9c01d4e5
    """
    from qa.conversations import Conversations, turns_label
    from qa.types import Turn

    config = llm_config(llm_url, llm_model, llm_context, llm_timeout, llm_check)
    with open_assistant(index_dir, reader=not no_reader) as assistant:
        chats = Conversations(index_dir)
        history: list[Turn] = []
        conversation_id: str | None = None
        if resume is not None:
            if resume == "latest":
                resumed = chats.latest(None)
            else:
                resumed = chats.get(None, chats.resolve(None, resume))
            if resumed is None:
                raise QAError("No saved conversation to resume yet. Start one with: qa chat")
            conversation_id, history = resumed.id, resumed.history()
            turns = turns_label(len(history))
            echo(f"Resuming {resumed.title!r} ({turns}).", err=True)
        piped = not sys.stdin.isatty()
        if piped:
            echo("Answering the questions given, one per line.", err=True)
        else:
            line_editing([turn.question for turn in history])
            echo("Ask about your articles (exit, an empty line or Ctrl-D quits).", err=True)
        while True:
            try:
                question = input("" if piped else "? ").strip()
            except EOFError:
                if not piped:
                    echo(err=True)  # after the ^D the terminal shows
                break
            if piped:
                if not question:
                    continue  # a blank line in a file of questions ends nothing
                echo(f"? {question}")  # a terminal shows what was typed; a transcript, here
            if not question or question.lower() in END_CHAT:
                break
            try:
                if config is None:
                    reply = assistant.ask(question, history=history, k=k)
                else:
                    stream = not no_stream
                    reply = ask_printing(assistant, question, history, k, None, config, stream)
            except QAError as error:
                secho(f"Error: {error}", fg="red", err=True)
                continue
            print_answer(reply)
            print_checks(reply)
            echo()
            history.append(Turn.of(reply))
            conversation_id = chats.save(None, conversation_id, reply)
    if conversation_id is not None:
        where = "" if index_dir == DEFAULT_INDEX else f" --index {shlex.quote(index_dir)}"
        echo(
            f"Saved as conversation {conversation_id}. Continue it with: "
            f"qa chat --resume {conversation_id}{where}",
            err=True,
        )


def line_editing(asked: list[str]) -> None:
    """Arrow keys that move in the line and bring back earlier questions (the conversation's
    too, when it is resumed), as in a shell: ``input`` uses GNU readline once it is imported.
    Without it (a Python built without readline) the keys print as ``^[[A``, as before."""
    try:
        import readline
    except ImportError:
        return
    for question in asked:
        readline.add_history(question)


def _add_eval_command() -> None:
    from qa.cli.eval import eval_command
    from qa.cli.history import history_command
    from qa.cli.mcp import mcp_command
    from qa.cli.watch import watch_command

    cli.add_command(eval_command)
    cli.add_command(history_command)
    cli.add_command(mcp_command)
    cli.add_command(watch_command)


_add_eval_command()


def _add_plugin_commands() -> None:
    """Commands registered by other packages under the ``article_qa.commands`` entry point."""
    from qa.plugins import registered

    for name, command in registered("article_qa.commands", click.Command):
        if name not in cli.commands:
            cli.add_command(command, name)


_add_plugin_commands()


def show_notices() -> None:
    """Print the library's notices (such as a one-time model conversion) on stderr."""
    logger = logging.getLogger("article_qa")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def main() -> None:
    show_notices()
    cli(prog_name="qa")
