"""What do questions typed in lower case cost? (issue 23, 2026-12-07.)

The embedder and the reader are uncased, but the name rules (qa.pipeline.reader.names: the
unmentioned-name threshold, the quoted article's names, the spelling suggestions, numbered
names) read capitalised words, and a question typed in lower case names nothing to them. Per file
(indexed as `qa eval --out-of-corpus --seed 7`), up to --limit questions of the half from
indexed articles and as many from left-out ones, asked as given and in lower case: answer hit,
false abstention, correct abstention (benchmarks/question_mark.py's counting).

    python benchmarks/quality_research/lowercase_cost.py --half even

2026-12-07, even halves, 600 questions of indexed articles and 600 of left-out ones per file
(answer hit / false abstention / correct abstention): SQuAD .795 / .032 / .885 as given, .798 /
.028 / .832 in lower case; NYT .763 / .065 / .800 and .770 / .055 / .722; Amazon .378 / .058 /
.163 and .378 / .058 / .142. Lower case answers as well, but abstains less: correct abstention
falls .053 / .078 / .021, what the name rules gave. Not fixed yet (reading a lower-case word as a
name where the articles write it capitalised would be the way).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.common import QA_FILES
from benchmarks.question_mark import rates
from qa.eval.protocol import EvalSettings, indexed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=("even", "odd"), default="even")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limit", type=int, default=600)
    args = parser.parse_args()
    run = EvalSettings(seed=args.seed, out_of_corpus=True, half=args.half)
    print(f"| {args.half} half | answer hit | false abstention | correct abstention |")
    print("|---|---|---|---|")
    for name, data in QA_FILES.items():
        found = indexed(data, None, run)
        draw = random.Random(args.seed)
        inside, outside = (
            draw.sample(g, min(args.limit, len(g))) for g in (found.inside, found.outside)
        )
        with found.assistant as assistant:
            for label, shown in (("as given", str), ("lower case", str.lower)):
                hit, false, right = rates(assistant, inside, outside, shown)
                print(f"| {name}, {label} | {hit:.3f} | {false:.3f} | {right:.3f} |")


if __name__ == "__main__":
    main()
