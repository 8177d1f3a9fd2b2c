"""Does the Milvus store prototype retrieve like the embedded store, and how fast? On SQuAD dev.

    pip install pymilvus milvus-lite
    python benchmarks/milvus_parity.py [--questions 1000]

Copies every chunk of the SQuAD dev index (2,112 chunks, built on first use) with its stored
vector into a Milvus Lite file through qa/stores/milvus.py, then asks the same questions of both:
the embedded store through ``Retriever.search`` and Milvus through the same steps (dense and
BM25 candidates, exact cosines for keyword-only hits, ``fuse`` client-side). Scores by character
offsets as ``qa eval`` does, and times each search (the question is embedded once, outside).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import SQUAD, percentile, retrieval_scores, squad_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000)
    args = parser.parse_args()

    from qa import Assistant, evaluation
    from qa.retrieval import CANDIDATES_PER_RESULT, MIN_CANDIDATES, fuse
    from qa.store import NewChunk
    from qa.stores.milvus import MilvusStore
    from qa.types import Chunk

    raw = evaluation.load_squad(SQUAD)
    questions = evaluation.questions_for(raw, SQUAD, list(range(len(raw))))
    sample = random.Random(7).sample(questions, args.questions)
    k = 10
    wanted = max(MIN_CANDIDATES, k * CANDIDATES_PER_RESULT)
    with (
        Assistant.open(squad_index(), create=False) as assistant,
        tempfile.TemporaryDirectory() as scratch,
    ):
        store = assistant.store
        embedder = assistant._ready_model()
        milvus = MilvusStore(f"milvus://{Path(scratch) / 'squad.db'}", embedder.dimension)
        started = time.perf_counter()
        articles = store.articles_by_id([info.id for info in store.list_articles()])
        for article in articles:
            rows = store.db.execute(
                "SELECT seq, start, end, tokens, text, embed_hash, vector FROM chunks "
                "WHERE article_id = ? ORDER BY seq",
                (article.id,),
            ).fetchall()
            chunks = [
                NewChunk(
                    Chunk(article.id, seq, start, end, text, tokens),
                    digest,
                    np.frombuffer(blob, dtype=np.float32),
                )
                for seq, start, end, tokens, text, digest, blob in rows
            ]
            milvus.put_article(article, chunks)
        milvus.flush()
        copied = time.perf_counter() - started
        print(
            f"copied {len(articles)} articles, {milvus.count_chunks():,} chunks into Milvus Lite "
            f"in {copied:.1f}s\n"
        )

        def on_milvus(query: str, vector: np.ndarray, mode: str) -> list[tuple[str, int, int]]:
            dense = dict(milvus.dense_search(vector, wanted))
            keyword = dict(milvus.keyword_search(query, wanted))
            missing = sorted(keyword.keys() - dense.keys())
            if mode == "keyword":
                if not keyword:
                    return []
                cosines = milvus.vectors(list(keyword)) @ vector
                ranked = fuse(dict(zip(keyword, cosines.tolist(), strict=True)), keyword, 0, 1)
            else:
                dense.update(zip(missing, (milvus.vectors(missing) @ vector).tolist(), strict=True))
                ranked = fuse(dense, {}, 1.0, 0.0) if mode == "dense" else fuse(dense, keyword)
            ids = [scored.chunk_id for scored in ranked[:k]]
            rows = milvus.passage_rows(ids)
            return [(str(rows[i][0]), int(rows[i][6]), int(rows[i][7])) for i in ids]

        def embedded(query: str, vector: np.ndarray, mode: str) -> list[tuple[str, int, int]]:
            found = assistant.retriever.search(query, k, None, vector, mode=mode)
            return [(p.article_id, p.start, p.end) for p in found]

        scores: dict[str, dict[str, list[float]]] = {}
        times: dict[str, list[float]] = {}
        same_top: dict[str, list[bool]] = {}
        for question in sample:
            vector = embedder.embed([question.question])[0]
            for mode in ("hybrid", "keyword", "dense"):
                tops = []
                for name, search in (("embedded", embedded), ("Milvus Lite", on_milvus)):
                    started = time.perf_counter()
                    found = search(question.question, vector, mode)
                    times.setdefault(f"{mode}, {name}", []).append(
                        (time.perf_counter() - started) * 1000
                    )
                    tops.append(found[:1])
                    row = scores.setdefault(f"{mode}, {name}", {})
                    for metric, value in retrieval_scores(
                        found, question.article_id, question.spans
                    ).items():
                        row.setdefault(metric, []).append(value)
                same_top.setdefault(mode, []).append(tops[0] == tops[1])
        milvus.close()
    print(f"{len(sample)} SQuAD dev questions\n")
    print("| retrieval | R@1 | R@5 | R@10 | MRR@10 | search p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for name, row in scores.items():
        values = " | ".join(f"{sum(v) / len(v):.3f}" for v in row.values())
        took = times[name]
        print(f"| {name} | {values} | {percentile(took, 0.5):.1f} | {percentile(took, 0.95):.1f} |")
    print("\n| mode | same top passage on both |\n|---|---|")
    for mode, same in same_top.items():
        print(f"| {mode} | {sum(same) / len(same):.3f} |")


if __name__ == "__main__":
    main()
