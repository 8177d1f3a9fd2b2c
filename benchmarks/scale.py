"""Query speed at 10k, 100k and 1M chunks: search/ask latency, approximate-index recall, memory.

    python benchmarks/scale.py [--chunks 10000 100000 1000000] [--questions 200] [--reader off]

Embedding a million real chunks takes hours here, so larger indexes are synthesised from the
real SQuAD dev index (2,112 chunks, built with the default model on first use):

- text: copy c of an article replaces 15% of its words by random corpus words of the same
  length, so chunk offsets still slice the article text and keyword statistics stay realistic
  (every word's document frequency grows with the copies, as in a real archive);
- vectors: copy c of chunk a gets normalise(v_a + g * v_b + noise), b a random other chunk,
  g ~ U(0, 0.6), noise ~ N(0, 0.02) per coordinate: spread over the space the real embeddings
  span, not 474 exact duplicates;
- sentences: every sentence of chunk a is copied with it (same offsets: the replaced words keep
  their length), its vector moved the same way as its chunk's (normalise(s + g * v_b + noise)),
  stored in the index's sentence format (int8 by default), as ingest writes them.

A real-embeddings check comes first: recall@10 of the IVF layout over the ~24k SQuAD dev
sentences, paragraphs and questions (every vector real), 500 held-out questions as queries.

Each size is built once into benchmarks/results/scale-N (reused later), by the same code that
serves it: the FAISS layout is chosen by size as in normal use. Then a fresh process opens the
index and times ``search`` (k=5), ``ask``, the keyword half, the dense half and the sentence
half (each candidate's best stored sentence, for the 100 best dense candidates) on real SQuAD
questions, one at a time, warm (the keyword half as search runs it, and FTS5 ranking alone for
comparison); its peak RSS is the memory of serving that index. ``--reader on`` answers with the
trained reader where the checkout has one (``Assistant.open(reader=...)``); ``off`` (the default)
answers without it. Recall@10 of
the index against exact search (a flat scan of the same vectors) is measured on the same
questions in the build process.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    RESULTS,
    folder_mb,
    peak_rss_mb,
    percentile,
    sample_questions,
    squad_index,
)
from qa.stores import vector_format

REPLACED_WORDS = 0.15
_WORD = re.compile(r"[A-Za-z]{2,15}")


def folder_for(chunks: int) -> Path:
    return RESULTS / f"scale-{chunks}"


# -- building ------------------------------------------------------------------------------------


def synthesise(chunks: int, folder: Path) -> float:
    """Write an index of ``chunks`` chunks into ``folder``; return the seconds it took."""
    from qa.stores.embedded.sqlite import Store

    started = time.perf_counter()
    base_dir = squad_index()
    base = Store(base_dir / "index.sqlite")
    articles = base.db.execute(
        "SELECT id, title, source, url, date, author, text, content_hash FROM articles ORDER BY id"
    ).fetchall()
    rows = base.db.execute(
        "SELECT article_id, seq, start, end, tokens, embed_hash, vector, id FROM chunks "
        "ORDER BY article_id, seq"
    ).fetchall()
    base_sentences: dict[int, list[tuple[int, int, str]]] = {}
    sentence_blobs: list[bytes] = []
    for chunk, start, end, embed, blob in base.db.execute(
        "SELECT chunk_id, start, end, embed_hash, vector FROM sentences ORDER BY chunk_id, start"
    ):
        base_sentences.setdefault(chunk, []).append((start, end, embed))
        sentence_blobs.append(blob)
    sentence_vectors = vector_format.decode(sentence_blobs, base.sentence_format)
    first_sentence: dict[int, int] = {}
    row = 0
    for chunk in sorted(base_sentences):
        first_sentence[chunk] = row
        row += len(base_sentences[chunk])
    base.close()
    by_article: dict[str, list[tuple]] = {}
    first_row: dict[str, int] = {}
    for n, row in enumerate(rows):
        by_article.setdefault(row[0], []).append(row)
        first_row.setdefault(row[0], n)
    base_vectors = np.vstack([np.frombuffer(row[6], dtype=np.float32) for row in rows])
    vocabulary: dict[int, list[str]] = {}
    for article in articles:
        for word in set(_WORD.findall(article[6])):
            vocabulary.setdefault(len(word), []).append(word)

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copy(base_dir / "config.json", folder / "config.json")
    store = Store(folder / "index.sqlite")
    sentence_format = store.sentence_format
    db = store.db
    db.execute("PRAGMA synchronous=OFF")  # a benchmark fixture: rebuilt if a run dies
    # Built once at the end: millions of random-order inserts into it are far slower.
    db.execute("DROP INDEX sentences_embed_hash")
    rng = np.random.default_rng(0)
    chunk_id = written = sentences = 0
    copy = 0
    while written < chunks:
        db.execute("BEGIN")
        for article_id, title, source, url, date, author, text, content_hash in articles:
            if written >= chunks:
                break
            own = by_article.get(article_id, [])[: chunks - written]
            if copy:
                text = perturb(text, vocabulary, rng)
                article_id, title = f"{article_id}~{copy}", f"{title} {copy}"
                content_hash = hashlib.sha1(text.encode()).hexdigest()
            db.execute(
                "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', '')",
                (article_id, title, source, url, date, author, text, content_hash),
            )
            if not own:
                continue
            first = first_row[own[0][0]]
            vectors = base_vectors[first : first + len(own)]
            mix = base_vectors[rng.integers(0, len(base_vectors), len(own))]
            gain = rng.uniform(0, 0.6, (len(own), 1)).astype(np.float32) * (copy > 0)
            if copy:
                noise = rng.normal(0, 0.02, vectors.shape).astype(np.float32)
                vectors = vectors + gain * mix + noise
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            ids = range(chunk_id + 1, chunk_id + 1 + len(own))
            db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (i, article_id, seq, start, end, tokens, text[start:end],
                     f"{embed}~{copy}", vector.astype(np.float32).tobytes())
                    for i, (_, seq, start, end, tokens, embed, _, _), vector
                    in zip(ids, own, vectors, strict=True)
                ),
            )  # fmt: skip
            db.executemany(
                "INSERT INTO chunks_fts (rowid, title, text) VALUES (?, ?, ?)",
                ((i, title, text[row[2] : row[3]]) for i, row in zip(ids, own, strict=True)),
            )
            sentences += write_sentences(
                db, ids, own, (base_sentences, first_sentence, sentence_vectors),
                (mix, gain), copy, sentence_format, rng,
            )  # fmt: skip
            chunk_id += len(own)
            written += len(own)
        db.execute("COMMIT")
        copy += 1
        print(f"\r  synthesising: {written:,}/{chunks:,} chunks", end="", file=sys.stderr)
    print(file=sys.stderr)
    print(f"  {sentences:,} sentences; indexing their keys", file=sys.stderr)
    db.execute("CREATE INDEX sentences_embed_hash ON sentences(embed_hash)")
    with store.transaction():
        store.set_meta("generation", "1")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return time.perf_counter() - started


def write_sentences(  # type: ignore[no-untyped-def]
    db, ids, own, base, moves, copy: int, sentence_format: str, rng: np.random.Generator
) -> int:
    """Copy the sentences of the chunks ``own`` (written as ``ids``), their vectors moved as
    their chunks' were (``moves``: each chunk's mixed-in vector and gain); return how many."""
    base_sentences, first_sentence, sentence_vectors = base
    mix, gain = moves
    rows = []
    vectors = []
    for chunk_id, chunk, direction, g in zip(ids, own, mix, gain, strict=True):
        found = base_sentences.get(chunk[7], [])
        first = first_sentence.get(chunk[7], 0)
        own_vectors = sentence_vectors[first : first + len(found)]
        if copy:
            noise = rng.normal(0, 0.02, own_vectors.shape).astype(np.float32)
            own_vectors = own_vectors + g * direction + noise
            own_vectors /= np.linalg.norm(own_vectors, axis=1, keepdims=True)
        vectors.append(own_vectors)
        rows.extend((chunk_id, start, end, f"{embed}~{copy}") for start, end, embed in found)
    if not rows:
        return 0
    blobs = vector_format.encode_many(np.vstack(vectors), sentence_format)
    db.executemany(
        "INSERT INTO sentences (chunk_id, start, end, embed_hash, vector) VALUES (?, ?, ?, ?, ?)",
        ((*row, blob) for row, blob in zip(rows, blobs, strict=True)),
    )
    return len(rows)


def perturb(text: str, vocabulary: dict[int, list[str]], rng: np.random.Generator) -> str:
    """Replace a share of the words by random corpus words of the same length."""
    spans = [match.span() for match in _WORD.finditer(text)]
    chosen = np.flatnonzero(rng.random(len(spans)) < REPLACED_WORDS)
    pieces: list[str] = []
    previous = 0
    for n in chosen:
        start, end = spans[n]
        pool = vocabulary[end - start]
        pieces.append(text[previous:start])
        pieces.append(pool[int(rng.integers(len(pool)))])
        previous = end
    pieces.append(text[previous:])
    return "".join(pieces)


def build(chunks: int, questions: int) -> dict[str, object]:
    """Synthesise (unless done before), build the vector index, measure its recall."""
    import faiss

    from qa import Assistant

    folder = folder_for(chunks)
    done_mark = folder / "SYNTHESISED"
    synth_s = None
    if not done_mark.exists():
        synth_s = synthesise(chunks, folder)
        done_mark.write_text("ok\n")
    started = time.perf_counter()
    with Assistant.open(folder) as assistant:
        # What an ingest does at its end: the vector layout and the keyword cache fit the size.
        assistant.store.after_write(True)
        vectors = assistant.store.vector_index
        index_s = time.perf_counter() - started
        queries = assistant.embedder.embed(sample_questions(questions, seed=1))
        _, found = vectors.search(queries, 10)
        ids, stored = assistant.store.all_vectors(vectors.dimension)
        exact = faiss.IndexFlatIP(vectors.dimension)
        exact.add(stored)
        _, rows = exact.search(queries, 10)
        truth = ids[rows]
        recall = float(
            np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
        )
        layout = vectors.layout
        has_keywords = assistant.store.keywords is not None
        sentences = assistant.store.count_sentences()
    return {
        "chunks": chunks,
        "sentences": sentences,
        "synthesis_s": synth_s,
        "index_build_s": round(index_s, 1),
        "keyword_cache": has_keywords,
        "layout": layout,
        "recall@10_vs_exact": round(recall, 4),
        "disk_mb": round(folder_mb(folder)),
    }


def real_recall(queries: int = 500) -> dict[str, object]:
    """Recall@10 of the IVF layout on real embeddings only: every SQuAD dev sentence, paragraph
    and question (~24k texts, above the exact-search threshold), 500 held-out questions as
    queries. The synthetic sizes above can flatter an approximate index; this cannot."""
    import faiss

    from benchmarks.common import SQUAD
    from embeddings import VectorIndex, embed_sorted, load_embedder
    from embeddings.index import choose_layout
    from qa.pipeline.sentences import split_sentences

    with gzip.open(SQUAD, "rt", encoding="utf-8") as handle:
        articles = json.load(handle)["data"]
    paragraphs = [p["context"] for a in articles for p in a["paragraphs"]]
    sentences = [p[s:e] for p in paragraphs for s, e in split_sentences(p)]
    questions = [q["question"] for a in articles for p in a["paragraphs"] for q in p["qas"]]
    rng = np.random.default_rng(0)
    rng.shuffle(questions)
    held, rest = questions[:queries], questions[queries:]
    embedder = load_embedder(None)
    data = embed_sorted(embedder, paragraphs + sentences + rest)
    query_vectors = embed_sorted(embedder, held)
    ids = np.arange(len(data), dtype=np.int64)
    layout = choose_layout(len(data))
    index = VectorIndex.build(data.shape[1], ids, data, layout)
    _, found = index.search(query_vectors, 10)
    exact = faiss.IndexFlatIP(data.shape[1])
    exact.add(data)
    _, truth = exact.search(query_vectors, 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    return {"vectors": len(data), "layout": layout, "recall@10_vs_exact": round(float(recall), 4)}


# -- serving -------------------------------------------------------------------------------------


def open_serving(folder: Path, reader: str):  # type: ignore[no-untyped-def]
    """The index as ``qa ask`` opens it, with the trained reader on or off where the checkout
    has one (``Assistant.open(reader=...)``); without one, answers are the reader-off ones."""
    import inspect

    from qa import Assistant

    if "reader" in inspect.signature(Assistant.open).parameters:
        return Assistant.open(folder, reader=reader == "on")
    if reader == "on":
        raise SystemExit("--reader on: this checkout has no trained reader to turn on.")
    return Assistant.open(folder)


def serve(chunks: int, questions: int, reader: str = "off") -> dict[str, object]:
    """Open the index in this fresh process and time queries; report this process's peak RSS."""
    from qa.lexical import content_words, fts_query

    started = time.perf_counter()
    assistant = open_serving(folder_for(chunks), reader)
    assistant.store.vector_index  # noqa: B018 (load the FAISS file now, to time it apart)
    open_s = time.perf_counter() - started
    sample = sample_questions(questions, seed=2)
    for question in sample[:5]:
        assistant.ask(question)
    timings: dict[str, list[float]] = {
        "search": [],
        "ask": [],
        "keyword": [],
        "fts5": [],
        "dense": [],
        "sentence": [],
    }
    retriever = assistant.retriever
    for question in sample:
        t0 = time.perf_counter()
        assistant.search(question, k=5)
        t1 = time.perf_counter()
        assistant.ask(question)
        t2 = time.perf_counter()
        retriever.index.keyword_search_text(question, 50, None)  # what search uses
        t3 = time.perf_counter()
        match = fts_query(content_words(question))
        if match:
            assistant.store.keyword_search(match, 50)  # FTS5 ranking alone, for comparison
        t4 = time.perf_counter()
        vector = assistant.embedder.embed([question])
        t5 = time.perf_counter()
        _, found = assistant.store.vector_index.search(vector, 100)
        t6 = time.perf_counter()
        candidates = [int(i) for i in found[0] if i >= 0]
        t7 = time.perf_counter()
        assistant.store.best_sentence_cosines(vector[0], candidates)
        t8 = time.perf_counter()
        for name, seconds in (
            ("search", t1 - t0),
            ("ask", t2 - t1),
            ("keyword", t3 - t2),
            ("fts5", t4 - t3),
            ("dense", t6 - t5),
            ("sentence", t8 - t7),
        ):
            timings[name].append(seconds * 1000)
    result: dict[str, object] = {"chunks": chunks, "open_s": round(open_s, 2), "reader": reader}
    for name, values in timings.items():
        result[f"{name}_p50_ms"] = round(percentile(values, 0.5), 1)
        result[f"{name}_p95_ms"] = round(percentile(values, 0.95), 1)
    result["peak_rss_mb"] = round(peak_rss_mb())
    return result


