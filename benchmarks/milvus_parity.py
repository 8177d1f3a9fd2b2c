"""Does the Milvus store retrieve like the embedded store, and how fast? On SQuAD dev.

    pip install 'article-qa[milvus]'      # make test installs it
    python benchmarks/milvus_parity.py [--questions 1000]

Ingests SQuAD dev into a new index on Milvus Lite (``--store milvus``, the real ingest path),
next to the embedded-store index of the same file (built on first use), then asks the same
questions of both through the same ``Retriever`` (one code path, fusion client-side): scores by
character offsets as ``qa eval`` does, times each search with the question embedded once
outside, and times ``ask`` end to end.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import SQUAD, percentile, retrieval_scores, squad_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--ask", type=int, default=200, help="questions timed through ask")
    args = parser.parse_args()

    from qa import Assistant
    from qa.eval import evaluation

    raw = evaluation.load_squad(SQUAD)
    questions = evaluation.questions_for(raw, SQUAD, list(range(len(raw))))
    sample = random.Random(7).sample(questions, args.questions)
    k = 10
    with (
        Assistant.open(squad_index(), create=False) as embedded,
        tempfile.TemporaryDirectory() as scratch,
        Assistant.open(Path(scratch) / "index", store="milvus") as milvus,
    ):
        started = time.perf_counter()
        report = milvus.ingest([SQUAD])
        took = time.perf_counter() - started
        print(f"ingest into Milvus Lite: {report.summary()}; {took:.1f} s wall")
        print(
            f"  {milvus.stats().chunks:,} chunks, {milvus.stats().size_bytes / 2**20:.1f} MB on "
            f"disk (embedded store: {embedded.stats().size_bytes / 2**20:.1f} MB)\n"
        )
        stores = {"embedded": embedded, "Milvus Lite": milvus}
        embedder = embedded._ready_model()
        scores: dict[str, dict[str, list[float]]] = {}
        times: dict[str, list[float]] = {}
        same_top: dict[str, list[bool]] = {}
        for question in sample:
            vector = embedder.embed([question.question])[0]
            for mode in ("hybrid", "keyword", "dense"):
                tops = []
                for name, assistant in stores.items():
                    started = time.perf_counter()
                    found = assistant.retriever.search(question.question, k, None, vector, mode)
                    times.setdefault(f"{mode}, {name}", []).append(
                        (time.perf_counter() - started) * 1000
                    )
                    spans = [(p.article_id, p.start, p.end) for p in found]
                    tops.append(spans[:1])
                    row = scores.setdefault(f"{mode}, {name}", {})
                    for metric, value in retrieval_scores(
                        spans, question.article_id, question.spans
                    ).items():
                        row.setdefault(metric, []).append(value)
                same_top.setdefault(mode, []).append(tops[0] == tops[1])
        asks: dict[str, list[float]] = {name: [] for name in stores}
        for question in sample[: args.ask]:
            for name, assistant in stores.items():
                started = time.perf_counter()
                assistant.ask(question.question)
                asks[name].append((time.perf_counter() - started) * 1000)
    print(f"{len(sample)} SQuAD dev questions, k = {k}\n")
    print("| retrieval | R@1 | R@5 | R@10 | MRR@10 | search p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for name, row in scores.items():
        values = " | ".join(f"{sum(v) / len(v):.3f}" for v in row.values())
        p50, p95 = percentile(times[name], 0.5), percentile(times[name], 0.95)
        print(f"| {name} | {values} | {p50:.1f} | {p95:.1f} |")
    print("\n| mode | same top passage on both |\n|---|---|")
    for mode, same in same_top.items():
        print(f"| {mode} | {sum(same) / len(same):.3f} |")
    print(f"\n`ask` end to end ({args.ask} questions, question embedding included):\n")
    print("| store | p50 ms | p95 ms |\n|---|---|---|")
    for name, spent in asks.items():
        print(f"| {name} | {percentile(spent, 0.5):.1f} | {percentile(spent, 0.95):.1f} |")


if __name__ == "__main__":
    main()
