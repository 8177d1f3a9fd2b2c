"""Choosing a store (--store) and what only the Milvus store has to get right: the store is
recorded in config.json, a Milvus Lite file has one process at a time, and a write interrupted
half-way is redone without duplicates. The shared retrieval, answer and ingest suites run on
both stores through the ``assistant_on_each_store`` fixture (test_answers.py, test_ingest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from embeddings import HashEmbedder
from qa import Assistant, IndexBusyError, IndexFormatError, QAError
from qa.cli.commands import cli
from qa.stores.factory import normalize_store
from qa.stores.milvus import lite as milvus_lite
from qa.stores.milvus.lite import MilvusUnavailableError, lite_server
from qa.stores.milvus.store import MilvusStore
from tests.conftest import CORPUS, MILVUS

needs_milvus = pytest.mark.skipif(not MILVUS, reason="the milvus extra is not installed")


def test_store_values_are_normalised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    index = tmp_path / "index"
    assert normalize_store(None, index) is None
    assert normalize_store("embedded", index) is None
    assert normalize_store("milvus", index) == f"milvus://{index / 'milvus.db'}"
    assert normalize_store("milvus://data/x.db", index) == f"milvus://{tmp_path / 'data/x.db'}"
    assert normalize_store("http://host:19530/", index) == "http://host:19530"
    assert normalize_store("http://host:19530#news", index) == "http://host:19530#news"
    assert normalize_store("http://host:19530#qa", index) == "http://host:19530"
    assert normalize_store("milvus#n2", index) == f"milvus://{index / 'milvus.db'}#n2"
    for bad in ("milvus://x.txt", "sqlite", "ftp://host", "http://h:1#no-dash", "http://h#1a"):
        with pytest.raises(IndexFormatError, match=r"--store|Unknown store"):
            normalize_store(bad, index)
    assert not index.exists(), "a bad --store must fail before anything is written"


def test_missing_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def missing(name: str) -> object:
        raise ImportError(name)

    monkeypatch.setattr(milvus_lite.importlib, "import_module", missing)
    with pytest.raises(MilvusUnavailableError, match=r"pip install 'article-qa\[milvus\]'"):
        MilvusStore(f"milvus://{tmp_path / 'x.db'}", dimension=8)


@needs_milvus
def test_the_store_is_recorded_and_kept(index_dir: Path, embedder: HashEmbedder) -> None:
    with Assistant.open(index_dir, embedder=embedder, store="milvus") as assistant:
        assert assistant.ingest([CORPUS]).ok
        chunks = assistant.stats().chunks
    config = json.loads((index_dir / "config.json").read_text())
    assert config["store"] == f"milvus://{index_dir.resolve() / 'milvus.db'}"
    assert not (index_dir / "index.sqlite").exists()
    with Assistant.open(index_dir, embedder=embedder) as again:  # no --store: the recorded one
        stats = again.stats()
        assert stats.store == config["store"] and stats.chunks == chunks
        assert stats.keyword_index == "milvus bm25"
        assert again.search("Who introduced plague to Europe?")[0].title == "Black Death"
    with pytest.raises(IndexFormatError, match="keeps its chunks in milvus://"):
        Assistant.open(index_dir, embedder=embedder, store="embedded")
    with pytest.raises(QAError, match="embedded store"):
        Assistant.open(index_dir, embedder=embedder).rebuild_vectors()


@needs_milvus
def test_an_embedded_index_refuses_another_store(index_dir: Path, embedder, write) -> None:
    write("a.md", "# A\n\nAlpha text.")
    with Assistant.open(index_dir, embedder=embedder) as assistant:
        assistant.ingest([write.base])
    with pytest.raises(IndexFormatError, match="the embedded store, not milvus://"):
        Assistant.open(index_dir, embedder=embedder, store="milvus")


@needs_milvus
def test_a_milvus_file_holding_another_index_is_refused(tmp_path: Path, embedder, write) -> None:
    write("a.md", "# A\n\nAlpha text.")
    shared = f"milvus://{tmp_path / 'shared.db'}"
    with Assistant.open(tmp_path / "one", embedder=embedder, store=shared) as first:
        first.ingest([write.base])
    with (
        Assistant.open(tmp_path / "two", embedder=embedder, store=shared) as second,
        pytest.raises(IndexFormatError, match="already holds another index"),
    ):
        second.ingest([write.base])
    assert not (tmp_path / "two" / "config.json").exists()
    # Named collections: a second index in the same Milvus.
    write("b.md", "# B\n\nBeta text about bridges.")
    with Assistant.open(tmp_path / "three", embedder=embedder, store=shared + "#news") as third:
        assert third.ingest([write.base]).ok
        assert third.stats().articles == 2 and third.stats().store.endswith(".db#news")
    with Assistant.open(tmp_path / "one", embedder=embedder) as first:
        assert [a.title for a in first.articles()] == ["A"]


@needs_milvus
def test_a_milvus_lite_file_open_in_another_process_is_a_clear_error(
    index_dir: Path, embedder: HashEmbedder, write
) -> None:
    write("a.md", "# A\n\nAlpha text about harbours.")
    with Assistant.open(index_dir, embedder=embedder, store="milvus") as assistant:
        assistant.ingest([write.base])
        uri = assistant.store_uri
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from qa.stores.milvus.store import MilvusStore; "
         f"MilvusStore({uri!r}, 64); print('open', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        started = time.monotonic()
        with (
            Assistant.open(index_dir, embedder=embedder) as reader,
            pytest.raises(
                IndexBusyError, match=r"one process per file.*gRPC server, .*lite_server"
            ),
        ):
            reader.search("harbours")
        assert time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.wait()


@needs_milvus
def test_an_interrupted_milvus_write_is_redone_without_duplicates(
    index_dir: Path, embedder: HashEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Milvus has no transactions: a crash after an article's chunks are written but before its
    article row is must leave nothing the next ingest does not put right."""
    real_upsert = None
    writes = 0

    def crash_on_the_fifth_article_row(self: object, collection: str, rows: list) -> object:
        nonlocal writes
        if collection.endswith("articles"):
            writes += 1
            if writes == 5:
                raise KeyboardInterrupt  # as if killed between the two writes
        assert real_upsert is not None
        return real_upsert(collection, rows)

    with Assistant.open(index_dir, embedder=embedder, store="milvus") as assistant:
        store = assistant.store
        real_upsert = store.client.upsert
        monkeypatch.setattr(
            store.client, "upsert", crash_on_the_fifth_article_row.__get__(store.client)
        )
        with pytest.raises(KeyboardInterrupt):
            assistant.ingest([CORPUS])
        monkeypatch.undo()
        done = len(assistant.articles())
        assert done == 4
        report = assistant.ingest([CORPUS])
        assert len(report.added) == 12 - done and report.ok
        chunk_ids = [i for a in assistant.articles() for i in assistant.catalog.chunk_ids(a.id)]
        assert len(chunk_ids) == len(set(chunk_ids)) == assistant.stats().chunks
        assert sum(a.chunks for a in assistant.articles()) == len(chunk_ids)


