"""A plugin as another package would write one: a format (reStructuredText) and a store.

Registered through entry points (tests/test_plugins.py installs it for a test run)::

    [project.entry-points."article_qa.formats"]
    rst = "qa_example_plugin:RST"

    [project.entry-points."article_qa.stores"]
    tidy = "qa_example_plugin:TIDY"
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from qa.pipeline.formats import Format, Parsed, text_of
from qa.pipeline.records import Record, title_from_name
from qa.stores.base import IndexStore, StoreStats
from qa.stores.factory import StoreKind

_TITLE = re.compile(r"\A(?P<title>[^\n]+)\n(?P<rule>[=\-~]{3,})[ \t]*\n")


def read_rst(data: bytes, stem: str) -> Parsed:
    """``.rst``: the title is the first line when a line of ``=`` (or ``-``) underlines it."""
    text = text_of(data)
    match = _TITLE.match(text)
    if match and len(match.group("rule")) >= len(match.group("title").rstrip()):
        return [Record(title=match.group("title").strip(), text=text[match.end() :])], []
    return [Record(title=title_from_name(stem), text=text)], []


RST = Format((".rst",), read_rst, ".rst (reStructuredText)")


def open_tidy(uri: str | None, folder: Path, dimension: Callable[[], int]) -> IndexStore:
    """The embedded store under another name: enough to show every path a store takes."""
    from qa.stores.embedded.store import EmbeddedStore

    class TidyStore(EmbeddedStore):
        def stats(self) -> StoreStats:
            return replace(super().stats(), store="tidy://")

    return TidyStore.open(folder, dimension)


TIDY = StoreKind(
    "tidy",
    ("tidy",),
    "tidy:// (the example plugin's store)",
    lambda value, index_dir: "tidy://",
    open_tidy,
)
