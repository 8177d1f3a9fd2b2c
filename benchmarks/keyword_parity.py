"""Does the BM25 impact index (used from 50k chunks on) retrieve as well as FTS5? On real data.

    python benchmarks/keyword_parity.py [--questions 2000]

Copies the SQuAD dev index (2,112 chunks, built on first use), builds the impact index over it
(normally only built from 50k chunks on; real questions with gold answers exist only at this
size), and scores the same questions twice, by character offsets as `qa eval` does: keyword
search alone and hybrid search, once with FTS5 ranking and once with the impact index.
Prints recall@1/5/10 and MRR@10 for each, and the keyword search time of each.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import SQUAD, percentile, retrieval_scores, squad_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000)
    args = parser.parse_args()

    import qa.stores.embedded.bm25 as keywords
    from qa import Assistant
    from qa.eval import evaluation
    from qa.pipeline.retrieval import Retriever
    from qa.stores.embedded.search import EmbeddedSearch

    raw = evaluation.load_squad(SQUAD)
    questions = evaluation.questions_for(raw, SQUAD, list(range(len(raw))))
    sample = random.Random(7).sample(questions, args.questions)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "index"
        shutil.copytree(squad_index(), folder)
        keywords.CACHE_FROM = 0  # build the impact index at this size too
        with Assistant.open(folder, create=False) as assistant:
            # What an ingest does at its end: save the vectors and build the keyword cache.
            assistant.store.after_write(True)
            cache = assistant.store.keywords
            assert cache is not None
            chunks = assistant.store.count_chunks()
            embedder = assistant.embedder
            sqlite, vectors = assistant.store, assistant.store.vector_index
            fts = Retriever(EmbeddedSearch(sqlite, vectors, None), embedder)
            impact = Retriever(EmbeddedSearch(sqlite, vectors, cache), embedder)
            scores: dict[str, dict[str, list[float]]] = {}
            times: dict[str, list[float]] = {"FTS5": [], "impact index": []}
            for question in sample:
                vector = embedder.embed([question.question])[0]
                for name, retriever in (("FTS5", fts), ("impact index", impact)):
                    started = time.perf_counter()
                    retriever.index.keyword_search_text(question.question, 50, None)
                    times[name].append((time.perf_counter() - started) * 1000)
                    for mode in ("keyword", "hybrid"):
                        found = retriever.search(question.question, 10, None, vector, mode=mode)
                        spans = [(p.article_id, p.start, p.end) for p in found]
                        row = scores.setdefault(f"{mode}, {name}", {})
                        for metric, value in retrieval_scores(
                            spans, question.article_id, question.spans
                        ).items():
                            row.setdefault(metric, []).append(value)
    print(f"{len(sample)} SQuAD dev questions, {chunks:,} chunks\n")
    print("| retrieval | R@1 | R@5 | R@10 | MRR@10 |\n|---|---|---|---|---|")
    for name, row in sorted(scores.items()):
        values = " | ".join(f"{sum(v) / len(v):.3f}" for v in row.values())
        print(f"| {name} | {values} |")
    print("\n| keyword search (50 candidates) | p50 ms | p95 ms |\n|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {percentile(values, 0.5):.2f} | {percentile(values, 0.95):.2f} |")


if __name__ == "__main__":
    main()
