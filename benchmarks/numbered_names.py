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

import sys
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RULE_CHANGES, count_change, report_rule, rule_files
from qa.pipeline import reader
from qa.pipeline.numbered_names import numbered


def never(asked: object, sentence: str) -> bool:
    return False


def main() -> None:
    totals = {"gained": 0, "lost": 0}
    for name, found, half in rule_files(__doc__):
        counts = dict.fromkeys(("asked", *RULE_CHANGES), 0)
        with found.assistant as assistant:
            for inside, questions in ((True, found.inside), (False, found.outside)):
                for q in questions:
                    if not numbered(q.question):
                        continue
                    counts["asked"] += 1
                    on = assistant.ask(q.question)
                    with mock.patch.object(reader, "names_another", never):
                        off = assistant.ask(q.question)
                    count_change(counts, inside, on, off, q.answers)
        report_rule(name, half, found, counts, totals)
    print(f"all files: in-corpus hits gained {totals['gained']}, lost {totals['lost']}")


if __name__ == "__main__":
    main()
