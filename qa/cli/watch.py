"""``qa watch``: keep an index in sync with folders (the logic is in qa/watch.py)."""

from __future__ import annotations

import click

from qa.cli.options import backend_option, index_option
from qa.cli.output import echo


@click.command(name="watch")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@index_option
@click.option(
    "--model", help="Local sentence-transformers model folder (default: bundled all-MiniLM-L6-v2)."
)
@backend_option
def watch_command(
    paths: tuple[str, ...], index_dir: str, model: str | None, backend: str | None
) -> None:
    """Keep the index in sync with files and folders until Ctrl-C.

    Ingests everything first (removing articles of files deleted meanwhile), then re-ingests
    each file created or edited and removes the articles of each file deleted, one line per
    change. Stopping it loses nothing; the next start catches up.

    \b
    Example:
      qa watch notes/ reports/ --index index
    """
    from qa.assistant import Assistant
    from qa.watch import Watcher

    with Assistant.open(index_dir, model=model, backend=backend, create=True) as assistant:
        watcher = Watcher(lambda: assistant, paths, log=lambda line: echo(line, err=True))
        echo(f"watching {', '.join(paths)} (Ctrl-C stops)", err=True)
        try:
            watcher.run()
        except KeyboardInterrupt:
            echo("stopped; the index holds every change applied so far", err=True)
