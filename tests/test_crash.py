"""Kill ``qa ingest`` at random moments: the index must always open, whole and consistent.

Each article must be in its old version or its new one, never half of each; FAISS and SQLite
must agree. These tests run real subprocesses, so they take tens of seconds.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from embeddings import HashEmbedder
from qa import Assistant
from qa.pipeline.chunking import embedding_text
from qa.pipeline.corpus import read_file
from qa.pipeline.ingest import pooled_vector
from qa.pipeline.sentences import split_sentences

ARTICLES = 600  # ten batches of writes (64 articles each): kill points fall inside and between them
ROUNDS = 12  # kill points per run of the kill loop (each a fresh `qa ingest` killed with -9)
pytestmark = pytest.mark.slow


def write_version(folder: Path, version: int) -> dict[str, str]:
    """Write every article in ``version``; return id -> content hash of that version."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(version)
    hashes: dict[str, str] = {}
    for n in range(ARTICLES):
        words = " ".join(
            rng.choice(["storm", "harbour", "boat", "river", "city"]) for _ in range(40)
        )
        body = "\n\n".join(
            f"Version {version} of article {n}, part {p}. The {words} story goes on."
            for p in range(3)
        )
        path = folder / f"a{n:04d}.txt"
        path.write_text(f"Article {n}\n\n{body}\n", encoding="utf-8")
    for path in sorted(folder.iterdir()):
        (article,) = read_file(path).articles
        hashes[article.id] = article.content_hash
    return hashes


def ingest_command(index: Path, folder: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "qa",
        "ingest",
        str(folder),
        "--index",
        str(index),
        "--model",
        "hash",
        "-q",
    ]


def check_index(index: Path, versions: list[dict[str, str]], expected: int | None = None) -> int:
    """Open the index and check it whole; return how many of its articles are in the newest
    version (all must be in some version)."""
    with Assistant.open(index, embedder=HashEmbedder(), create=False) as assistant:
        report = assistant.check()  # what `qa check` runs
        assert report.ok, report.problems
        db = assistant.store.db
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        chunker = assistant.chunker
        rows = db.execute("SELECT id, title, text, content_hash FROM articles").fetchall()
        for article_id, title, text, digest in rows:
            assert any(v.get(article_id) == digest for v in versions), "article in no known version"
            stored = db.execute(
                "SELECT start, end, text, vector FROM chunks WHERE article_id = ? ORDER BY seq",
                (article_id,),
            ).fetchall()
            spans = chunker.split(text, title)
            assert [(s, e) for s, e, _, _ in stored] == [(s.start, s.end) for s in spans]
            for start, end, chunk, blob in stored[:1]:
                assert text[start:end] == chunk
                # The chunk's vector, pooled from its sentences' as the default makes it.
                spans = split_sentences(chunk)
                model = HashEmbedder()
                sentences = model.embed([embedding_text(title, chunk[a:b]) for a, b in spans])
                lengths = [b - a for a, b in spans]
                want = np.frombuffer(
                    pooled_vector(list(sentences), lengths, model.embed([title])[0]), np.float32
                )
                np.testing.assert_allclose(np.frombuffer(blob, np.float32), want, atol=1e-6)
        chunk_ids = {row[0] for row in db.execute("SELECT id FROM chunks")}
        assert set(assistant.store.vector_index.ids().tolist()) == chunk_ids
        assert {row[0] for row in db.execute("SELECT rowid FROM chunks_fts")} == chunk_ids
        assert expected is None or len(rows) == expected
        return sum(1 for article_id, _, _, digest in rows if versions[-1][article_id] == digest)


def generation(index: Path) -> int:
    with sqlite3.connect(f"file:{index / 'index.sqlite'}?mode=ro", uri=True, timeout=30) as db:
        return int(db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])


def wait_for_writes(index: Path, process: subprocess.Popen, writes: int) -> None:  # type: ignore[type-arg]
    """Poll until a running ingest has committed ``writes`` article writes: the database
    generation moves one step per write, and a reader sees it move only when the batch holding
    the write commits. ``writes`` counts from where the generation stood when this was called."""
    target = generation(index) + writes
    deadline = time.monotonic() + 600  # a safety net for a hung ingest, not a speed limit
    while generation(index) < target:
        assert process.poll() is None, "the ingest ended before that many writes"
        assert time.monotonic() < deadline, f"no {writes} writes committed in 600 s"
        time.sleep(0.002)


def test_kill_9_at_random_points_never_corrupts(tmp_path: Path) -> None:
    folder, index = tmp_path / "docs", tmp_path / "index"
    versions = [write_version(folder, 0)]
    subprocess.run(ingest_command(index, folder), check=True, timeout=300)
    assert check_index(index, versions, ARTICLES) == ARTICLES
    # One uninterrupted update counts the article writes a whole run commits (every article
    # changes in every version, so each run makes as many).
    before = generation(index)
    versions.append(write_version(folder, 1))
    subprocess.run(ingest_command(index, folder), check=True, timeout=300)
    writes = generation(index) - before
    per_article = writes // ARTICLES
    assert per_article >= 1 and writes == per_article * ARTICLES, writes
    assert check_index(index, versions, ARTICLES) == ARTICLES
    # Kill points come from commit counts, never from a clock: 0 writes is start-up, k is just
    # after the batch holding the k-th write committed, all of them the final vector-file write.
    rng = random.Random(2024)
    kill_points = [0, writes, *(rng.randint(1, writes - 1) for _ in range(ROUNDS - 2))]
    partial = 0  # rounds killed mid-write, leaving some articles old and some new
    for round_number, committed in enumerate(kill_points, start=2):
        versions.append(write_version(folder, round_number))
        process = subprocess.Popen(ingest_command(index, folder), stderr=subprocess.DEVNULL)
        wait_for_writes(index, process, committed)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        newest = check_index(index, versions, ARTICLES)
        print(f"killed after {committed} of {writes} writes committed: {newest} articles new")
        if committed == 0:
            assert newest == 0, "killed at start-up, before any commit"
        else:  # at least the articles of the writes seen committed are in the new version
            assert newest >= committed // per_article
        partial += 0 < newest < ARTICLES
    print(
        f"kill points tried: {ROUNDS}, {partial} mid-write; after each the index opened, "
        "qa check passed and every article was whole (old or new version)"
    )
    checked = subprocess.run(
        [sys.executable, "-m", "qa", "check", "--index", str(index)], capture_output=True, text=True
    )
    assert checked.returncode == 0 and checked.stdout.splitlines()[-1].startswith("ok: ")
    # Finishing the last version after all those crashes gives a complete, current index.
    subprocess.run(ingest_command(index, folder), check=True, timeout=300)
    with Assistant.open(index, embedder=HashEmbedder(), create=False) as assistant:
        current = dict(assistant.store.content_hashes())
    assert current == versions[-1]


def test_ctrl_c_stops_cleanly_with_a_message(tmp_path: Path) -> None:
    folder, index = tmp_path / "docs", tmp_path / "index"
    versions = [write_version(folder, 0)]
    subprocess.run(ingest_command(index, folder), check=True, timeout=300)
    versions.append(write_version(folder, 1))
    process = subprocess.Popen(ingest_command(index, folder), stderr=subprocess.PIPE, text=True)
    wait_for_writes(index, process, 1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Interrupted" in stderr and "Traceback" not in stderr
    # Stopped part-way: some articles new, the rest old, the index whole.
    assert 0 < check_index(index, versions, ARTICLES) < ARTICLES
