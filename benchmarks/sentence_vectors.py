"""How sentence vectors are made and stored: each sentence alone, title-prefixed, or pooled from
its chunk's pass (late chunking); int8 against float32 (issue 26). Quality, ingest cost, size and
memory, per dev file.

    python benchmarks/sentence_vectors.py [--data FILE ...] [--variants titled-float32 ...]
        [--half odd] [--limit 1000] [--seed 7] [--questions 200] [--reuse]

For every variant and file, each step in a fresh process:

1. ingest the file into ``eval-index/sentence-vectors/VARIANT/FILE`` (a new index; its database
   is created first with the variant's sentence format) and time it; the model's inputs are
   recorded to count the tokens it read and the seconds it spent. A compact variant whose
   float32 twin was built (``late-int8`` after ``late-float32``) is converted from it instead:
   its sentence vectors re-encoded as ingest would write them (the model's work is the same, so
   its ingest figures are the twin's; its size, memory and quality are its own);
2. ``qa eval FILE --index THAT --half odd --limit 1000 --seed 7`` (hybrid; the held-out half,
   as the README's quality table, since the trained reader and the constants were tuned on the
   even one): R@1, R@5, MRR@10, answer hit, citation precision, false abstention;
3. open the index and answer ``--questions`` of the file's questions, warm: peak RSS of serving.

Variants, ``WAY-FORMAT``: WAY ``titled`` (each sentence embedded alone, title-prefixed: the
default), ``alone`` (its own text), ``late`` (pooled from the chunk's own pass) or ``pooled``
(sentences as ``titled``, each chunk's vector pooled from its sentences'); FORMAT ``float32``
(before), ``int8`` (with a per-vector scale: the default since) or ``float16``. Each result is
kept beside its index (``VARIANT/FILE.json``), with the settings that made it; ``--reuse`` takes
it from there instead of building and measuring again, when those settings are the same.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, SQUAD, Recording, folder_mb, peak_rss_mb, percentile

NYT = SQUAD.parent / "squadshifts-nyt-dev.json.gz"
VARIANTS = ("titled-float32", "alone-float32", "alone-int8", "late-float32", "late-int8")
WAYS = ("titled", "alone", "late", "pooled")
FORMATS = ("float32", "float16", "int8")
BASE = ROOT / "eval-index" / "sentence-vectors"


def folder_for(variant: str, data: Path) -> Path:
    return BASE / variant / data.name.split(".json")[0]


def ingest(variant: str, data: Path) -> dict[str, Any]:
    """Ingest ``data`` into a new index of ``variant``; time it and count what the model read."""
    from embeddings import load_embedder
    from qa import Assistant
    from qa.stores.embedded.sqlite import Store

    way, sentence_format = variant.split("-")
    folder = folder_for(variant, data)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    Store(folder / "index.sqlite", sentence_format=sentence_format).close()
    model = Recording(load_embedder(None))
    model.dimension  # noqa: B018 (load the model before the clock starts, as in benchmarks/ingest.py)
    with Assistant.open(folder, embedder=model, sentence_vectors=way) as assistant:
        started = time.perf_counter()
        report = assistant.ingest([data])
        seconds = time.perf_counter() - started
        stats = assistant.stats()
        sentences = assistant.store.count_sentences()  # type: ignore[attr-defined]
    model_tokens = model.model_tokens()
    return {
        "ingest_s": seconds,
        "embed_s": model.seconds,
        "texts_read": len(model.texts),
        "model_tokens": model_tokens,
        "chunks": stats.chunks,
        "sentences": sentences,
        "disk_mb": folder_mb(folder),
        "failed": len(report.failed),
    }


def convert(variant: str, twin: str, data: Path) -> dict[str, Any]:
    """Build ``variant`` from its float32 ``twin``: copy the index, re-encode its sentence
    vectors in the variant's format (``vector_format``, as ingest writes them), compact it."""
    from qa.stores import vector_format
    from qa.stores.embedded.sqlite import SENTENCE_FORMAT_KEY, Store

    name = variant.split("-")[1]
    folder = folder_for(variant, data)
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(folder_for(twin, data), folder)
    store = Store(folder / "index.sqlite")
    rows = store.db.execute("SELECT rowid, vector FROM sentences").fetchall()
    vectors = vector_format.decode([row[1] for row in rows], store.sentence_format)
    blobs = vector_format.encode_many(vectors, name)
    with store.transaction():
        store.db.executemany(
            "UPDATE sentences SET vector = ? WHERE rowid = ?",
            ((blob, row[0]) for row, blob in zip(rows, blobs, strict=True)),
        )
        store.set_meta(SENTENCE_FORMAT_KEY, name)
    store.db.execute("VACUUM")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return {"disk_mb": folder_mb(folder), "converted_from": twin}


def serve(variant: str, data: Path, questions: int) -> dict[str, Any]:
    """Answer ``questions`` of the file's questions, warm, in this fresh process: peak RSS."""
    from benchmarks.common import sample_questions
    from qa import Assistant

    sample = sample_questions(questions, seed=2, data=data)
    with Assistant.open(folder_for(variant, data), create=False) as assistant:
        for question in sample[:5]:
            assistant.ask(question)
        times = []
        for question in sample:
            started = time.perf_counter()
            assistant.ask(question)
            times.append((time.perf_counter() - started) * 1000)
    return {
        "ask_p50_ms": percentile(times, 0.5),
        "ask_p95_ms": percentile(times, 0.95),
        "peak_rss_mb": peak_rss_mb(),
    }


