"""The ``qa`` command line: ``commands`` (the click group), ``eval`` (``qa eval``), ``options``
(options several commands share) and ``progress`` (tqdm bars).

``cli`` and ``main`` load on first use: a plugin that imports ``qa.cli.options`` (``qa serve``
in ui/command.py) must not import the commands, which load the plugins in turn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.cli.commands import cli, main

__all__ = ["cli", "main"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from qa.cli import commands

        return getattr(commands, name)
    raise AttributeError(f"module 'qa.cli' has no attribute {name!r}")
