"""Would the logit's gap to the question's best help the reader's head? Two heads, same reads.

The reader is trained with a listwise softmax over each question's sentences (model card), so
its logits compare within a question; the head (qa.pipeline.reader.HEAD) weighs each logit
alone. This adds a fifth feature, the sentence's logit minus the highest logit read for the
same question, to benchmarks/reader_calibrate.py's cached reads of the shipped reader (no model
call: the logit is each read's first feature), fits both heads by the same procedure and
prints both tables.

    python benchmarks/quality_research/logit_gap.py [--work benchmarks/results/reader-calibration]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

import benchmarks.reader_calibrate as rc
from qa.pipeline import reader as stage


def with_gap(asked: list[rc.Asked]) -> list[rc.Asked]:
    out = []
    for a in asked:
        best = max((r.features[0] for r in a.sentences), default=0.0)
        rows = [replace(r, features=[*r.features, r.features[0] - best]) for r in a.sentences]
        out.append(replace(a, sentences=rows))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=rc.RESULTS / "reader-calibration")
    args = parser.parse_args()
    tag = rc.model_tag(None)
    asked = rc.read_asked(args.work / f"read-700-7-{tag}.json")
    follow_ups = rc.read_asked(args.work / f"read-coqa-{tag}.json")
    rc.report("shipped features", asked)
    rc.report("follow-ups, shipped features", follow_ups)
    shipped = stage.FEATURES
    stage.FEATURES = (*shipped, "logit gap")  # type: ignore[assignment]
    rc.report("with the logit's gap to the best", with_gap(asked))
    rc.report("follow-ups, with the gap", with_gap(follow_ups))


if __name__ == "__main__":
    main()
