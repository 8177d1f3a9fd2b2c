"""pymilvus and Milvus Lite: loading them (an optional extra), and serving a Lite file.

pymilvus is imported on first use, so importing the Milvus store never fails without the extra
(``pip install 'article-qa[milvus]'``). Milvus Lite runs a local ``.db`` file in-process for one
process at a time; ``lite_server`` serves one over gRPC so that several processes can share it,
as they would a Milvus server. Runs on both Milvus Lite lines: 2.5 (the C++ Milvus engine,
embedded) and 3.x (a pure-Python reimplementation); docs/scaling-out.md compares them.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import re
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qa.errors import IndexBusyError, QAError


class MilvusUnavailableError(QAError):
    """pymilvus (and milvus-lite for a local file) is not installed."""


def _quiet_lite(record: logging.LogRecord) -> bool:
    # Milvus Lite has no server timestamps: pymilvus warns on every query iterator, and Lite's
    # in-process gRPC server logs the unimplemented call's traceback. Both are harmless.
    message = record.getMessage()
    if "mvccTs" in message or "Failed to start MilvusLite server" in message:  # we say why
        return False
    error = record.exc_info[1] if record.exc_info else None
    return not (isinstance(error, NotImplementedError) and "not implemented" in str(error))


def load_pymilvus() -> Any:
    """The pymilvus module (its Milvus Lite noise filtered); ``MilvusUnavailableError`` without
    the extra."""
    try:
        module = importlib.import_module("pymilvus")
        iterators = ("client.iterator.query_iterator", "client.iterator.search_iterator")  # 3.x
        for name in (*iterators, "orm.iterator"):  # pymilvus 2.5: orm.iterator
            logging.getLogger(f"pymilvus.{name}").addFilter(_quiet_lite)
        for name in ("grpc._server", "milvus_lite.server_manager"):
            logging.getLogger(name).addFilter(_quiet_lite)
        return module
    except ImportError as error:
        raise MilvusUnavailableError(
            "The Milvus store needs the milvus extra (pymilvus, and milvus-lite for a local "
            "file): pip install 'article-qa[milvus]'"
        ) from error


def require_lite(store: str) -> None:
    """Import milvus-lite for the Lite file ``store`` names, or say how to install it."""
    try:
        with warnings.catch_warnings():  # Milvus Lite 2.5 imports pkg_resources
            warnings.simplefilter("ignore", UserWarning)
            importlib.import_module("milvus_lite")
    except ImportError as error:
        raise MilvusUnavailableError(
            f"{store} is a Milvus Lite file, which needs milvus-lite: "
            "pip install 'article-qa[milvus]'"
        ) from error


def release(db_file: str) -> None:
    """Let another process open the Lite file ``db_file``: pymilvus keeps a file's in-process
    server (and its lock on the file) until the process exits, unless released."""
    manager = importlib.import_module("milvus_lite.server_manager")
    manager.server_manager_instance.release_server(db_file)


def lite_version() -> tuple[int, ...]:
    """The installed milvus-lite's version, e.g. (2, 5, 1)."""
    version = importlib.metadata.version("milvus-lite")
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


@contextmanager
def lite_server(db_file: Path, port: int = 19530, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve a Milvus Lite file over gRPC while inside: yields the ``--store`` URI
    (``http://host:port``) that several processes (``qa serve`` and ``qa ingest``) can share,
    as they would a Milvus server. Milvus Lite 2.5 runs its C++ engine on ``host:port``
    (``milvus_lite.server.Server``); 3.x runs ``milvus-lite server`` with ``db_file``'s folder
    as its data directory.

        with lite_server(Path("/data/qa.db"), 19530) as uri:  # http://127.0.0.1:19530
            ...
    """
    db_file = Path(db_file).resolve()
    db_file.parent.mkdir(parents=True, exist_ok=True)
    stop: Any
    if lite_version() < (3,):
        server = importlib.import_module("milvus_lite.server").Server(
            str(db_file), address=f"{host}:{port}"
        )
        if not server.start():
            raise IndexBusyError(
                f"Milvus Lite could not serve {db_file} on {host}:{port}: the file is open in "
                "another process, or the port is taken."
            )
        stop = server.stop
    else:
        command = Path(sys.executable).parent / "milvus-lite"
        process = subprocess.Popen(
            [str(command), "server", "--data-dir", str(db_file.parent / f"{db_file.stem}-data"),
             "--host", host, "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def stop() -> None:
            process.kill()
            process.wait()

    try:
        deadline = time.monotonic() + 60
        while True:  # until it listens
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError as error:
                if time.monotonic() > deadline:
                    raise IndexBusyError(f"Milvus Lite did not listen on {host}:{port}") from error
                time.sleep(0.2)
        yield f"http://{host}:{port}"
    finally:
        stop()