def evaluate(variant: str, data: Path, limit: int, seed: int, half: str) -> dict[str, Any]:
    """``qa eval`` of the built index (hybrid, the README's settings)."""
    folder = folder_for(variant, data)
    command = [
        *[sys.executable, "-m", "qa"],
        *["eval", str(data), "--index", str(folder), "--limit", str(limit), "--seed", str(seed)],
        *["--half", half],
        *["--out", str(folder.parent / f"{folder.name}-eval"), "--json"],
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's qa, not an installed one
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True, cwd=ROOT, env=env)
    summary = json.loads(done.stdout)
    hybrid = summary["retrieval"]["hybrid"]
    answers = summary["answers"]
    return {
        "R@1": hybrid["recall@1"],
        "R@5": hybrid["recall@5"],
        "MRR@10": hybrid["mrr@10"],
        "answer_hit": answers["answer_hit_rate"],
        "citation_precision": answers["citation_precision"],
        "false_abstention": summary["abstention"]["false_abstention"],
    }


def child(step: str, variant: str, data: Path, extra: Sequence[str] = ()) -> dict[str, Any]:
    command = [sys.executable, __file__, step, variant, str(data), *extra]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


ROWS = (
    ("R@1", "hybrid R@1", "{:.3f}"),
    ("R@5", "hybrid R@5", "{:.3f}"),
    ("MRR@10", "hybrid MRR@10", "{:.3f}"),
    ("answer_hit", "answer hit", "{:.3f}"),
    ("citation_precision", "citation precision", "{:.3f}"),
    ("false_abstention", "false abstention", "{:.3f}"),
    ("ingest_s", "ingest, s", "{:.1f}"),
    ("embed_s", "  of which the model, s", "{:.1f}"),
    ("texts_read", "texts the model read", "{:,}"),
    ("model_tokens", "tokens the model read", "{:,}"),
    ("tokens_per_s", "model tokens/s (embedding stage)", "{:,.0f}"),
    ("disk_mb", "index folder, MB", "{:.1f}"),
    ("peak_rss_mb", "peak RSS answering, MB", "{:.0f}"),
    ("ask_p50_ms", "ask p50, ms", "{:.0f}"),
)


def table(name: str, results: dict[str, dict[str, Any]]) -> str:
    variants = list(results)
    first = results[variants[0]]
    lines = [
        f"{name}: {first['chunks']:,} chunks, {first['sentences']:,} sentences",
        "",
        "| | " + " | ".join(variants) + " |",
        "|---" * (len(variants) + 1) + "|",
    ]
    for key, label, form in ROWS:
        cells = []
        for variant in variants:
            value = results[variant][key]
            cell = form.format(value)
            if variant != variants[0] and form == "{:.3f}":
                cell += f" ({value - first[key]:+.3f})"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    converted = [v for v in variants if "converted_from" in results[v]]
    if converted:
        lines.append(
            f"\n{', '.join(converted)}: converted from the float32 twin (its ingest figures are "
            "the twin's: the model's work is the same)."
        )
    return "\n".join(lines)


def measure(variant: str, data: Path, args: argparse.Namespace, done: dict[str, Any]) -> dict:  # type: ignore[type-arg]
    """Build ``variant`` of ``data`` (or convert it from its float32 twin), evaluate, serve."""
    way, name = variant.split("-")
    twin = f"{way}-float32"
    if name != "float32" and twin in done:
        built = {k: v for k, v in done[twin].items() if k in INGEST_KEYS}
        built |= child("convert", variant, data, ["--twin", twin])
    else:
        built = child("ingest", variant, data)
    scores = evaluate(variant, data, args.limit, args.seed, args.half)
    served = child("serve", variant, data, ["--questions", str(args.questions)])
    row = built | scores | served
    row["tokens_per_s"] = row["model_tokens"] / max(row["embed_s"], 1e-9)
    return row


INGEST_KEYS = ("ingest_s", "embed_s", "texts_read", "model_tokens", "chunks", "sentences")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "step", nargs="?", choices=["ingest", "convert", "serve"], help=argparse.SUPPRESS
    )
    parser.add_argument("variant", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("file", nargs="?", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--twin", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, nargs="+", default=[SQUAD, NYT])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--half", choices=["all", "even", "odd"], default="odd")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="take results kept by a former run")
    args = parser.parse_args()
    for variant in args.variants:
        way, _, name = variant.partition("-")
        if way not in WAYS or name not in FORMATS:
            parser.error(f"unknown variant {variant!r}: WAY-FORMAT, WAY one of {WAYS}, FORMAT "
                         f"one of {FORMATS}")  # fmt: skip
    if args.step == "ingest":
        print(json.dumps(ingest(args.variant, args.file)))
        return
    if args.step == "convert":
        print(json.dumps(convert(args.variant, args.twin, args.file)))
        return
    if args.step == "serve":
        print(json.dumps(serve(args.variant, args.file, args.questions)))
        return
    for data in args.data:
        results: dict[str, dict[str, Any]] = {}
        for variant in args.variants:
            folder = folder_for(variant, data)
            kept = folder.parent / f"{folder.name}.json"
            settings = {"half": args.half, "limit": args.limit, "seed": args.seed}
            if args.reuse and kept.exists():
                found = json.loads(kept.read_text(encoding="utf-8"))
                if all(found.get(key) == value for key, value in settings.items()):
                    results[variant] = found
                    continue
            results[variant] = measure(variant, data, args, results) | settings
            kept.write_text(json.dumps(results[variant]), encoding="utf-8")
            print(json.dumps({"file": data.name, "variant": variant} | results[variant]),
                  file=sys.stderr)  # fmt: skip
        print(table(data.name, results) + "\n")


if __name__ == "__main__":
    main()
