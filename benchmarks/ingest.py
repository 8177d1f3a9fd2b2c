"""Ingest speed: index the SQuAD v1.1 dev articles from scratch and print what it cost.

    python benchmarks/ingest.py ../shared/data/squad-dev-v1.1.json.gz [--model PATH] [--limit N]
        [--batch-tokens N]

``--batch-tokens`` sets the ONNX backend's cap on padded tokens per call (0: no cap, 16 texts a
call whatever their length), to see what the cap does to peak RSS and time; run each setting in
its own process, since peak RSS only grows.

Prints articles, chunks, tokens, wall seconds by stage (model load, reading + chunking,
embedding + writing), chunks/s and tokens/s (whole ingest and embedding stage), index size on
disk and peak RSS. Uses a temporary index folder unless --index is given.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import embeddings.onnx  # noqa: E402
from qa import Assistant  # noqa: E402


def limited_copy(data_path: Path, limit: int, folder: Path) -> Path:
    """A SQuAD file with only the first ``limit`` articles (for quick runs)."""
    opener = gzip.open if data_path.suffix == ".gz" else open
    with opener(data_path, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    data["data"] = data["data"][:limit]
    out = folder / "squad-subset.json"
    out.write_text(json.dumps(data), encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="SQuAD-format .json or .json.gz")
    parser.add_argument("--model", help="model folder (default: bundled all-MiniLM-L6-v2)")
    parser.add_argument("--limit", type=int, help="only the first N articles")
    parser.add_argument("--index", type=Path, help="index folder (default: a temporary one)")
    parser.add_argument(
        "--batch-tokens",
        type=int,
        default=embeddings.onnx.BATCH_TOKENS,
        help=f"padded tokens per ONNX call, 0: no cap (default {embeddings.onnx.BATCH_TOKENS})",
    )
    args = parser.parse_args()
    embeddings.onnx.BATCH_TOKENS = args.batch_tokens or 10**9

    with tempfile.TemporaryDirectory() as scratch:
        data = limited_copy(args.data, args.limit, Path(scratch)) if args.limit else args.data
        index_dir = args.index or Path(scratch) / "index"
        marks: dict[str, float] = {}

        def progress(stage: str, done: int, total: int) -> None:
            marks.setdefault(f"{stage} start", time.perf_counter())
            marks[f"{stage} end"] = time.perf_counter()

        started = time.perf_counter()
        assistant = Assistant.open(index_dir, model=args.model)
        assistant.chunker  # noqa: B018 (loads the model and tokenizers now, to time them apart)
        loaded = time.perf_counter()
        report = assistant.ingest([data], progress=progress)
        finished = time.perf_counter()
        stats = assistant.stats()
        assistant.close()

    reading = marks.get("Reading end", loaded) - loaded
    embed_start = marks.get("Reading end", loaded)
    embedding = finished - embed_start
    total = finished - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        ("articles", f"{stats.articles:,}"),
        ("chunks", f"{stats.chunks:,}"),
        ("tokens (cl100k, with overlap)", f"{stats.tokens:,}"),
        ("model load + tokenizers, s", f"{loaded - started:.1f}"),
        ("reading + chunking, s", f"{reading:.1f}"),
        ("embedding + writing, s", f"{embedding:.1f}"),
        ("total, s", f"{total:.1f}"),
        ("chunks/s (whole ingest)", f"{stats.chunks / total:.1f}"),
        ("tokens/s (whole ingest)", f"{stats.tokens / total:,.0f}"),
        ("chunks/s (embedding stage)", f"{report.chunks_embedded / embedding:.1f}"),
        ("tokens/s (embedding stage)", f"{report.tokens_embedded / embedding:,.0f}"),
        ("index size on disk, MB", f"{stats.size_bytes / 2**20:.1f}"),
        ("peak RSS, MB", f"{peak_mb:,.0f}"),
        ("padded tokens per ONNX call, at most", f"{args.batch_tokens or 'no cap'}"),
    ]
    print(f"| ingest of {args.data.name} | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(report.summary())


if __name__ == "__main__":
    main()
