"""Answer quality and abstention on SQuAD v1.1 dev, and the abstain threshold calibrated on it.

    python benchmarks/answer_quality.py ../shared/data/squad-dev-v1.1.json.gz [--questions 300]

The index holds the even-numbered articles (24 of 48); questions about them are in-corpus,
questions about the odd-numbered ones are out-of-corpus (their article is missing). Questions are
split in two by a hash of their id: the threshold is chosen on the "tune" half (the highest one
that keeps false abstention on in-corpus questions at or under 5%) and reported on the "test"
half, so no figure is tuned on the questions it is reported on. Every question is answered with
abstention off, so each threshold can be applied afterwards to the same answers.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib
import json
import random
import re
import string
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa.answer  # noqa: E402
from qa import Assistant  # noqa: E402

INDEX = ROOT / "benchmarks" / "results" / "squad-even-index"
MAX_FALSE_ABSTENTION = 0.05


def normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, articles or extra spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


@dataclass
class Row:
    question: str
    in_corpus: bool
    tune: bool
    confidence: float
    hit: bool  # answer text contains a gold answer
    top_hit: bool  # first cited sentence contains a gold answer
    seconds: float


def load(path: Path) -> list[dict]:  # type: ignore[type-arg]
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return list(json.load(handle)["data"])


def build_index(articles: list[dict], data_path: Path) -> Assistant:  # type: ignore[type-arg]
    INDEX.parent.mkdir(parents=True, exist_ok=True)
    subset = INDEX.parent / "squad-even.json"
    if not subset.exists():
        subset.write_text(json.dumps({"data": articles}), encoding="utf-8")
    assistant = Assistant.open(INDEX)
    report = assistant.ingest([subset])
    print(f"index: {report.summary()}", file=sys.stderr)
    return assistant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--questions", type=int, default=300, help="per group (in/out of corpus)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="MODULE.NAME=VALUE",
        help="override a tuning constant, e.g. answer.SENTENCES_SCORED=20 or "
        "retrieval.DENSE_WEIGHT=0.6 (for experiments; report on the test half only)",
    )
    args = parser.parse_args()
    for setting in args.set:
        name, _, value = setting.partition("=")
        module_name, _, constant = name.rpartition(".")
        module = importlib.import_module(f"qa.{module_name}")
        setattr(module, constant, type(getattr(module, constant))(value))

    articles = load(args.data)
    inside, outside = articles[0::2], articles[1::2]
    assistant = build_index(inside, args.data)
    rng = random.Random(args.seed)

    def sample(group: list[dict]) -> list[tuple[str, str, list[str]]]:  # type: ignore[type-arg]
        qas = [
            (qa["id"], qa["question"], [a["text"] for a in qa["answers"]])
            for article in group
            for paragraph in article["paragraphs"]
            for qa in paragraph["qas"]
        ]
        return rng.sample(qas, min(args.questions, len(qas)))

    qa.answer.ABSTAIN_BELOW = -1.0  # answer everything; thresholds are applied afterwards
    assistant.ask("warm-up question")
    rows: list[Row] = []
    for in_corpus, group in ((True, inside), (False, outside)):
        for qid, question, golds in sample(group):
            started = time.perf_counter()
            reply = assistant.ask(question)
            seconds = time.perf_counter() - started
            gold = [normalise(g) for g in golds]
            text = normalise(reply.text)
            top = normalise(reply.citations[0].quote) if reply.citations else ""
            rows.append(
                Row(
                    question=question,
                    in_corpus=in_corpus,
                    tune=int(hashlib.sha1(qid.encode()).hexdigest(), 16) % 2 == 0,
                    confidence=reply.confidence,
                    hit=any(g and g in text for g in gold),
                    top_hit=any(g and g in top for g in gold),
                    seconds=seconds,
                )
            )

    def rates(part: list[Row], threshold: float) -> tuple[float, float, float]:
        ins = [r for r in part if r.in_corpus]
        outs = [r for r in part if not r.in_corpus]
        false_abstain = sum(r.confidence < threshold for r in ins) / len(ins)
        correct_abstain = sum(r.confidence < threshold for r in outs) / len(outs)
        answered_hits = sum(r.hit and r.confidence >= threshold for r in ins) / len(ins)
        return false_abstain, correct_abstain, answered_hits

    tune = [r for r in rows if r.tune]
    test = [r for r in rows if not r.tune]
    candidates = sorted({round(r.confidence, 3) for r in tune if r.in_corpus})
    threshold = max(
        (t for t in candidates if rates(tune, t)[0] <= MAX_FALSE_ABSTENTION), default=0.0
    )
    print(f"\nthreshold chosen on the tune half: {threshold:.3f}\n")
    print("| split | questions in / out | answer hit (no abstain) | top-sentence hit | "
          "false abstention | correct abstention | answer hit (with abstain) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for name, part in (("tune", tune), ("test", test)):
        ins = [r for r in part if r.in_corpus]
        false_abstain, correct_abstain, answered = rates(part, threshold)
        hit = sum(r.hit for r in ins) / len(ins)
        top_hit = sum(r.top_hit for r in ins) / len(ins)
        print(
            f"| {name} | {len(ins)} / {len(part) - len(ins)} | {hit:.3f} | {top_hit:.3f} | "
            f"{false_abstain:.3f} | {correct_abstain:.3f} | {answered:.3f} |"
        )
    print("\nthreshold sweep (test half): t, false abstention, correct abstention")
    for t in (0.30, 0.35, 0.40, 0.45, 0.50, 0.55):
        fa, ca, _ = rates(test, t)
        print(f"  {t:.2f}  {fa:.3f}  {ca:.3f}")
    latencies = sorted(r.seconds for r in rows)
    p50 = latencies[len(latencies) // 2] * 1000
    p95 = latencies[int(len(latencies) * 0.95)] * 1000
    print(f"\nask latency over {len(rows)} questions: p50 {p50:.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()
