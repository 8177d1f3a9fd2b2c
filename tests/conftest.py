"""Shared fixtures. Every test runs with the network blocked: article-qa must work offline.

CI (``.ci/run``) sets ``QA_REQUIRE_ALL=1``: then a skip is a failure, and a full run must have
collected every real path (Milvus, llama.cpp, the browser, Ray); see ``pytest_collection_finish``.
"""

from __future__ import annotations

import fcntl
import importlib
import importlib.util
import os
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from embeddings import HashEmbedder
from embeddings.sentence import go_offline
from qa import Assistant
from qa.pipeline.corpus import read_file

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "articles"
REQUIRE_ALL = os.environ.get("QA_REQUIRE_ALL") == "1"
# Debian's chromium; QA_CHROMIUM names another (the Makefile passes its CHROMIUM).
CHROMIUM = Path(os.environ.get("QA_CHROMIUM", "/usr/bin/chromium"))


def require_module(name: str, install: str) -> ModuleType:
    """Import ``name`` for a test module that cannot run without it.

    Not installed (no such module): the module's tests skip, saying how to install it (and fail
    under QA_REQUIRE_ALL). Installed but broken (an ImportError inside it, e.g. milvus_lite
    without pkg_resources): the ImportError propagates and the module fails to collect, since a
    broken install is a bug to see, not an optional extra to skip."""
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed ({install})", allow_module_level=True)
    return importlib.import_module(name)


def installed(*names: str) -> bool:
    """Are these modules installed? (Whether they import is for the tests to find out.)"""
    return all(importlib.util.find_spec(name) is not None for name in names)


# -- CI strictness: a skip fails, and every real path must be collected -------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but QA_REQUIRE_ALL=1 makes every skip a failure: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"module skipped, but QA_REQUIRE_ALL=1 makes that a failure: {reason}"


# What a full CI run must have collected: a name for each real path, and how to spot its tests.
REAL_PATHS = {
    "Milvus store params ([milvus])": lambda item: "[milvus" in item.nodeid,
    "Milvus Lite module (test_milvus_store.py)": lambda item: "test_milvus_store.py" in item.nodeid,
    "llama.cpp server (llm marker)": lambda item: item.get_closest_marker("llm") is not None,
    "browser (browser marker)": lambda item: item.get_closest_marker("browser") is not None,
    "Ray cluster (ray marker)": lambda item: item.get_closest_marker("ray") is not None,
    "real embedding model (integration marker)": lambda item: (
        item.get_closest_marker("integration") is not None
    ),
}


def pytest_collection_finish(session: pytest.Session) -> None:
    """Under QA_REQUIRE_ALL, a whole-suite run (no paths, -k or -m given) that lacks any real
    path fails before running anything: a module that vanished is as bad as one that skipped."""
    config = session.config
    whole_suite = (
        config.args_source == pytest.Config.ArgsSource.TESTPATHS
        and not config.getoption("keyword")
        and not config.getoption("markexpr")
    )
    if not (REQUIRE_ALL and whole_suite) or not session.items:
        return  # (under xdist the controller collects nothing; each worker checks)
    missing = [name for name, found in REAL_PATHS.items() if not any(map(found, session.items))]
    if missing:
        raise pytest.UsageError(
            "QA_REQUIRE_ALL=1: these real paths collected no test: " + "; ".join(missing)
        )


# -- the network ---------------------------------------------------------------------------------


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


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "grpc_proxy")