def run_child(step: str, chunks: int, questions: int, reader: str = "off") -> dict[str, object]:
    command = [sys.executable, __file__, step, str(chunks), "--questions", str(questions)]
    command += ["--reader", reader]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "step", nargs="?", choices=["build", "serve", "real"], help=argparse.SUPPRESS
    )
    parser.add_argument("size", nargs="?", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--chunks", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument(
        "--reader",
        choices=["off", "on"],
        default="off",
        help="answer with the trained reader (where the checkout has one) or without it",
    )
    parser.add_argument(
        "--no-real-recall",
        action="store_true",
        help="skip the recall check on real embeddings (it embeds ~22k SQuAD texts)",
    )
    args = parser.parse_args()
    if args.step == "build":
        print(json.dumps(build(args.size, args.questions)))
        return
    if args.step == "serve":
        print(json.dumps(serve(args.size, args.questions, args.reader)))
        return
    if args.step == "real":
        print(json.dumps(real_recall()))
        return
    results = []
    for chunks in args.chunks:
        started = time.perf_counter()
        built = run_child("build", chunks, args.questions)
        built["build_s"] = round(time.perf_counter() - started, 1)
        served = run_child("serve", chunks, args.questions, args.reader)
        results.append({**built, **served})
        print(json.dumps(results[-1]), file=sys.stderr)
    if not args.no_real_recall:
        real = real_recall()
        print(json.dumps(real), file=sys.stderr)
        print(
            f"Real embeddings only ({real['vectors']:,} SQuAD dev sentences, paragraphs and "
            f"questions; layout {real['layout']}): recall@10 vs exact "
            f"{real['recall@10_vs_exact']}\n"
        )
    print(f"reader {args.reader}; {args.questions} questions, warm, one at a time\n")
    print(
        "| chunks | sentences | layout | recall@10 vs exact | search p50/p95 ms | ask p50/p95 ms "
        "| keyword p50/p95 ms | FTS5 ranking alone p50/p95 ms | dense p50/p95 ms "
        "| sentence half p50/p95 ms | open s | peak RSS MB | disk MB | build s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        layout = r["layout"]
        assert isinstance(layout, dict)
        kind = layout["kind"] + (
            f" (nlist {layout['nlist']}, nprobe {layout['nprobe']})" if "nlist" in layout else ""
        )
        print(
            f"| {r['chunks']:,} | {r['sentences']:,} | {kind} | {r['recall@10_vs_exact']:.3f} "
            f"| {r['search_p50_ms']} / {r['search_p95_ms']} "
            f"| {r['ask_p50_ms']} / {r['ask_p95_ms']} "
            f"| {r['keyword_p50_ms']} / {r['keyword_p95_ms']} "
            f"| {r['fts5_p50_ms']} / {r['fts5_p95_ms']} "
            f"| {r['dense_p50_ms']} / {r['dense_p95_ms']} "
            f"| {r['sentence_p50_ms']} / {r['sentence_p95_ms']} | {r['open_s']} "
            f"| {r['peak_rss_mb']:,} | {r['disk_mb']:,} | {r['build_s']} |"
        )


if __name__ == "__main__":
    main()
