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
falls .053 / .078 / .021, what the name rules gave.

Then measured (qa.pipeline.casing, in commit 111433a and taken out after it: `git checkout
111433a` and QA_CASING=now or =passages rerun its rows): a question whose words
past the first carry no capital letter ("I" aside) read with its names capitalised, (a) where
the passages read write them so, and (b) where they never write them and English text usually
capitalises them (tiktoken's vocabulary), (b') as (b) only for words no article mentions. The
rule, written before the figures: lower case recovers at least half of the correct abstention
it loses, with false abstention at most .005 higher and answer hit at most .005 lower than
lower case before on every file, and every figure of the questions as given within .005 of
before. Same day, on this 2-core AVX2 machine (the before rows differ from those above by up
to .010: another CPU), even halves:

| | as given | as given, before | lower case | lower case, before |
|---|---|---|---|---|
| SQuAD (a)+(b) | .790 / .035 / .888 | .793 / .032 / .885 | .792 / .033 / .872 | .797 / .028 / .833 |
| NYT (a)+(b) | .762 / .070 / .808 | .762 / .070 / .803 | .765 / .065 / .792 | .770 / .058 / .725 |
| Amazon (a)+(b) | .377 / .060 / .168 | .377 / .058 / .160 | .377 / .060 / .152 | .377 / .058 / .138 |
| SQuAD (a) | .792 / .033 / .887 | | .793 / .032 / .862 | |
| NYT (a) | .762 / .070 / .807 | | .768 / .060 / .752 | |
| Amazon (a) | .377 / .058 / .163 | | .377 / .058 / .142 | |
| SQuAD (b') | .790 / .035 / .888 | | .792 / .033 / .867 | |
| NYT (b') | .762 / .070 / .807 | | .767 / .063 / .782 | |
| Amazon (b') | .377 / .060 / .167 | | .377 / .060 / .150 | |

(a)+(b) fails (NYT lower-case false abstention +.007; Amazon as given correct abstention
+.008); (a) alone recovers .060 of .152; (b') holds every lower-case bound (recovering .103)
but moves Amazon's questions as given, many of them typed in lower case, to correct abstention
+.007, outside the .005 the rule allowed either way. Not adopted: the bound that failed would
have to be loosened after seeing it. (CoQA, `benchmarks/conversations.py --half calibration
--stories 35 [--lower] [--not-cased]` with (a)+(b): lower case changes no figure there; cased,
cited right story .719 against .724.)
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
