"""Misspelled names: how often an abstention offers the question respelled, and what that gives.

Per file (SQuAD dev, NYT dev, Amazon reviews), the articles are indexed as
`qa eval FILE --out-of-corpus` indexes them (a quarter left out, drawn by --seed). Every
question of the chosen half is asked as `qa ask` asks it; for each abstention that names a name
no article mentions (qa.pipeline.spelling), the script counts the suggestions ("Did you mean
...?") and asks each suggested question: for questions of indexed articles, how many are then
answered and how many with a gold answer; for questions of left-out articles (nothing to
find), every suggestion is spurious.

    python benchmarks/spelling.py --half even     # where the rule was judged
    python benchmarks/spelling.py --half odd      # held out
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import QA_FILES
from qa.eval.metrics import contains_answer
from qa.eval.protocol import EvalSettings, indexed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=("even", "odd"), default="even")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show", action="store_true", help="print every suggestion")
    args = parser.parse_args()
    run = EvalSettings(seed=args.seed, out_of_corpus=True, half=args.half)
    for name, data in QA_FILES.items():
        found = indexed(data, None, run)
        counts: Counter[str] = Counter()
        with found.assistant as assistant:
            for inside, questions in ((True, found.inside), (False, found.outside)):
                side = "in" if inside else "out"
                for q in questions:
                    reply = assistant.ask(q.question)
                    if reply.found or not reply.unmentioned:
                        continue
                    counts[f"{side}: abstained naming an unmentioned name"] += 1
                    if reply.suggested is None:
                        continue
                    counts[f"{side}: suggested"] += 1
                    again = assistant.ask(reply.suggested)
                    counts[f"{side}: suggestion answered"] += again.found
                    if inside:
                        gold = again.found and contains_answer(again.text, q.answers)
                        counts[f"{side}: suggestion answered with a gold answer"] += gold
                    if args.show:
                        print(f"  {side}: {q.question!r} -> {reply.suggested!r}: {again.found}")
        print(f"{name} ({args.half} half): " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
