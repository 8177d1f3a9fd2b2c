"""``open_store``: the one place that picks a store for an index folder.

The Milvus module is imported only for a Milvus store, so the embedded path never loads it (nor
pymilvus).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from qa.stores.base import IndexStore


def normalize_store(store: str | None, index_dir: Path) -> str | None:
    """A ``--store`` value as recorded in config.json (None: the embedded store); a bad one is a
    ``QAError`` (see ``qa.stores.milvus.store.normalize_store``)."""
    if store in (None, "", "embedded"):
        return None
    from qa.stores.milvus.store import normalize_store as normalize_milvus

    return normalize_milvus(store, index_dir)


def open_store(uri: str | None, folder: Path, dimension: Callable[[], int]) -> IndexStore:
    """The store of the index in ``folder``: embedded (``uri`` None) or the Milvus at ``uri``.

    ``dimension`` gives the vector size of a new index (one whose folder has no config yet).
    The embedded database opens now (a damaged one fails here); Milvus connects on first use,
    so opening an index never waits for a server, and a busy Milvus Lite file is reported by
    the command that needs it.
    """
    if uri is None:
        from qa.stores.embedded.store import EmbeddedStore

        return EmbeddedStore.open(folder, dimension)

    def connect() -> IndexStore:
        from qa.stores.milvus.store import MilvusStore

        return MilvusStore(uri, dimension(), index_dir=folder)

    return cast(IndexStore, _OnFirstUse(connect))


class _OnFirstUse:
    """A store that is opened when one of its methods is first used (closing an unopened one
    does nothing)."""

    def __init__(self, opener: Callable[[], IndexStore]) -> None:
        self._opener = opener
        self._opened: IndexStore | None = None

    def __getattr__(self, name: str) -> Any:
        if self._opened is None:
            self._opened = self._opener()
        return getattr(self._opened, name)

    def close(self) -> None:
        if self._opened is not None:
            self._opened.close()
            self._opened = None
