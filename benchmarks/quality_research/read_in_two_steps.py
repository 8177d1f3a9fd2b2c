"""Reading in two steps: does stopping after the first ``READ_FIRST`` sentences change what is
quoted? (issue 23, 2026-12-07.)

The reader reads the 16 best sentences by the cheap score; on a CPU without VNNI that is most of
``ask``'s time. Read in two steps, the best ``READ_FIRST`` (8) go first, and the other 8 only
when none of the first reaches a probability ``sure``. Such an answer would have been given
anyway (``sure`` is far above every abstention threshold), so only which sentence is quoted, the
near-ties joined to it and the passage order can change. This simulates it on the calibration
reads of ``benchmarks/reader_calibrate.py`` (its cache for the shipped reader, which records
each sentence's place by the cheap score), with the shipped head and thresholds, for a few
``sure``: the same table as that script, the score (mean answer hit and citation precision),
and the share of questions that stop early.

    python benchmarks/reader_calibrate.py        # once: the cached reads
    python benchmarks/quality_research/read_in_two_steps.py

The simulation reuses the logits of the reads of all 16 (the pairs grouped by length); in the
product the first 8 are read in one call of their own, and an int8 call's logits move a little
with its pairs (up to about .2): `qa eval` asks the product itself.

2026-12-07, the shipped reader, calibration articles (a rule written before the figures: the
lowest ``sure`` of .8 / .9 / .95 that moves no file's figure by more than .005, adopted only if
``ask`` p50 then falls by at least 15% on the AVX2-only machine): nothing moved at any ``sure``
(score .6717 for all 16 and for each), but few questions stop early: at .8, SQuAD .338, NYT
.214, Amazon .071 of the questions asked (.221 / .084 / .027 at .9). The others read their 16 in
two calls taken in the cheap score's order, not by length, so they pad more. Wired into
``ask`` at .8 (`python benchmarks/query_latency.py ../shared/data/squad-dev-v1.1.json.gz`,
300 questions, the same hour): `ask` p50 / p95 130 / 201 ms against 116 / 157 reading all 16
at once (search, which read all 16 in both runs, 135 against 116: the runs differ by about that
much). The median question does not stop early, so p50 cannot fall: not adopted.
"""

import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.reader_calibrate import RESULTS, Asked, model_tag, read_asked, score, table
from qa.pipeline import reader as reader_stage

QUESTIONS = 700  # reader_calibrate.py's default
SEED = 7
GRID = (0.8, 0.9, 0.95)
READ_FIRST = 8  # one model call (embeddings.reader.RUN_PAIRS)


def two_steps(asked: Asked, sure: float) -> tuple[Asked, bool]:
    """``asked`` as the reader would have read it in two steps, and whether it stopped early."""
    if any(r.cheap_rank < 0 for r in asked.sentences):
        raise SystemExit("the cached reads lack the cheap order: run reader_calibrate.py again")
    first = [r for r in asked.sentences if r.cheap_rank < READ_FIRST]
    if len(first) == len(asked.sentences):
        return asked, False
    best = max((reader_stage.HEAD.probability(r.features) for r in first), default=0.0)
    if best < sure:
        return asked, False
    return replace(asked, sentences=first), True


def main() -> None:
    work = RESULTS / "reader-calibration"
    asked = read_asked(work / f"read-{QUESTIONS}-{SEED}-{model_tag(None)}.json")
    head = reader_stage.HEAD
    threshold, margin = reader_stage.ABSTAIN_BELOW, reader_stage.EXTRA_MARGIN
    print(f"all {reader_stage.READ_SENTENCES}: score {score(head, asked, threshold, margin):.4f}")
    print(table(head, asked, threshold, margin))
    for sure in GRID:
        stepped = [two_steps(a, sure) for a in asked]
        cut = [a for a, _ in stepped]
        shares = {
            name: sum(early for a, early in stepped if a.file == name)
            / sum(1 for a in asked if a.file == name)
            for name in sorted({a.file for a in asked})
        }
        said = ", ".join(f"{name} {share:.3f}" for name, share in shares.items())
        print(
            f"\nsure {sure}: score {score(head, cut, threshold, margin):.4f}; stopped early: {said}"
        )
        print(table(head, cut, threshold, margin))


if __name__ == "__main__":
    main()