@needs_milvus
def test_cli_ingest_stats_and_ask_on_milvus(tmp_path: Path) -> None:
    runner = CliRunner()
    index = str(tmp_path / "index")
    args = ["--index", index, "--model", "hash", "--quiet"]
    result = runner.invoke(cli, ["ingest", str(CORPUS), *args, "--store", "milvus"])
    assert result.exit_code == 0, result.output
    stats = runner.invoke(cli, ["stats", "--index", index])
    assert "store: milvus://" in stats.output and "milvus bm25" in stats.output
    answer = runner.invoke(cli, ["ask", "Who introduced plague to Europe?", "--index", index])
    assert answer.exit_code == 0 and "[1]" in answer.output and "Black Death" in answer.output
    check = runner.invoke(cli, ["check", "--index", index])
    assert check.exit_code == 0 and "store: milvus://" in check.output, check.output


@needs_milvus
def test_a_milvus_server_uri_serves_several_processes(tmp_path: Path, embedder, write) -> None:
    """--store http://...: the client path a Milvus cluster uses, against Milvus Lite's gRPC
    server on loopback (on Milvus Lite 2.5, the C++ engine). Unlike a Lite file, a reader
    process can search while we hold it."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with lite_server(tmp_path / "served.db", port) as uri:
        assert uri == f"http://127.0.0.1:{port}"
        write("harbour.md", "# Harbour storm\n\nThe harbour master Ana Lima reopened the harbour.")
        index = tmp_path / "index"
        with Assistant.open(index, embedder=embedder, store=uri) as assistant:
            assert assistant.ingest([write.base]).ok
            other = subprocess.run(
                [sys.executable, "-m", "qa", "ask", "Who reopened the harbour?",
                 "--index", str(index)],
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert other.returncode == 0, other.stderr
            assert "Ana Lima" in other.stdout and "[1]" in other.stdout
            assert assistant.stats().store == uri
            chunks = assistant.stats().chunks
        # The database in the URI's path: "default" is where the index went.
        same = MilvusStore(uri + "/default", dimension=64)
        try:
            assert same.count_chunks() == chunks >= 1
        finally:
            same.close()


@needs_milvus
def test_check_finds_and_repairs_interrupted_milvus_writes(
    index_dir: Path, embedder: HashEmbedder
) -> None:
    with Assistant.open(index_dir, embedder=embedder, store="milvus") as assistant:
        assistant.ingest([CORPUS])
        clean = assistant.check()
        assert clean.ok and clean.chunks == assistant.stats().chunks
        milvus = assistant.store
        sentences = milvus.count_sentences()
        client, chunks = milvus.client, milvus.chunks
        first, second, third, fourth = (a.id for a in assistant.articles()[:4])
        fields = [name for name in milvus.scan_fields() if name != "sparse"]  # sparse: derived
        # An orphan: a new article's chunks written, its row not (its file since deleted).
        client.delete(milvus.articles, ids=[first])
        # A stale version next to the current one of `second`.
        (row,) = client.get(chunks, ids=milvus.chunk_ids(second)[:1], output_fields=fields)
        client.upsert(chunks, [{**row, "chunk_id": 7, "content_hash": "old"}])
        # `third` lost a chunk (a removal interrupted: its sentence rows stayed); `fourth` has a
        # chunk with bad offsets.
        client.delete(chunks, ids=milvus.chunk_ids(third)[-1:])
        (row,) = client.get(chunks, ids=milvus.chunk_ids(fourth)[:1], output_fields=fields)
        client.upsert(chunks, [{**row, "end": row["end"] + 5}])
        milvus.flush()

        report = assistant.check()
        assert not report.ok and len(report.problems) == 5
        text = " ".join(report.problems)
        for expected in ("belong to no article", "older article versions", "do not have the "
                         "chunks", "offsets that do not match", "of no chunk"):  # fmt: skip
            assert expected in text

        repaired = assistant.repair()
        assert repaired.ok, repaired.problems
        assert len(repaired.repaired) == 5 and "wait to be ingested again" in repaired.notes[-1]
        assert first not in {a.id for a in assistant.articles()}
        assert 7 not in milvus.chunk_ids(second)

        again = assistant.ingest([CORPUS])  # the marked articles and the lost one come back
        assert sorted(again.updated) == sorted([third, fourth]) and again.added == [first]
        final = assistant.check()
        assert final.ok and final.notes == [f"store: {assistant.store_uri}"]
        assert final.chunks == clean.chunks
        assert milvus.count_sentences() == sentences


@needs_milvus
def test_qa_ingest_writes_while_the_server_reads_one_milvus(tmp_path: Path, write) -> None:
    """`qa serve` (its AppState) and `qa ingest` (another process) at the same time on one
    Milvus over gRPC: the server answers from what the other process wrote, without reopening."""
    import os
    import socket

    from ui.state import AppState

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    index = tmp_path / "index"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}

    def ingest(*extra: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "qa", "ingest", str(write.base), "--index", str(index),
             "--model", "hash", "--quiet", *extra],
            capture_output=True, text=True, timeout=180, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    with lite_server(tmp_path / "served.db", port) as uri:
        write("harbour.md", "# Harbour storm\n\nThe harbour master Ana Lima reopened the harbour.")
        ingest("--store", uri)
        state = AppState(index, model="hash")
        try:
            reply = state.ask("Who reopened the harbour?", [], 5, None)
            assert reply.found and "Ana Lima" in reply.text
            write("bridge.md", "# New bridge\n\nThe new bridge over the Vale river opened in May.")
            ingest()  # while the server holds the store
            reply = state.ask("When did the new bridge over the Vale river open?", [], 5, None)
            assert reply.found and "opened in May" in reply.text
            assert sorted(a.title for a in state.articles()) == ["Harbour storm", "New bridge"]
        finally:
            state.close()


def test_the_embedded_store_never_loads_the_milvus_module(tmp_path: Path, write) -> None:
    write("a.md", "# A\n\nAlpha text about harbours.")
    code = (
        "import sys; from embeddings import HashEmbedder; from qa import Assistant\n"
        f"with Assistant.open({str(tmp_path / 'fresh')!r}, embedder=HashEmbedder()) as qa:\n"
        f"    qa.ingest([{str(write.base)!r}]); qa.search('harbours'); qa.stats(); qa.check()\n"
        "print(sorted(name for name in sys.modules if 'milvus' in name))"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
