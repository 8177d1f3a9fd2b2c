"""Questions typed without their "?": what the missing mark costs, and what reading one back in
gives (qa.pipeline.question_form).

Per file (SQuAD dev, NYT dev, Amazon reviews), the articles are indexed as `qa eval FILE
--out-of-corpus` indexes them (a quarter left out, drawn by --seed) and up to --limit questions
of the chosen half are drawn (seeded) among those ending with "?", from the indexed articles and
as many from the left-out ones. Each is asked three ways: as given; with its "?" taken off; and
taken off with the mark not read back in (the path before). Printed: answer hit (a quoted
sentence holds a gold answer; an abstention is a miss), false abstention, correct abstention.

    python benchmarks/question_mark.py --half even     # where the rule was judged
    python benchmarks/question_mark.py --half odd      # held out
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import QA_FILES
from qa.assistant import Assistant
from qa.eval.evaluation import Question
from qa.eval.metrics import contains_answer
from qa.eval.protocol import EvalSettings, indexed


def unmarked(text: str) -> str:
    return text.rstrip()[:-1].rstrip()


def rates(assistant: Assistant, inside: list[Question], outside: list[Question],
          shown: Callable[[str], str]) -> tuple[float, float, float]:  # fmt: skip
    """(answer hit, false abstention, correct abstention) of the questions as ``shown`` writes
    them."""
    hit = missed = 0
    for q in inside:
        reply = assistant.ask(shown(q.question))
        missed += not reply.found
        hit += reply.found and contains_answer(reply.text, q.answers)
    right = sum(not assistant.ask(shown(q.question)).found for q in outside)
    return hit / len(inside), missed / len(inside), right / max(len(outside), 1)


def asked_files(
    description: str, keep: Callable[[Question], bool] = lambda q: True
) -> Iterator[tuple[str, Assistant, list[Question], list[Question]]]:
    """Per file, its index open and the questions drawn (``keep`` chooses among them), after
    the command line (--half, --seed, --limit) is read and the table's header printed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--half", choices=("even", "odd"), default="even")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limit", type=int, default=600)
    parser.add_argument(
        "--files", default=",".join(QA_FILES), help="which files, by name, comma-separated"
    )
    args = parser.parse_args()
    wanted = args.files.split(",")
    if unknown := set(wanted) - set(QA_FILES):
        parser.error(
            f"--files: no file called {', '.join(sorted(unknown))} ({', '.join(QA_FILES)})"
        )
    run = EvalSettings(seed=args.seed, out_of_corpus=True, half=args.half)
    print(f"| {args.half} half | answer hit | false abstention | correct abstention |")
    print("|---|---|---|---|")
    for name in wanted:
        found = indexed(QA_FILES[name], None, run)
        draw = random.Random(args.seed)
        kept = [[q for q in group if keep(q)] for group in (found.inside, found.outside)]
        inside, outside = (draw.sample(g, min(args.limit, len(g))) for g in kept)
        with found.assistant as assistant:
            yield name, assistant, inside, outside


def main() -> None:
    marked = asked_files(__doc__.split("\n\n")[0], lambda q: q.question.rstrip().endswith("?"))
    for name, assistant, inside, outside in marked:
        rows = {"as given": rates(assistant, inside, outside, lambda t: t)}
        rows['"?" taken off'] = rates(assistant, inside, outside, unmarked)
        with mock.patch("qa.assistant.as_question", lambda text: text):
            rows['"?" taken off, not read back (before)'] = rates(
                assistant, inside, outside, unmarked
            )
        for label, (hit, false, right) in rows.items():
            print(f"| {name}, {label} | {hit:.3f} | {false:.3f} | {right:.3f} |")
        print(f"({name}: {len(inside)} questions of indexed articles, {len(outside)} of left-out)")


if __name__ == "__main__":
    main()
