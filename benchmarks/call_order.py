"""How the ONNX embedder orders texts into calls: padding and time, character order against
token order, on the title-prefixed sentences of SQuAD dev (what `pooled` ingest embeds).

    python benchmarks/call_order.py [--articles 16] [--repeats 3]

Ingest hands the model slices of 64 texts sorted by characters (``embeddings.batching``); each
ONNX Runtime call pads its texts to the longest in tokens. Printed: padded tokens over real
tokens for calls cut in the slice's character order (before 2026-12-05) and in token order
within each slice (``OnnxEmbedder.embed`` now), then the time to embed the sentences of the
first ``--articles`` articles each way, alternating, and how close each way's int8 vectors are
to the float model's (batch-mates move int8 vectors a little: the scale of each call's
activations is their own).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import SQUAD
from embeddings import load_embedder
from embeddings.batching import embed_sorted, sorted_slices
from embeddings.onnx import OnnxEmbedder, calls
from qa.eval.evaluation import load_squad
from qa.pipeline.chunking import embedding_text
from qa.pipeline.sentences import split_sentences


def sentences(articles: int | None) -> list[str]:
    texts = []
    for article in load_squad(SQUAD)[:articles]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for a, b in split_sentences(context):
                texts.append(embedding_text(article["title"], context[a:b]))
    return texts


def padded(lengths: list[int], texts: list[str], token_order: bool) -> int:
    total = 0
    for positions in sorted_slices(texts):
        widths = [lengths[n] for n in positions]
        if token_order:
            widths.sort(reverse=True)
        total += sum(max(widths[b:e]) * (e - b) for b, e in calls(widths))
    return total


def character_order(self: OnnxEmbedder, texts: list[str]) -> np.ndarray:
    """``OnnxEmbedder.embed`` as it was: calls cut in the caller's order."""
    encodings = self._encode(texts)
    parts = [self._run(encodings[b:e]) for b, e in calls([len(x[0]) for x in encodings])]
    return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    model = load_embedder(None)
    every = sentences(None)
    lengths = model.count_tokens(every)
    real = sum(lengths)
    for name, token_order in (("character order", False), ("token order", True)):
        ratio = padded(lengths, every, token_order) / real
        print(f"all {len(every):,} sentences, {name}: padded / real tokens {ratio:.3f}")

    texts = sentences(args.articles)
    token_order = OnnxEmbedder.embed
    ways = {"character order": character_order, "token order": token_order}
    exact = embed_sorted(load_embedder(None, backend="onnx"), texts)
    embed_sorted(model, texts[:300])  # warm
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.repeats):
        for name, embed in ways.items():
            OnnxEmbedder.embed = embed  # type: ignore[method-assign]
            started = time.perf_counter()
            embed_sorted(model, texts)
            seconds[name].append(time.perf_counter() - started)
    OnnxEmbedder.embed = token_order  # type: ignore[method-assign]
    for name, embed in ways.items():
        OnnxEmbedder.embed = embed  # type: ignore[method-assign]
        cosines = (embed_sorted(model, texts) * exact).sum(axis=1)
        runs = ", ".join(f"{s:.2f}" for s in seconds[name])
        print(
            f"{len(texts):,} sentences, {name}: {statistics.median(seconds[name]):.2f} s median "
            f"({runs}); cosine to the float model mean {cosines.mean():.4f}, "
            f"1st percentile {np.percentile(cosines, 1):.4f}"
        )
    OnnxEmbedder.embed = token_order  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
