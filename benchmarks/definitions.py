"""What quoting the article's first sentence for "What is X?" does (qa.pipeline.definitions).

Per file (SQuAD dev, NYT dev, Amazon reviews), the articles are indexed as
`qa eval FILE --out-of-corpus` indexes them (a quarter left out, drawn by --seed). Every
question of the chosen half that asks only what or who something is, or names it alone
("What is the immune system?", "tesla"), is answered twice: as `qa ask` answers it, and with
the rule off (the reader on, the shipped threshold). The script prints, per file: how many such
questions, how many of them name an indexed article's title (of all the indexed articles; the
rule itself looks only among the articles the search found), how many answers changed, in-corpus
answers that gained or lost a gold answer, false abstentions added or removed, and
out-of-corpus questions that now abstain or no longer do.

    python benchmarks/definitions.py --half even     # where the rule is judged
    python benchmarks/definitions.py --half odd      # held out
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import QA_FILES
from qa import assistant as facade
from qa.eval.metrics import contains_answer
from qa.eval.protocol import EvalSettings, indexed
from qa.pipeline.definitions import defined_article, subject


def never(*args: object) -> None:
    return None


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
            (
                "asked",
                "naming a title",
                "changed",
                "gained",
                "lost",
                "false+",
                "false-",
                "correct+",
                "correct-",
            ),
            0,
        )
        with found.assistant as assistant:
            titles = {a.id: a.title for a in assistant.articles()}
            for inside, questions in ((True, found.inside), (False, found.outside)):
                for q in questions:
                    if subject(q.question) is None:
                        continue
                    counts["asked"] += 1
                    counts["naming a title"] += defined_article(q.question, titles) is not None
                    on = assistant.ask(q.question)
                    with mock.patch.object(facade, "lead_passage", never):
                        off = assistant.ask(q.question)
                    if on.text == off.text:
                        continue
                    counts["changed"] += 1
                    print(f"  {'in' if inside else 'out'}: {q.question!r}: {on.text[:90]!r}")
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
