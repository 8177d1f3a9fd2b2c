"""Which pairs does the title exemption of ``qa.llm.check.swapped_fact`` change? (issue 24,
2026-12-06.) The text check alone, no model: for each side of the split, the claims of
``benchmarks/verifier_eval.py`` (true ones and refuting paraphrases, against each sentence of
their paragraph) and the VitaminC pairs, counted where ``swapped_fact`` finds a swap without
the title and none with it. A refuting paraphrase counted is one the exemption lets through.

    python benchmarks/quality_research/title_names.py

2026-12-06: train: 2,957 claims of each kind, none exempted; VitaminC supports 42, refutes 8,
not enough info 1. Calibration: 435, none; 13, 4, 0. Held out: 2,715, none; 59, 9, 3. (The
first try, exempting any title word in the swapped place: 65 refuting paraphrases of the
training articles, 49 held out.)
"""

import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.verifier_eval import DATA, claims
from qa.llm.check import swapped_fact
from qa.training.data import load_jsonl, titles_on

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def main() -> None:
    rows = load_jsonl(DATA / "train" / "vitaminc.jsonl.gz")
    for side in ("train", "calibration", "held-out"):
        exempted: Counter[str] = Counter()
        total = 0
        for claim in claims(side, 100_000, 7):
            passage = claim["passages"][0]  # type: ignore[index]
            total += 1
            for kind in ("true", "refuting_paraphrase"):
                text = str(claim[kind])
                for quote in SENTENCE_END.split(passage.text):
                    if swapped_fact(text, quote) and not swapped_fact(text, quote, passage.title):
                        exempted[kind] += 1
                        if kind == "refuting_paraphrase":
                            print(f"  let through: {text!r} against {quote!r}")
        titles = titles_on([str(r["title"]) for r in rows], side)
        for r in rows:
            if str(r["title"]) not in titles:
                continue
            claim_text, evidence, title = str(r["claim"]), str(r["evidence"]), str(r["title"])
            if swapped_fact(claim_text, evidence) and not swapped_fact(claim_text, evidence, title):
                exempted[f"VitaminC {r['label']}"] += 1
        print(f"{side}: {total:,} claims of each kind; exempted: {dict(exempted)}")


if __name__ == "__main__":
    main()
