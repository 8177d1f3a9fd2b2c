"""Shared fixtures. Every test runs with the network blocked: article-qa must work offline."""

from __future__ import annotations

import importlib.util
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from embeddings import HashEmbedder
from qa import Assistant
from qa.pipeline.corpus import read_file

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "articles"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection that leaves this machine (loopback stays allowed)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost")):
            return real_connect(self, address)
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)
        raise OSError(f"network access blocked in tests: {address}")

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Convert the model to ONNX into a fresh cache once per run (subprocesses inherit it), so
    the real conversion path is tested; set QA_CACHE_DIR to reuse a cache across runs."""
    if os.environ.get("QA_CACHE_DIR"):
        yield
        return
    os.environ["QA_CACHE_DIR"] = str(tmp_path_factory.mktemp("model-cache"))
    try:
        yield
    finally:
        os.environ.pop("QA_CACHE_DIR", None)


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder(dimension=64, max_tokens=128)


@pytest.fixture
def assistant(index_dir: Path, embedder: HashEmbedder) -> Iterator[Assistant]:
    with Assistant.open(index_dir, embedder=embedder) as opened:
        yield opened


MILVUS = all(importlib.util.find_spec(name) for name in ("pymilvus", "milvus_lite"))
STORE_KINDS = [
    "embedded",
    pytest.param(
        "milvus",
        marks=pytest.mark.skipif(
            not MILVUS,
            reason="the milvus extra is not installed (pip install 'article-qa[milvus]'; "
            "make test installs it)",
        ),
    ),
]


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    """The store the suites that use ``assistant_on_each_store`` run on: each in turn."""
    return str(request.param)


@pytest.fixture
def assistant_on_each_store(
    index_dir: Path, embedder: HashEmbedder, store_kind: str
) -> Iterator[Assistant]:
    """An empty index on the embedded store, then on Milvus Lite (a file in the index folder)."""
    with Assistant.open(index_dir, embedder=embedder, store=store_kind) as opened:
        yield opened


def source_text(source: str, article_id: str) -> str:
    """The text of article ``article_id`` as read from its file now: what offsets point into."""
    for article in read_file(Path(source)).articles:
        if article.id == article_id:
            return article.text
    raise AssertionError(f"{article_id} is not in {source}")


@pytest.fixture
def write(tmp_path: Path):
    """``write("docs/a.md", "text")`` creates a file under a fresh folder and returns its path."""
    base = tmp_path / "docs"

    def _write(name: str, content: str | bytes) -> Path:
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    _write.base = base
    return _write
