"""How many real questions would read as no question (qa/pipeline/courtesy.py)?

Every question of ../shared/data (SQuAD dev, NYT dev, Amazon reviews, CoQA's turns, Disfl-QA)
is read by ``is_courtesy``; the script prints the count per file and each question caught. A
question caught would be answered "Nothing to look up" instead of being searched.

    python benchmarks/courtesy.py        # a second or two

2026-12-07: 0 of 38,711 (the one caught before a question mark made a message a question:
CoQA's follow-up "A lot?").
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import DATA, QA_FILES
from qa.pipeline.courtesy import is_courtesy


def questions() -> dict[str, list[str]]:
    asked: dict[str, list[str]] = {}
    for name, path in QA_FILES.items():
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            asked[name] = [
                str(qa["question"])
                for article in json.load(handle)["data"]
                for paragraph in article["paragraphs"]
                for qa in paragraph["qas"]
            ]
    with gzip.open(DATA / "coqa-dev-half.json.gz", "rt", encoding="utf-8") as handle:
        stories = json.load(handle)["data"]
    asked["coqa"] = [str(turn["question"]) for story in stories for turn in story["turns"]]
    with gzip.open(DATA / "train" / "disfl-qa.jsonl.gz", "rt", encoding="utf-8") as handle:
        asked["disfl-qa"] = [str(json.loads(line)["question"]) for line in handle]
    return asked


def main() -> None:
    total = caught = 0
    for name, asked in questions().items():
        hits = [q for q in asked if is_courtesy(q)]
        total, caught = total + len(asked), caught + len(hits)
        print(f"{name}: {len(hits)} of {len(asked):,} read as no question")
        for q in hits:
            print(f"  {q!r}")
    print(f"all: {caught} of {total:,}")


if __name__ == "__main__":
    main()
