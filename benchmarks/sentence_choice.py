"""Which sentence of the gold paragraph answers? The reader against the bi-encoder cosine.

    nice -n 10 python benchmarks/sentence_choice.py [--questions 400] [--seed 7]
        [--reader-dir DIR]

Retrieval left aside: each question is given its own gold paragraph (from the odd-numbered
articles of SQuAD dev, NYT dev and Amazon reviews: never trained on), split into sentences as
``qa ask`` splits passages, and each method picks one sentence. Right: the sentence overlaps a
gold answer span. Paragraphs of one sentence are skipped (nothing to choose).

- reader: the trained model's answer logit (``embeddings/trained/reader.onnx``, or the model in
  ``--reader-dir``), each sentence read as ``qa ask`` reads it (short title, sentence);
- cosine: the bundled embedder's cosine of question and sentence (the cheap score's main part).

This isolates what the reader adds to the quote: the ``qa eval`` figures mix it with retrieval.
It takes about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import QA_FILES  # noqa: E402
from embeddings import load_embedder  # noqa: E402
from embeddings.reader import ReaderModel, evidence_text  # noqa: E402
from qa.pipeline.sentences import split_sentences  # noqa: E402
from qa.training.data import article_side, load_json, title_text  # noqa: E402

NAMES = {"squad": "SQuAD dev", "nyt": "NYT dev", "amazon": "Amazon reviews"}


def items(path: Path, limit: int, seed: int) -> list[tuple[str, str, list[tuple[int, int]], Any]]:
    """(title, paragraph, sentence spans, question) of held-out articles, a seeded sample."""
    found = []
    for number, article in enumerate(load_json(path)["data"]):
        if article_side(number) != "held-out":
            continue
        for paragraph in article["paragraphs"]:
            context = str(paragraph["context"])
            spans = split_sentences(context)
            if len(spans) < 2:
                continue
            for qa in paragraph["qas"]:
                if qa["answers"]:
                    found.append((title_text(article.get("title", "")), context, spans, qa))
    return random.Random(seed).sample(found, min(limit, len(found)))


def right(choice: tuple[int, int], qa: Any) -> bool:
    a, b = choice
    gold = [
        (int(g["answer_start"]), int(g["answer_start"]) + len(g["text"])) for g in qa["answers"]
    ]
    return any(s < b and a < e for s, e in gold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=400, help="per file")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reader-dir", type=Path, help="another trained reader (default: shipped)")
    args = parser.parse_args()
    reader = ReaderModel(args.reader_dir)
    embedder = load_embedder()
    print(f"| {args.questions} held-out questions per file | reader | cosine | sentences |")
    print("|---|---|---|---|")
    for key, path in QA_FILES.items():
        name = NAMES[key]
        scores = {"reader": 0, "cosine": 0}
        sentences = 0
        chosen = items(path, args.questions, args.seed)
        for title, context, spans, qa in chosen:
            question = " ".join(str(qa["question"]).split())
            texts = [context[a:b] for a, b in spans]
            logits = reader.answer_logits(
                [question] * len(texts), [evidence_text(title, t) for t in texts]
            )
            vectors = embedder.embed([question, *texts])
            cosines = vectors[1:] @ vectors[0]
            scores["reader"] += right(spans[int(np.argmax(logits))], qa)
            scores["cosine"] += right(spans[int(np.argmax(cosines))], qa)
            sentences += len(spans)
        n = max(len(chosen), 1)
        print(
            f"| {name} | {scores['reader'] / n:.3f} | {scores['cosine'] / n:.3f} "
            f"| {sentences / n:.1f} |"
        )


if __name__ == "__main__":
    main()
