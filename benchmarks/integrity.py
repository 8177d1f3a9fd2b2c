"""What verifying the index costs: the checks on open against cold start, and ``qa check``.

    python benchmarks/integrity.py                  # SQuAD dev index and 1M synthetic vectors
    python benchmarks/integrity.py --skip-squad --chunks 1000000

1. The SQuAD dev index (benchmarks/common.py, built on first use with the default model): the
   median wall time of ``qa ask`` as a fresh process (cold start), the time of the checks that
   opening the index adds (the vector file's fingerprint, the config against the database's
   copy), and of a full ``qa check``.
2. ``--chunks`` synthetic unit vectors (384-d) in the exact layout (``--layout ivf``: the one
   the product picks at 1M; the exact one loads fastest, so its ratio is the least favourable):
   the time to load the vector file (a floor of cold start at that size: a question cannot be
   answered before it is loaded), the fingerprint check on open (size, mtime, 64 sampled
   blocks), and the full SHA-256 that ``qa check`` and a changed mtime cost.

Files are read from the page cache after the first pass (no cache is dropped): the sampled
check reads 256 KB whatever the size, so a cold cache makes it relatively cheaper still.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, squad_index

QUESTION = "Which NFL team represented the AFC at Super Bowl 50?"


def timed(step: Callable[[], object], runs: int) -> float:
    """Median seconds of ``runs`` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def squad(runs: int) -> None:
    from qa import Assistant
    from qa.config import read_config, same_config
    from qa.stores.embedded import caches

    index = squad_index()
    ask = [sys.executable, "-m", "qa", "ask", QUESTION, "--index", str(index)]
    subprocess.run(ask, check=True, capture_output=True, cwd=ROOT)  # model converted, cache warm
    cold = timed(lambda: subprocess.run(ask, check=True, capture_output=True, cwd=ROOT), runs)
    with Assistant.open(index) as assistant:
        store = assistant.store
        sqlite = store  # the store is its SQLite catalog
        chunks = store.count_chunks()
        on_open = timed(
            lambda: (
                caches.vector_file_intact(index, sqlite),
                same_config(read_config(index), store.recorded_config(), False),  # type: ignore[arg-type, attr-defined]
            ),
            max(runs, 5),
        )
        full = timed(lambda: caches.vector_file_intact(index, sqlite, full=True), runs)
        check = timed(assistant.check, 1)
    megabytes = (index / "vectors.faiss").stat().st_size / 2**20
    print(f"\n## SQuAD dev index ({chunks:,} chunks, {megabytes:.0f} MB vector file)\n")
    print("| step | seconds | share of cold start |\n|---|---|---|")
    print(f"| `qa ask` cold start (fresh process, median of {runs}) | {cold:.2f} | 100% |")
    print(f"| checks on open (fingerprint + config copy) | {on_open:.4f} | {on_open / cold:.2%} |")
    print(f"| full SHA-256 of the vector file | {full:.3f} | {full / cold:.1%} |")
    print(f"| `qa check` (everything, read-only) | {check:.1f} | |")


def synthetic(chunks: int, dimension: int, runs: int, approximate: bool) -> None:
    from embeddings import VectorIndex
    from embeddings.index import FLAT, choose_layout
    from qa.stores.embedded import fingerprint

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((chunks, dimension), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1, chunks + 1, dtype=np.int64)
    layout = choose_layout(chunks) if approximate else {"kind": FLAT}
    started = time.perf_counter()
    index = VectorIndex.build(dimension, ids, vectors, layout)
    built = time.perf_counter() - started
    del vectors
    with tempfile.TemporaryDirectory(prefix="qa-integrity-") as folder:
        path = Path(folder) / "vectors.faiss"
        digest = index.save(path)
        del index
        recorded = fingerprint.take(path, digest)
        load = timed(lambda: VectorIndex.load(path, dimension), runs)
        quick = timed(lambda: fingerprint.quick_ok(path, recorded), max(runs, 5))
        full = timed(lambda: fingerprint.full_ok(path, recorded), runs)
        size = path.stat().st_size
    print(
        f"\n## {chunks:,} synthetic {dimension}-d vectors ({layout['kind']}, "
        f"{size / 2**30:.2f} GB file; built in {built:.0f} s)\n"
    )
    print("| step | seconds | share of loading the vector file |\n|---|---|---|")
    print(f"| load the vector file (part of every cold start) | {load:.2f} | 100% |")
    print(f"| fingerprint check on open (size, mtime, 64 sampled blocks) | {quick:.4f} | "
          f"{quick / load:.2%} |")  # fmt: skip
    print(f"| full SHA-256 (`qa check`, or a file whose mtime changed) | {full:.2f} | "
          f"{full / load:.0%} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-squad", action="store_true")
    parser.add_argument("--layout", choices=("flat", "ivf"), default="flat")
    args = parser.parse_args()
    if not args.skip_squad:
        squad(args.runs)
    if args.chunks:
        synthetic(args.chunks, args.dimension, args.runs, args.layout == "ivf")


if __name__ == "__main__":
    main()
