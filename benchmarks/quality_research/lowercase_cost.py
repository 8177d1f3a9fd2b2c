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

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.question_mark import asked_files, rates


def main() -> None:
    for name, assistant, inside, outside in asked_files(__doc__.split("\n\n")[0]):
        for label, shown in (("as given", str), ("lower case", str.lower)):
            hit, false, right = rates(assistant, inside, outside, shown)
            print(f"| {name}, {label} | {hit:.3f} | {false:.3f} | {right:.3f} |")


if __name__ == "__main__":
    main()
