"""The ``qa`` command line: ``commands`` (the click group), ``eval`` (``qa eval``), ``options``
(options several commands share) and ``progress`` (tqdm bars)."""

from qa.cli.commands import cli, main

__all__ = ["cli", "main"]
