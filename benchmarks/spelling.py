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

Two later parts are counted apart, each by asking again with it switched off: suggestions
taken from the indexed articles' titles (a name no passage found spells alike), and answers to
a question naming a misspelled name that quote an article never mentioning the name meant
(they abstain with the suggestion): how many answers each side turns into abstentions, and for
questions of indexed articles how many of those held a gold answer.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from benchmarks.common import QA_FILES
from qa.assistant import Assistant
from qa.eval.metrics import contains_answer
from qa.eval.protocol import EvalSettings, indexed


@contextmanager
def without_titles() -> Iterator[None]:
    """Suggestions from the passages found alone (as before titles were read)."""
    with mock.patch.object(Assistant, "_titles", lambda self, filters: None):
        yield


@contextmanager
def without_names_meant() -> Iterator[None]:
    """A misspelled name not read as the name meant when answering (as before)."""
    with mock.patch("qa.pipeline.reader.spellings", lambda *args, **kwargs: {}):
        yield


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
                    if reply.unmentioned:
                        with without_names_meant():
                            before = assistant.ask(q.question)
                        if before.found and not reply.found:
                            counts[f"{side}: answered before, abstains for the name meant"] += 1
                            if inside and contains_answer(before.text, q.answers):
                                counts[f"{side}: ... of them with a gold answer"] += 1
                            if args.show:
                                print(f"  {side}: {q.question!r} now abstains: {reply.text!r}")
                    if reply.found or not reply.unmentioned:
                        continue
                    counts[f"{side}: abstained naming an unmentioned name"] += 1
                    if reply.suggested is None:
                        continue
                    counts[f"{side}: suggested"] += 1
                    with without_titles():
                        if assistant.ask(q.question).suggested is None:
                            counts[f"{side}: ... of them from a title"] += 1
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
