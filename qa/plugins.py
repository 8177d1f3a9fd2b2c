"""What other packages add to article-qa, through entry point groups:

- ``article_qa.commands``: ``qa`` commands (a ``click.Command``; the web UI adds ``qa serve``);
- ``article_qa.formats``: file formats (a ``qa.pipeline.formats.Format``);
- ``article_qa.stores``: stores (a ``qa.stores.factory.StoreKind``).

Each entry names the object (``"module:NAME"``); docs/architecture.md has an example package.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TypeVar

T = TypeVar("T")


def registered(group: str, kind: type[T]) -> list[tuple[str, T]]:
    """(entry name, object) of every entry point in ``group``, loaded; one that names anything
    but a ``kind`` is a ``TypeError`` naming the entry."""
    found: list[tuple[str, T]] = []
    for entry in entry_points(group=group):
        added = entry.load()
        if not isinstance(added, kind):
            raise TypeError(
                f"The {group} entry point {entry.name!r} ({entry.value}) must name a "
                f"{kind.__module__}.{kind.__qualname__}, not {type(added).__name__}"
            )
        found.append((entry.name, added))
    return found
