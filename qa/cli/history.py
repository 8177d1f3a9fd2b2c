"""``qa history``: the saved conversations of ``qa chat`` (the logic is in qa/conversations.py).

The command line has no login, so it sees the conversations saved without one (``qa chat``, and
``qa serve`` without ``--auth``); those of the web UI's users stay theirs.
"""

from __future__ import annotations

from pathlib import Path

import click

from qa.cli.options import index_option, json_option, print_json
from qa.cli.output import echo
from qa.cli.summaries import WholeSummaries
from qa.conversations import Conversations, turns_label
from qa.errors import QAError


@click.group(name="history", cls=WholeSummaries)
def history_command() -> None:
    """List, show, rename, delete and export saved conversations.

    \b
    Examples:
      qa history list
      qa history show 3f2a9c01d4e5
      qa history export 3f2a9c01d4e5 --format md > harbour.md
      qa history rename 3f2a9c01d4e5 "Harbour storm"
      qa history delete 3f2a9c01d4e5
    """


@history_command.command(name="list")
@index_option
@json_option
def list_conversations(index_dir: str, as_json: bool) -> None:
    """List saved conversations, the latest first: id, turns, last time, title."""
    listed = Conversations(index_dir).list(None)
    if as_json:
        print_json([c.to_dict() for c in listed])
        return
    if not listed:
        echo("No saved conversations yet. Start one with: qa chat")
        return
    for info in listed:
        echo(f"{info.id}  {turns_label(info.turns):>9}  {info.updated_at}  {info.title}")


@history_command.command()
@click.argument("conversation_id")
@index_option
def show(conversation_id: str, index_dir: str) -> None:
    """Print a conversation: each question and its answer with sources, as qa chat did, each
    source with the link that opens its quote."""
    chats = Conversations(index_dir)
    echo(chats.markdown(None, chats.resolve(None, conversation_id)), nl=False)


@history_command.command()
@click.argument("conversation_id")
@click.option(
    "--format",
    "form",
    type=click.Choice(["md", "json"]),
    default="md",
    show_default=True,
    help="Markdown (answers with [n] and their sources) or JSON (Answer.to_dict of each turn).",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write to this file, not stdout."
)
@index_option
def export(conversation_id: str, form: str, output: str | None, index_dir: str) -> None:
    """Export a conversation as Markdown or JSON."""
    chats = Conversations(index_dir)
    found = chats.resolve(None, conversation_id)
    text = chats.markdown(None, found) if form == "md" else chats.json(None, found) + "\n"
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise QAError(
                f"Cannot write {output} ({error.strerror or error}). Check that its folder "
                "exists and may be written, or print it instead (leave out -o)."
            ) from None
        echo(f"wrote {output}", err=True)
    else:
        echo(text, nl=False)


@history_command.command()
@click.argument("conversation_id")
@click.argument("title")
@index_option
def rename(conversation_id: str, title: str, index_dir: str) -> None:
    """Give a conversation a new title (it is listed by its first question until then)."""
    chats = Conversations(index_dir)
    found = chats.resolve(None, conversation_id)
    chats.rename(None, found, title)
    echo(f"renamed {found}")


@history_command.command()
@click.argument("conversation_id")
@index_option
def delete(conversation_id: str, index_dir: str) -> None:
    """Delete a saved conversation."""
    chats = Conversations(index_dir)
    found = chats.resolve(None, conversation_id)
    chats.delete(None, found)
    echo(f"deleted {found}")