class ProxyTrap:
    """A loopback port that never answers, named as every proxy: subprocesses (which the
    in-process guard above does not reach) that try to leave the machine through a client that
    honours proxy variables (httpx, urllib, requests, gRPC) connect here instead, and are
    counted. Loopback addresses bypass it (no_proxy)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.reached: list[str] = []
        self.current = "(no test yet)"  # the test running in this process, named in reports
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return  # closed
            with connection:
                connection.settimeout(2)
                try:
                    line = connection.recv(200).decode("latin-1").split("\r\n")[0]
                except OSError:
                    line = "(a connection that sent nothing)"
                self.reached.append(f"{line} (during {self.current})")

    def close(self) -> None:
        self.server.close()


def gradio_client(url: str, auth: tuple[str, str] | None = None):  # type: ignore[no-untyped-def]
    """gradio_client's Client without its calls home: its Hugging Face headers fetch an agent
    registry from the Hub and its telemetry posts there (the proxy trap below saw both)."""
    from gradio_client import Client

    go_offline()
    return Client(url, auth=auth, verbose=False, analytics_enabled=False)


@pytest.fixture(scope="session", autouse=True)
def proxy_trap() -> Iterator[ProxyTrap]:
    trap = ProxyTrap()
    saved = {name: os.environ.get(name) for name in (*PROXY_VARIABLES, "no_proxy")}
    for name in PROXY_VARIABLES:
        os.environ[name] = trap.url
        os.environ.pop(name.upper(), None)  # lower case wins for most clients; no mixed advice
    # Ray's dashboard asks the cloud metadata addresses which cloud it runs on even with usage
    # stats off (ray/dashboard/modules/usage_stats, no switch): its requests go direct and fail
    # at once offline, so the trap does not count them. Anything else still trips it.
    os.environ["no_proxy"] = "127.0.0.1,localhost,::1,169.254.169.254,metadata.google.internal"
    # Ray's usage report asks the cloud metadata addresses; the product turns it off for the
    # clusters it starts (embeddings.distributed), and so do clusters the tests start.
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    # The UI built in-process (not through `qa serve`, which sets these) stays off the Hub too.
    for name, value in (("GRADIO_ANALYTICS_ENABLED", "False"), ("HF_HUB_OFFLINE", "1")):
        os.environ[name] = value
    os.environ.pop("NO_PROXY", None)
    try:
        yield trap
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        trap.close()
        assert not trap.reached, f"a subprocess tried to reach the network: {trap.reached}"


@pytest.fixture(autouse=True)
def trap_names_the_test(proxy_trap: ProxyTrap, request: pytest.FixtureRequest) -> None:
    """A connection the trap counts is reported with the test that was running: the failure
    otherwise lands on whichever test a worker ran last."""
    proxy_trap.current = request.node.nodeid


# -- the real model: one int8 conversion per run ---------------------------------------------------


def run_folder(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A temporary folder of this run that the pytest-xdist workers share (their base temp
    folders' parent), or this process's own without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if worker_id != "master" else base


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[None]:
    """Convert the model to ONNX into a fresh cache once per run (subprocesses inherit it), so
    the real conversion path is tested; set QA_CACHE_DIR to reuse a cache across runs. Under
    pytest-xdist the workers share one cache folder (the run's base temp folder)."""
    if os.environ.get("QA_CACHE_DIR"):
        yield
        return
    cache = run_folder(tmp_path_factory, worker_id) / "model-cache"
    cache.mkdir(exist_ok=True)
    os.environ["QA_CACHE_DIR"] = str(cache)
    try:
        yield
    finally:
        os.environ.pop("QA_CACHE_DIR", None)


@pytest.fixture(autouse=True)
def ctrl_c_as_at_a_terminal() -> None:
    """A run started in the background by a script (`make test &`, a runner without job control)
    ignores SIGINT, and every process it starts inherits that: `qa watch` and `qa ingest` would
    then ignore the tests' Ctrl-C, as the shell asked. The tests stand for a user at a
    terminal, so the processes they start get Ctrl-C back (a handler is reset to the default
    at exec; an ignored signal stays ignored)."""
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    ):
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """pytest-xdist's worker name ("gw0", ...), or "master" without xdist."""
    workerinput = getattr(request.config, "workerinput", None)
    return "master" if workerinput is None else str(workerinput["workerid"])


@pytest.fixture(scope="session")
def real_model(model_cache: None) -> object:
    """The default embedder (all-MiniLM-L6-v2, ONNX int8), loaded once per process. The first
    process to get here converts it; others wait on a lock file, then read the converted cache."""
    from embeddings import load_embedder
    from embeddings.onnx import OnnxEmbedder

    lock_path = Path(os.environ["QA_CACHE_DIR"]) / "conversion.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            embedder = load_embedder(None)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    assert isinstance(embedder, OnnxEmbedder) and embedder.backend == "onnx-int8"
    return embedder


@pytest.fixture(scope="session")
def demo_index(
    real_model: object, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Path:
    """The demo corpus indexed with the real model, once per run: the first process to get here
    builds it, the others wait on a lock file and read it. Open it read-only
    (``Assistant.open(demo_index, embedder=real_model, create=False)``), never write to it."""
    shared = run_folder(tmp_path_factory, worker_id)
    index = shared / "demo-index"
    built = shared / "demo-index.built"
    with open(shared / "demo-index.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not built.exists():
                with Assistant.open(index, embedder=real_model) as assistant:  # type: ignore[arg-type]
                    assert assistant.ingest([CORPUS]).ok
                built.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return index


# -- small fixtures --------------------------------------------------------------------------------


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


MILVUS = installed("pymilvus", "milvus_lite")
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
