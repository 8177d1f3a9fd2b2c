"""Where a Milvus store is: the ``--store`` values it takes, and what pymilvus is given.

- ``milvus``: a Milvus Lite file in the index folder (``INDEX/milvus.db``);
- ``milvus:///path/to/file.db``: a Milvus Lite file anywhere (a relative path is made absolute);
- ``http://host:19530`` or ``https://...``: a Milvus server, optionally ``/database``;
- any of these with ``#name``: the index's collections are ``name_chunks``, ... instead of
  ``qa_chunks``, ..., so several indexes can share one Milvus.

Pure string handling: nothing here imports pymilvus.
"""

from __future__ import annotations

import re
from pathlib import Path

from qa.errors import IndexFormatError

LOCAL_SCHEME = "milvus://"
SERVER_SCHEMES = ("http://", "https://")
TOKEN_ENV = "QA_MILVUS_TOKEN"  # a Milvus server's "user:password" or API key; never in config
LOCAL_FILE = "milvus.db"  # where `--store milvus` puts a Milvus Lite file: in the index folder
DEFAULT_NAME = "qa"  # collections qa_chunks and qa_articles, unless the store names others


def normalize_store(store: str, index_dir: Path) -> str:
    """A Milvus ``--store`` value as recorded in config.json.

    "milvus" -> a Milvus Lite file in the index folder; a relative ``milvus://path.db`` ->
    absolute, so the index works from any directory. A ``#name`` suffix (see ``split_store``)
    is kept, except the default one.
    """
    uri, name = split_store(store)
    suffix = "" if name == DEFAULT_NAME else f"#{name}"
    if uri == "milvus":
        return LOCAL_SCHEME + str(index_dir.resolve() / LOCAL_FILE) + suffix
    if is_local(uri):
        path = Path(uri[len(LOCAL_SCHEME) :]).expanduser()
        client_uri(uri)  # checks the form
        return LOCAL_SCHEME + str(path.resolve()) + suffix
    client_uri(uri)
    return uri.rstrip("/") + suffix


def is_local(store: str) -> bool:
    """Whether ``store`` is a Milvus Lite file (``milvus://...``), not a server."""
    return store.startswith(LOCAL_SCHEME)


def split_store(store: str) -> tuple[str, str]:
    """``(uri, name)`` of a store value: ``http://host:19530#news`` keeps its chunks in the
    collections ``news_chunks`` and ``news_articles``, so several indexes can share one Milvus;
    without ``#name`` they are ``qa_chunks`` and ``qa_articles``."""
    uri, _, name = store.partition("#")
    if name and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,39}", name):
        raise IndexFormatError(
            f"{name!r} cannot name Milvus collections: use letters, digits and _ after a letter, "
            "e.g. --store http://host:19530#news"
        )
    return uri, name or DEFAULT_NAME


def client_uri(store: str) -> str:
    """What ``MilvusClient`` takes for a ``--store`` value.

    ``milvus:///abs/path.db`` -> ``/abs/path.db`` (Milvus Lite); ``http(s)://host:19530`` as is.
    """
    store, _ = split_store(store)
    if is_local(store):
        path = store[len(LOCAL_SCHEME) :]
        if not path.endswith(".db"):
            raise IndexFormatError(
                f"A Milvus Lite store is a file ending in .db, not {path!r}: use e.g. "
                "--store milvus:///data/articles.db (or --store milvus for one in the index folder)"
            )
        return path
    if store.startswith(SERVER_SCHEMES):
        return store
    raise IndexFormatError(
        f"Unknown store {store!r}: use embedded (the default), milvus (a Milvus Lite file in the "
        "index folder), milvus:///path/to/file.db, or http://host:19530 for a Milvus server."
    )


def server_database(uri: str) -> tuple[str, str]:
    """``(server uri, database)`` of a ``client_uri``: ``http://host:19530/news`` is database
    ``news`` on that server ("" for a Lite file or no path: Milvus's "default"). Passed to
    ``MilvusClient`` as ``db_name`` because pymilvus 2.5 and 3 read a URI's path differently."""
    if not uri.startswith(SERVER_SCHEMES):
        return uri, ""
    scheme, _, rest = uri.partition("://")
    address, _, path = rest.partition("/")
    database = path.strip("/")
    if database and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,254}", database):
        raise IndexFormatError(
            f"{database!r} cannot name a Milvus database: use letters, digits and _, e.g. "
            "--store http://host:19530/news"
        )
    return f"{scheme}://{address}", database
