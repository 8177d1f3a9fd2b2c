"""The store contract (qa/testing/store_contract.py), run on every store: the embedded default,
Milvus Lite (a local file), and a Milvus server (Milvus Lite's gRPC server on loopback: on
Milvus Lite 2.5, the C++ engine a Milvus server runs). A store plugin is proven the same way
(tests/test_plugins.py).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qa.testing.store_contract import StoreContract
from tests.conftest import MILVUS

needs_milvus = pytest.mark.skipif(not MILVUS, reason="the milvus extra is not installed")


class TestEmbeddedStore(StoreContract):
    @pytest.fixture(scope="class")
    @classmethod
    def store_values(cls) -> Callable[[str], str]:
        return lambda name: "embedded"


@needs_milvus
class TestMilvusLiteStore(StoreContract):
    @pytest.fixture(scope="class")
    @classmethod
    def store_values(cls) -> Callable[[str], str]:
        return lambda name: "milvus"  # a Milvus Lite file in each index folder


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from qa.stores.milvus.lite import lite_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder: Path = tmp_path_factory.mktemp("milvus-server")
    with lite_server(folder / "served.db", port) as uri:
        yield uri


@needs_milvus
class TestMilvusServerStore(StoreContract):
    @pytest.fixture(scope="class")
    @classmethod
    def store_values(cls, milvus_server: str) -> Callable[[str], str]:
        return lambda name: f"{milvus_server}#{name}"  # each store its own collections
