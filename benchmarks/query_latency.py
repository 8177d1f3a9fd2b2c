"""Warm query latency of ``search`` and ``ask`` over all SQuAD v1.1 dev articles.

    python benchmarks/query_latency.py ../shared/data/squad-dev-v1.1.json.gz [--questions 300]
        [--reader-dir DIR]

Builds (once, then reuses) an index of the 48 articles in benchmarks/results/squad-all-index,
warms the model up, then times ``search`` (k=5), ``ask`` (with the trained reader, the
default) and ``ask`` without it on a random sample of the dev questions, one at a time in one
process, and prints p50/p95 in milliseconds. ``--reader-dir`` times another trained reader
(a folder with its reader.onnx) instead of the shipped one.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import Assistant  # noqa: E402

INDEX = ROOT / "benchmarks" / "results" / "squad-all-index"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reader-dir", type=Path, help="another trained reader (default: shipped)")
    args = parser.parse_args()

    assistant = Assistant.open(INDEX, reader_dir=args.reader_dir)
    report = assistant.ingest([args.data])
    print(f"index: {report.summary()}", file=sys.stderr)
    with gzip.open(args.data, "rt", encoding="utf-8") as handle:
        data = json.load(handle)["data"]
    questions = [
        qa["question"] for article in data for p in article["paragraphs"] for qa in p["qas"]
    ]
    sample = random.Random(args.seed).sample(questions, args.questions)
    before = Assistant.open(INDEX, reader=False)  # the answer path before the reader
    for question in sample[:5]:  # warm-up: models, caches, FAISS and SQLite pages
        assistant.ask(question)
        before.ask(question)
    timings: dict[str, list[float]] = {"search": [], "ask": [], "ask --no-reader": []}
    for question in sample:  # taken in turn, so load on the machine hits all three alike
        started = time.perf_counter()
        assistant.search(question, k=5)
        timings["search"].append(time.perf_counter() - started)
        started = time.perf_counter()
        assistant.ask(question)
        timings["ask"].append(time.perf_counter() - started)
        started = time.perf_counter()
        before.ask(question)
        timings["ask --no-reader"].append(time.perf_counter() - started)
    stats = assistant.stats()
    print(f"| {stats.chunks:,} chunks, {len(sample)} questions | p50 ms | p95 ms |")
    print("|---|---|---|")
    for name, values in timings.items():
        p50, p95 = percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000
        print(f"| {name} | {p50:.0f} | {p95:.0f} |")


if __name__ == "__main__":
    main()
