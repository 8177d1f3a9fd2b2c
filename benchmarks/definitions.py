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

import sys
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RULE_CHANGES, count_change, report_rule, rule_files
from qa import assistant as facade
from qa.pipeline.definitions import defined_article, subject


def never(*args: object) -> None:
    return None


def main() -> None:
    totals = {"gained": 0, "lost": 0}
    for name, found, half in rule_files(__doc__):
        counts = dict.fromkeys(("asked", "naming a title", *RULE_CHANGES), 0)
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
                    if count_change(counts, inside, on, off, q.answers):
                        print(f"  {'in' if inside else 'out'}: {q.question!r}: {on.text[:90]!r}")
        report_rule(name, half, found, counts, totals)
    print(f"all files: in-corpus hits gained {totals['gained']}, lost {totals['lost']}")


if __name__ == "__main__":
    main()
