"""Ingest through Ray (``--workers ray``) against in-process, and what N workers would give.

    python benchmarks/ray_ingest.py [../shared/data/squad-dev-v1.1.json.gz] [--cpus 2]

Each run ingests the whole file into a fresh temporary index, in a fresh Python process:

- in-process: the default model (ONNX int8), as ``qa ingest`` does;
- Ray: the same through a local Ray cluster (``--cpus`` CPUs, one worker per CPU); the cluster
  start, the wait for the first slice (worker start + model load + one slice) and the shutdown
  are timed apart, and the per-worker rate is the steady embedding rate after the first slice
  divided by the workers;
- writer: the hash test model (embedding is nearly free), so its rate is what the single
  writer (SQLite + FAISS, in the driver) sustains: the ceiling for any number of workers.

Then prints the expected throughput with N workers: min(N x per-worker rate, writer rate).
The ONNX model is converted once into $QA_CACHE_DIR (default ~/.cache/article-qa) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "data" / "squad-dev-v1.1.json.gz"
WORKER_COUNTS = (1, 2, 4, 8, 16, 32)
RESULT = "RESULT="


def run(mode: str, data: Path, cpus: int, save: Path | None) -> dict[str, Any]:
    """One measured ingest, in this process (called in a fresh one by ``measure``)."""
    from embeddings import HashEmbedder
    from qa import Assistant

    ticks: list[tuple[float, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "Embedding":
            ticks.append((time.perf_counter(), done))

    result: dict[str, Any] = {"mode": mode}
    started = time.perf_counter()
    ray: Any = None
    if mode == "ray":
        import ray

        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level=40)
        result["cluster_start_s"] = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as scratch:
        # The writer run chunks and stores like the default model: 384-d, 256-token limit.
        embedder = HashEmbedder(dimension=384, max_tokens=256) if mode == "writer" else None
        with Assistant.open(Path(scratch) / "index", embedder=embedder) as assistant:
            ingest_start = time.perf_counter()
            report = assistant.ingest(
                [data], progress=progress, workers="ray" if mode == "ray" else None
            )
            result["ingest_s"] = time.perf_counter() - ingest_start
            if save is not None:  # chunk rows by id, to compare the two runs' vectors
                rows = assistant.store.db.execute(
                    "SELECT id, embed_hash, vector FROM chunks ORDER BY id"
                ).fetchall()
                ids = [f"{chunk_id}:{digest}" for chunk_id, digest, _ in rows]
                save.with_suffix(".json").write_text(json.dumps(ids), encoding="utf-8")
                np.save(save, np.stack([np.frombuffer(row[2], np.float32) for row in rows]))
    if ray is not None:
        stop = time.perf_counter()
        ray.shutdown()
        result["shutdown_s"] = time.perf_counter() - stop
    result["wall_s"] = time.perf_counter() - started
    result["chunks"] = report.chunks_embedded
    start_tick, end_tick = ticks[0][0], ticks[-1][0]  # (0 done) ... (all done)
    first = next((t, done) for t, done in ticks if done > 0)
    result["embedding_s"] = end_tick - start_tick
    result["first_slice_s"] = first[0] - start_tick
    result["steady_chunks_per_s"] = (report.chunks_embedded - first[1]) / max(
        end_tick - first[0], 1e-9
    )
    return result


def measure(mode: str, data: Path, cpus: int, save: Path | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, str(data), "--cpus", str(cpus), "--run", mode]
    command += ["--save", str(save)] if save else []
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    line = next((x for x in done.stdout.splitlines() if x.startswith(RESULT)), None)
    if done.returncode != 0 or line is None:
        sys.exit(f"{mode} run failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(line.removeprefix(RESULT)))


def report(local: dict[str, Any], ray: dict[str, Any], writer: dict[str, Any], cpus: int) -> None:
    chunks = local["chunks"]
    per_worker = ray["steady_chunks_per_s"] / cpus
    writer_rate = writer["chunks"] / writer["embedding_s"]
    fixed = ray["cluster_start_s"] + ray["first_slice_s"] + ray["shutdown_s"]
    print(f"| ingest of {chunks:,} chunks | in-process | Ray, {cpus} workers x 1 CPU |")
    print("|---|---|---|")
    print(f"| wall, s (model load to end) | {local['wall_s']:.1f} | {ray['wall_s']:.1f} |")
    print(f"| chunks/s (wall) | {chunks / local['wall_s']:.1f} | {chunks / ray['wall_s']:.1f} |")
    print(
        f"| embedding + writing, s (Ray: with worker start) | {local['embedding_s']:.1f} | "
        f"{ray['embedding_s']:.1f} |"
    )
    print(
        f"| steady embedding rate, chunks/s | {local['steady_chunks_per_s']:.1f} | "
        f"{ray['steady_chunks_per_s']:.1f} |"
    )
    print(f"| Ray cluster start, s | - | {ray['cluster_start_s']:.1f} |")
    print(
        f"| first slice back (worker start, model load, 64 chunks), s | "
        f"{local['first_slice_s']:.1f} | {ray['first_slice_s']:.1f} |"
    )
    print(f"| Ray shutdown, s | - | {ray['shutdown_s']:.1f} |")
    print(f"| Ray overhead vs in-process (wall), s | - | {ray['wall_s'] - local['wall_s']:+.1f} |")
    print()
    print(f"per-worker rate (1 CPU): {per_worker:.1f} chunks/s")
    print(
        f"writer ceiling (hash model, embedding ~free): {writer_rate:,.0f} chunks/s "
        f"({writer['chunks']:,} chunks in {writer['embedding_s']:.2f} s)"
    )
    print(f"fixed Ray cost here (start + first slice + shutdown): {fixed:.1f} s")
    print()
    print("| workers (1 CPU each) | expected chunks/s | SQuAD dev, s | 1M chunks, min |")
    print("|---|---|---|---|")
    for count in WORKER_COUNTS:
        rate = min(count * per_worker, writer_rate)
        capped = " (writer-bound)" if count * per_worker > writer_rate else ""
        print(
            f"| {count} | {rate:,.0f}{capped} | {fixed + chunks / rate:.1f} | "
            f"{(fixed + 1_000_000 / rate) / 60:,.0f} |"
        )


def compare(local: Path, ray: Path) -> None:
    same = local.with_suffix(".json").read_text() == ray.with_suffix(".json").read_text()
    diff = np.abs(np.load(local) - np.load(ray)).max()
    print(f"\nRay vs in-process: same chunk ids and embed hashes: {same}; max |diff| {diff:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs="?", default=SQUAD, help="SQuAD .json(.gz)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster")
    parser.add_argument("--run", choices=("in-process", "ray", "writer"), help=argparse.SUPPRESS)
    parser.add_argument("--save", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # Workers are other processes: make sure they load the model converted here, not again.
    from embeddings.export import CACHE_ENV, cache_dir

    os.environ.setdefault(CACHE_ENV, str(cache_dir()))
    if args.run:
        print(RESULT + json.dumps(run(args.run, args.data, args.cpus, args.save)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        local = measure("in-process", args.data, args.cpus, Path(scratch) / "local.npy")
        ray = measure("ray", args.data, args.cpus, Path(scratch) / "ray.npy")
        writer = measure("writer", args.data, args.cpus)
        report(local, ray, writer, args.cpus)
        compare(Path(scratch) / "local.npy", Path(scratch) / "ray.npy")


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    main()
