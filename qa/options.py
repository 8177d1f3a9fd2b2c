"""Click options shared by the ``qa`` commands, and by commands other packages add to ``qa``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

INDEX_HELP = "Index folder (default: $QA_INDEX or ./index)."


def index_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--index",
        "index_dir",
        envvar="QA_INDEX",
        default="index",
        show_default=True,
        type=click.Path(file_okay=False),
        help=INDEX_HELP,
    )(command)


def json_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(command)
