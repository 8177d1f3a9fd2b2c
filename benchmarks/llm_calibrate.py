"""Calibrate the support threshold of qa/llm/check.py on SQuAD dev.

A claim is "question + gold answer" (what a model's answer sentence says, in the question's
words); the context sentence that holds the answer supports it, the other sentences of the same
paragraph do not (hard negatives: same topic, same words). Prints true/false support rates per
threshold and the threshold with the best Youden J (TPR - FPR).

    PYTHONPATH=. python benchmarks/llm_calibrate.py \\
        ../shared/data/squad-dev-v1.1.json.gz --limit 400
"""

from __future__ import annotations

import argparse
import gzip
import json

import numpy as np

from embeddings import load_embedder
from qa.llm.check import support_scores
from qa.pipeline.sentences import split_sentences


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--limit", type=int, default=400)
    args = parser.parse_args()
    with gzip.open(args.data, "rt", encoding="utf-8") as handle:
        data = json.load(handle)["data"]
    paragraphs = [p for article in data for p in article["paragraphs"]]
    step = max(1, len(paragraphs) // args.limit)
    embedder = load_embedder()
    positives: list[float] = []
    negatives: list[float] = []
    for paragraph in paragraphs[::step][: args.limit]:
        context = paragraph["context"]
        qa = paragraph["qas"][0]
        gold = qa["answers"][0]
        spans = split_sentences(context)
        sentences = [context[a:b] for a, b in spans]
        inside = [a <= gold["answer_start"] < b for a, b in spans]
        if not any(inside) or len(sentences) < 2:
            continue
        claim = f"{qa['question'].rstrip('?')} {gold['text']}."
        vectors = embedder.embed([claim, *sentences])
        scores = support_scores([claim], vectors[:1], sentences, vectors[1:])[0]
        for score, hit in zip(scores, inside, strict=True):
            (positives if hit else negatives).append(float(score))
    pos, neg = np.array(positives), np.array(negatives)
    print(f"claims {len(pos)}, negative sentences {len(neg)}")
    best = max(np.arange(0.3, 1.2, 0.01), key=lambda t: (pos >= t).mean() - (neg >= t).mean())
    for t in [*np.arange(0.40, 1.01, 0.05), best]:
        print(
            f"threshold {t:.2f}: supported {100 * (pos >= t).mean():5.1f}%  "
            f"wrongly supported {100 * (neg >= t).mean():5.1f}%"
        )
    print(f"best Youden J at {best:.2f}")


if __name__ == "__main__":
    main()
