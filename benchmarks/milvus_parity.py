"""Does the Milvus store retrieve like the embedded store, and how fast? On both dev files.

    pip install 'article-qa[milvus]'      # make test installs it
    python benchmarks/milvus_parity.py [--data FILE ...] [--keywords english terms]
                                       [--questions 1000] [--ask 200]
    python benchmarks/milvus_parity.py --scale 100000    # search latency at 100k chunks

For each dev file (default: SQuAD dev and SQuADShifts NYT) ingests it into a new index on
Milvus Lite (``--store milvus``, the real ingest path), once per keyword analysis
(``QA_MILVUS_KEYWORDS``: ``english``, Milvus's analyzer, and ``terms``, our own), next to the
embedded-store index of the same file (built on first use, under benchmarks/results/). Then asks
the same questions of all through the same ``Retriever`` (one code path, fusion client-side):
scores by character offsets as ``qa eval`` does, times each search with the question embedded
once outside, and times ``ask`` end to end. Which engine ran is printed: milvus-lite 2.5 is the
C++ Milvus engine, 3.x a pure-Python reimplementation (on 3.x ``english`` falls back to
``terms``, so ask for ``--keywords terms`` there).

``--scale N`` only times the store's own searches (100 questions) at N chunks: dense and keyword
(k = 50), and the two steps the hybrid fusion adds for ~85 candidates: each one's best sentence
cosine (a grouping search over the sentence rows) and the exact cosines of keyword-only hits. The
first dev file's chunk texts repeated under new ids, ``--sentences-per-chunk`` sentence rows each
(5, about what the dev files have), random unit vectors, inserted through the store's client in
batches (the real ingest would embed them all first).

Chunk vectors are cached on disk by text (``--cache``), so each Milvus index and the embedded
one embed a chunk once across runs and venvs: only search and ingest-write times are measured.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import random
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, SQUAD, percentile, retrieval_scores

NYT = SQUAD.parent / "squadshifts-nyt-dev.json.gz"
CACHE = RESULTS / "milvus-parity-vectors.pkl"
MODES = ("hybrid", "keyword", "dense")


def embedded_index(data: Path) -> Path:
    """The embedded-store index of ``data`` (SQuAD dev: the one the other benchmarks use)."""
    name = "squad-all-index" if data.name == SQUAD.name else data.name.split(".")[0] + "-index"
    return RESULTS / name


def cache_vectors(embedder: Any, cache: Path) -> None:
    """Wrap ``embedder.embed`` with a text -> vector cache kept in ``cache``."""
    store: dict[str, bytes] = pickle.loads(cache.read_bytes()) if cache.exists() else {}
    real = embedder.embed

    def embed(texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(text.encode()).hexdigest() for text in texts]
        missing = [n for n, key in enumerate(keys) if key not in store]
        if missing:
            fresh = real([texts[n] for n in missing])
            for n, vector in zip(missing, fresh, strict=True):
                store[keys[n]] = np.asarray(vector, np.float32).tobytes()
        return np.stack([np.frombuffer(store[key], np.float32) for key in keys])

    def save() -> None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(store))

    embedder.embed = embed
    embedder.real_embed = real
    embedder.save_cache = save


def timed_asks(assistant: Any, sample: list[Any]) -> list[float]:
    """``ask`` times with the cache off: every store embeds the question and its sentences."""
    embedder = assistant.embedder
    cached, embedder.embed = embedder.embed, embedder.real_embed
    try:
        spent = []
        for question in sample:
            started = time.perf_counter()
            assistant.ask(question.question)
            spent.append((time.perf_counter() - started) * 1000)
        return spent
    finally:
        embedder.embed = cached


def measure(assistant: Any, sample: list[Any], vectors: list[Any], k: int) -> dict[str, Any]:
    scores: dict[str, dict[str, list[float]]] = {}
    times: dict[str, list[float]] = {}
    tops: dict[str, list[Any]] = {}
    for question, vector in zip(sample, vectors, strict=True):
        for mode in MODES:
            started = time.perf_counter()
            found = assistant.retriever.search(question.question, k, None, vector, mode)
            times.setdefault(mode, []).append((time.perf_counter() - started) * 1000)
            spans = [(p.article_id, p.start, p.end) for p in found]
            tops.setdefault(mode, []).append(spans[:1])
            row = scores.setdefault(mode, {})
            for metric, value in retrieval_scores(
                spans, question.article_id, question.spans
            ).items():
                row.setdefault(metric, []).append(value)
    return {"scores": scores, "times": times, "tops": tops}


def report(data: Path, args: argparse.Namespace) -> None:
    from qa import Assistant
    from qa.eval import evaluation

    raw = evaluation.load_squad(data)
    questions = evaluation.questions_for(raw, data, list(range(len(raw))))
    sample = random.Random(7).sample(questions, min(args.questions, len(questions)))
    k = 10
    with Assistant.open(embedded_index(data)) as embedded:
        embedder: Any = embedded.embedder
        if not hasattr(embedder, "save_cache"):
            cache_vectors(embedder, args.cache)
        built = embedded.ingest([data])
        if built.added or built.updated:
            print(f"built {embedded_index(data)}: {built.summary()}")
        embedder.save_cache()
        vectors = [embedder.embed([q.question])[0] for q in sample]
        results = {"embedded": measure(embedded, sample, vectors, k)}
        asks = {"embedded": timed_asks(embedded, sample[: args.ask])}
        engine = f"Milvus Lite {version('milvus-lite')}, pymilvus {version('pymilvus')}"
        print(f"## {data.name}: {len(sample)} questions, k = {k}; {engine}\n")
        for analysis in args.keywords:
            os.environ["QA_MILVUS_KEYWORDS"] = analysis
            with (
                tempfile.TemporaryDirectory() as scratch,
                Assistant.open(Path(scratch) / "i", embedder=embedder, store="milvus") as milvus,
            ):
                started = time.perf_counter()
                ingested = milvus.ingest([data])
                took = time.perf_counter() - started
                store = milvus.store
                name = f"Milvus, {store.analysis}"
                stats = milvus.stats()
                print(
                    f"ingest into {name}: {ingested.summary()}; {took:.1f} s wall (vectors "
                    f"cached); {stats.chunks:,} chunks, {stats.size_bytes / 2**20:.1f} MB on disk "
                    f"(embedded store: {embedded.stats().size_bytes / 2**20:.1f} MB)"
                )
                results[name] = measure(milvus, sample, vectors, k)
                asks[name] = timed_asks(milvus, sample[: args.ask])
        embedder.save_cache()
    print("\n| retrieval | R@1 | R@5 | R@10 | MRR@10 | search p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for mode in MODES:
        for name, result in results.items():
            row = result["scores"][mode]
            values = " | ".join(f"{sum(v) / len(v):.3f}" for v in row.values())
            spent = result["times"][mode]
            p50, p95 = percentile(spent, 0.5), percentile(spent, 0.95)
            print(f"| {mode}, {name} | {values} | {p50:.1f} | {p95:.1f} |")
    print("\n| mode | store | same top passage as embedded |\n|---|---|---|")
    base = results["embedded"]["tops"]
    for mode in MODES:
        for name, result in results.items():
            if name != "embedded":
                same = [a == b for a, b in zip(base[mode], result["tops"][mode], strict=True)]
                print(f"| {mode} | {name} | {sum(same) / len(same):.3f} |")
    print(f"\n`ask` end to end ({args.ask} questions, question embedding included):\n")
    print("| store | p50 ms | p95 ms |\n|---|---|---|")
    for name, spent in asks.items():
        print(f"| {name} | {percentile(spent, 0.5):.1f} | {percentile(spent, 0.95):.1f} |")
    print()


def scale(rows: int, data: Path, sentences_per_chunk: int = 5, queries: int = 100) -> None:
    """Search latency of the Milvus store at ``rows`` chunks: the dev file's chunk texts repeated
    (new ids), random unit vectors, inserted in batches straight through the store's client."""
    from qa import Assistant
    from qa.eval import evaluation
    from qa.stores.milvus.schema import KEYWORD_FIELDS, keyword_text, sentence_id
    from qa.stores.milvus.store import MilvusStore

    with Assistant.open(embedded_index(data), create=False) as embedded:
        texts = [
            (row.title, row.text)
            for row in embedded.retriever.index.passage_rows(
                list(range(1, embedded.stats().chunks + 1))
            ).values()
        ]
    raw = evaluation.load_squad(data)
    asked = [q["question"] for a in raw for p in a["paragraphs"] for q in p["qas"]]
    asked = random.Random(7).sample(asked, queries)
    generator = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as scratch:
        store = MilvusStore(f"milvus://{scratch}/scale.db", dimension=384)
        field = KEYWORD_FIELDS[store.analysis]
        started = time.perf_counter()
        for begin in range(0, rows, 2000):
            vectors = generator.standard_normal((min(2000, rows - begin), 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            batch = []
            for n, vector in enumerate(vectors, begin):
                title, text = texts[n % len(texts)]
                batch.append({
                    "chunk_id": n, "article_id": f"a{n // 10}", "title": title,
                    "title_key": title.lower(), "url": "", "date": "", "date_key": "",
                    "source": f"/s/{n // 10}", "seq": n % 10, "start": 0, "end": len(text),
                    "tokens": 0, "text": text, "embed_hash": "", "content_hash": "",
                    field: keyword_text(title, text, store.analysis), "dense": vector.tolist(),
                })  # fmt: skip
            store.client.insert(store.chunks, batch)
            if sentences_per_chunk:
                shape = (len(vectors) * sentences_per_chunk, 384)
                units = generator.standard_normal(shape).astype(np.float32)
                units /= np.linalg.norm(units, axis=1, keepdims=True)
                rows_of = [
                    {
                        "sentence_id": sentence_id(n, s, s + 1), "chunk_id": n,
                        "article_id": f"a{n // 10}", "start": s, "end": s + 1, "embed_hash": "",
                        "dense": units[(n - begin) * sentences_per_chunk + s].tolist(),
                    }
                    for n in range(begin, begin + len(vectors))
                    for s in range(sentences_per_chunk)
                ]  # fmt: skip
                for part in range(0, len(rows_of), 2000):
                    store.client.insert(store.sentences, rows_of[part : part + 2000])
        store.flush()
        took = time.perf_counter() - started
        print(
            f"{rows:,} chunks, {rows * sentences_per_chunk:,} sentences ({store.analysis}): "
            f"insert + flush {took:.0f} s"
        )

        def vector() -> np.ndarray:
            unit = generator.standard_normal(384).astype(np.float32)
            return unit / np.linalg.norm(unit)

        def candidates() -> list[int]:
            return sorted(int(i) for i in generator.choice(rows, 85, replace=False))

        for name, search in (
            ("dense", lambda q: store.dense_search(vector(), 50)),
            ("keyword", lambda q: store.keyword_search_text(q, 50)),
            ("best sentence of 85", lambda q: store.best_sentence_cosines(vector(), candidates())),
            ("cosines of 85", lambda q: store.cosines(vector(), candidates())),
        ):
            search(asked[0])
            spent = []
            for question in asked:
                begun = time.perf_counter()
                search(question)
                spent.append((time.perf_counter() - begun) * 1000)
            p50, p95 = percentile(spent, 0.5), percentile(spent, 0.95)
            print(f"  {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, nargs="+", default=[SQUAD, NYT])
    parser.add_argument("--keywords", nargs="+", default=["english", "terms"])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--ask", type=int, default=200, help="questions timed through ask")
    parser.add_argument("--cache", type=Path, default=CACHE, help="chunk vectors by text")
    parser.add_argument("--scale", type=int, help="only: search latency at this many chunks")
    parser.add_argument("--sentences-per-chunk", type=int, default=5, help="with --scale")
    args = parser.parse_args()
    if args.scale:
        scale(args.scale, args.data[0], args.sentences_per_chunk)
        return
    for data in args.data:
        report(data, args)


if __name__ == "__main__":
    main()
