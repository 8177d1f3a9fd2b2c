"""Click options shared by the ``qa`` commands, and by commands other packages add to ``qa``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from qa.cli.output import json_text
from qa.layout import DEFAULT_INDEX, INDEX_ENV

INDEX_HELP = f"Index folder (default: ${INDEX_ENV} or ./{DEFAULT_INDEX})."


def index_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--index",
        "index_dir",
        envvar=INDEX_ENV,
        default=DEFAULT_INDEX,
        type=click.Path(file_okay=False),
        help=INDEX_HELP,
    )(command)


def json_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(command)


def print_json(data: Any) -> None:
    """What ``--json`` prints, the same for every command: indented, non-ASCII kept, no
    control character reaching the terminal."""
    click.echo(json_text(data))


# The same names as embeddings.onnx.BACKENDS (a test checks), spelled out here so that parsing
# options never imports the embeddings package.
BACKENDS = ("onnx-int8", "onnx", "torch")


def backend_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--backend",
        type=click.Choice(BACKENDS),
        help="What runs the model, for a new index (default onnx-int8: fastest on CPUs; "
        "torch: plain sentence-transformers). An existing index keeps its own.",
    )(command)


def no_reader_flag(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--no-reader`` (also QA_NO_READER=1), with what it changes for the command."""
    return click.option(
        "--no-reader",
        is_flag=True,
        envvar="QA_NO_READER",
        help=f"{help_text} (also QA_NO_READER=1).",
    )


reader_option = no_reader_flag(
    "Answer without the trained reader: quote by the word-overlap score and abstain by "
    "retrieval confidence, as before it"
)
ranking_reader_option = no_reader_flag(
    "Rank without the trained reader: passages in the order retrieval found them, with no "
    "reader score"
)
