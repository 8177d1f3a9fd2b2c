"""The stores article-qa can keep an index in, by ``--store`` value: one table (``STORES``), and
``open_store``, the one place that picks a store for an index folder.

A ``--store`` value is a store's name (``embedded``, ``milvus``) or a URI whose scheme names the
store (``milvus:///data/qa.db``, ``http://host:19530``); config.json records it as the store's
``normalize`` writes it (None for the embedded default). Another package adds a store through the
``article_qa.stores`` entry point group: each entry names a ``StoreKind`` (docs/architecture.md;
tests/plugins/ has one), proven by one subclass of ``qa.testing.store_contract.StoreContract``.

A store's module is imported only when that store is used, so the embedded path never loads the
Milvus one (nor pymilvus).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from qa.errors import IndexFormatError
from qa.plugins import registered
from qa.stores.base import IndexStore

ENTRY_POINT_GROUP = "article_qa.stores"

Opener = Callable[[str | None, Path, Callable[[], int]], IndexStore]
"""``open(recorded value, index folder, dimension)``: the store of an index; ``dimension()``
gives the vector size of a new index (one whose folder has no config yet)."""


@dataclass(frozen=True)
class StoreKind:
    """A kind of store: the names and URI schemes ``--store`` picks it by, and how to open it."""

    name: str  # ``--store NAME`` picks it: "milvus"
    schemes: tuple[str, ...]  # ``--store SCHEME://...`` picks it: ("milvus", "http", "https")
    usage: str  # how help and errors name its values
    normalize: Callable[[str, Path], str | None]  # a --store value -> what config.json records
    open: Opener


def _normalize_embedded(value: str, index_dir: Path) -> str | None:
    return None  # the default: config.json records no store


def _open_embedded(uri: str | None, folder: Path, dimension: Callable[[], int]) -> IndexStore:
    # The embedded database opens now (a damaged one fails here).
    from qa.stores.embedded.store import EmbeddedStore

    return EmbeddedStore.open(folder, dimension)


def _normalize_milvus(value: str, index_dir: Path) -> str:
    from qa.stores.milvus.address import normalize_store

    return normalize_store(value, index_dir)


def _open_milvus(uri: str | None, folder: Path, dimension: Callable[[], int]) -> IndexStore:
    # Milvus connects on first use, so opening an index never waits for a server, and a busy
    # Milvus Lite file is reported by the command that needs it.
    assert uri is not None

    def connect() -> IndexStore:
        from qa.stores.milvus.store import MilvusStore

        return MilvusStore(uri, dimension(), index_dir=folder)

    return on_first_use(connect)


EMBEDDED = StoreKind(
    "embedded",
    (),
    "embedded (the default: SQLite + FAISS in the index folder)",
    _normalize_embedded,
    _open_embedded,
)
STORES: tuple[StoreKind, ...] = (
    EMBEDDED,
    StoreKind(
        "milvus",
        ("milvus", "http", "https"),
        "milvus (a Milvus Lite file in the index folder), milvus:///path/to/file.db, or "
        "http://host:19530 for a Milvus server",
        _normalize_milvus,
        _open_milvus,
    ),
)
"""The stores built in."""


@functools.cache
def all_stores() -> tuple[StoreKind, ...]:
    """``STORES``, then those other packages add under ``article_qa.stores`` (read once per
    process; only when a value names no built-in store)."""
    found = list(STORES)
    for _, added in registered(ENTRY_POINT_GROUP, StoreKind):
        for known in found:
            taken = {known.name} | set(known.schemes)
            if taken & ({added.name} | set(added.schemes)):
                raise IndexFormatError(
                    f"The store {added.name!r} of a plugin claims a name or URI scheme of the "
                    f"store {known.name!r}: uninstall one of them."
                )
        found.append(added)
    return tuple(found)


def store_kind(value: str | None) -> StoreKind:
    """The kind of store a ``--store`` value (or config.json's record) names; None is the
    embedded default. A value no store claims is an ``IndexFormatError`` listing the others."""
    if value in (None, "", EMBEDDED.name):
        return EMBEDDED
    assert value is not None
    head = value.partition("#")[0]  # "#name": collections of one index in a shared store
    for kind in STORES:
        if _claims(kind, head):
            return kind
    for kind in all_stores():  # plugins load only for a value no built-in store takes
        if _claims(kind, head):
            return kind
    raise IndexFormatError(f"Unknown store {value!r}: use {_usages()}.")


def _claims(kind: StoreKind, value: str) -> bool:
    scheme, sep, _ = value.partition("://")
    return scheme.lower() in kind.schemes if sep else value == kind.name


def _usages() -> str:
    usages = [kind.usage for kind in all_stores()]
    return "; ".join(usages[:-1]) + ("; or " if len(usages) > 1 else "") + usages[-1]


def normalize_store(store: str | None, index_dir: Path) -> str | None:
    """A ``--store`` value as recorded in config.json (None: the embedded store); a bad one is
    an ``IndexFormatError`` that says what to use."""
    if store in (None, "", EMBEDDED.name):
        return None
    assert store is not None
    return store_kind(store).normalize(store, index_dir)


def open_store(uri: str | None, folder: Path, dimension: Callable[[], int]) -> IndexStore:
    """The store of the index in ``folder``, from the value config.json records (``uri``;
    None: the embedded store). ``dimension`` gives the vector size of a new index."""
    return store_kind(uri).open(uri, folder, dimension)


def on_first_use(opener: Callable[[], IndexStore]) -> IndexStore:
    """A store that is opened when one of its methods is first used (for stores that connect
    to a server: opening an index then never waits for it)."""
    return cast(IndexStore, _OnFirstUse(opener))


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
