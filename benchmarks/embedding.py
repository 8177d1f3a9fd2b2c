"""Embedding throughput of each backend on the same chunks, against plain sentence-transformers.

    python benchmarks/embedding.py [--sample 512] [--rounds 2]

Texts: what the model reads for the chunks of the SQuAD dev index (title + chunk, ~200 cl100k
tokens each; the index is built on first use). Contenders, each run ``--rounds`` times in turn so
a busy machine slows them alike, best round kept:

- plain: ``SentenceTransformer.encode(texts, batch_size=32)`` in the texts' order (the baseline
  the speed target is set against);
- torch: our PyTorch backend (texts sorted by length, so batches pad little);
- onnx / onnx-int8: our ONNX Runtime backends, float32 and int8 (the default).

Prints texts/s, tokens/s (model tokens, special tokens included) and the speed-up over plain,
and each backend's mean and lowest cosine to the plain vectors.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import squad_index


def chunk_texts(sample: int | None) -> list[str]:
    from qa.pipeline.chunking import embedding_text
    from qa.stores.embedded.sqlite import Store

    store = Store(squad_index() / "index.sqlite")
    rows = store.db.execute(
        "SELECT a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id ORDER BY c.id"
    ).fetchall()
    store.close()
    texts = [embedding_text(title, text) for title, text in rows]
    random.Random(0).shuffle(texts)  # articles in random order, as an ingest of many files
    return texts[:sample] if sample else texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=512, help="chunks to embed (0: all)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    from embeddings import default_model_path, embed_sorted, load_embedder
    from embeddings.onnx import cpu_threads

    texts = chunk_texts(args.sample or None)
    plain = SentenceTransformer(str(default_model_path()), device="cpu")
    backends = {name: load_embedder(None, backend=name) for name in ("torch", "onnx", "onnx-int8")}
    tokens = sum(backends["onnx"].count_tokens(texts))

    def run_plain() -> np.ndarray:
        return np.asarray(plain.encode(texts, batch_size=32, normalize_embeddings=True))

    runs = {"plain": run_plain} | {
        name: (lambda e=embedder: embed_sorted(e, texts)) for name, embedder in backends.items()
    }
    plain.encode(texts[:8])  # warm-up: load models, convert to ONNX if not cached
    for embedder in backends.values():
        embedder.embed(texts[:8])
    best = dict.fromkeys(runs, float("inf"))
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, run in runs.items():
            started = time.perf_counter()
            vectors[name] = run()
            best[name] = min(best[name], time.perf_counter() - started)
    print(
        f"{len(texts)} chunks, {tokens:,} model tokens, {cpu_threads()} threads, "
        f"best of {args.rounds} rounds\n"
    )
    print("| backend | texts/s | tokens/s | speed-up vs plain | cosine to plain: mean / min |")
    print("|---|---|---|---|---|")
    for name, seconds in best.items():
        cosines = np.sum(vectors[name] * vectors["plain"], axis=1)
        print(
            f"| {name} | {len(texts) / seconds:.1f} | {tokens / seconds:,.0f} "
            f"| {best['plain'] / seconds:.2f}x | {cosines.mean():.4f} / {cosines.min():.4f} |"
        )


if __name__ == "__main__":
    main()
