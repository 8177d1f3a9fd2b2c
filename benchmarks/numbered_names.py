"""What leaving out sentences naming another numbered variant does (numbered_names.py).

Per file (SQuAD dev, NYT dev, Amazon reviews), the articles are indexed as
`qa eval FILE --out-of-corpus` indexes them (a quarter left out, drawn by --seed). Every
question of the chosen half that names a numbered name ("World War II", "Super Bowl 50") is
answered twice, with the rule and without it (the reader on, the shipped threshold). The
script prints, per file: how many such questions, how many answers changed, in-corpus answers
that gained or lost a gold answer, false abstentions added or removed, and out-of-corpus
questions that now abstain or no longer do.

    python benchmarks/numbered_names.py --half even     # where the rule is judged
    python benchmarks/numbered_names.py --half odd      # held out
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import QA_FILES
from qa.eval.metrics import contains_answer
from qa.eval.protocol import EvalSettings, indexed
from qa.pipeline import reader
from qa.pipeline.numbered_names import numbered


def never(asked: object, sentence: str) -> bool:
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=("even", "odd"), default="even")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    run = EvalSettings(seed=args.seed, out_of_corpus=True, half=args.half)
    totals = {"gained": 0, "lost": 0}
    for name, data in QA_FILES.items():
        found = indexed(data, None, run)
        counts = dict.fromkeys(
            ("asked", "changed", "gained", "lost", "false+", "false-", "correct+", "correct-"), 0
        )
        with found.assistant as assistant:
            for inside, questions in ((True, found.inside), (False, found.outside)):
                for q in questions:
                    if not numbered(q.question):
                        continue
                    counts["asked"] += 1
                    on = assistant.ask(q.question)
                    with mock.patch.object(reader, "names_another", never):
                        off = assistant.ask(q.question)
                    if on.text == off.text:
                        continue
                    counts["changed"] += 1
                    if inside:
                        hit_on = on.found and contains_answer(on.text, q.answers)
                        hit_off = off.found and contains_answer(off.text, q.answers)
                        counts["gained"] += hit_on and not hit_off
                        counts["lost"] += hit_off and not hit_on
                        counts["false+"] += off.found and not on.found
                        counts["false-"] += on.found and not off.found
                    else:
                        counts["correct+"] += off.found and not on.found
                        counts["correct-"] += on.found and not off.found
        totals["gained"] += counts["gained"]
        totals["lost"] += counts["lost"]
        print(
            f"{name} ({args.half} half: {len(found.inside)} in-corpus, {len(found.outside)} "
            f"out-of-corpus questions): "
            + ", ".join(f"{key} {value}" for key, value in counts.items()),
            flush=True,
        )
    print(f"all files: in-corpus hits gained {totals['gained']}, lost {totals['lost']}")


if __name__ == "__main__":
    main()
