"""Would the question-type cue help the reader's head? Two heads fitted on the same reads.

The reader's head (qa.pipeline.reader.HEAD) weighs the model's logit, the cosine, the word
overlap and the passage's fused score. The path before the reader also weighed a question-type
cue (qa.pipeline.answer.cue_match: the sentence holds a date for "when", a number for "how
many", a name for "who"). This collects the calibration reads as benchmarks/reader_calibrate.py
does, with the cue kept beside each sentence's features, then fits the shipped four-feature
head and a five-feature head on the same reads by the same procedure and prints both tables.

    nice -n 10 python benchmarks/quality_research/cue_feature.py --work DIR

``--work`` should hold copies of reader_calibrate.py's calibration indexes (its work folder),
so nothing is embedded again; the reads are cached there as ``read-cue-*.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

import benchmarks.reader_calibrate as rc
from benchmarks.common import QA_FILES
from qa.pipeline import reader as stage
from qa.pipeline.answer import cue_match, question_kind

SHIPPED_FEATURES = stage.FEATURES
_read = stage.read


def read_with_cue(model, question, passages, embedder, vector, stored=None, *rest, **named):  # type: ignore[no-untyped-def]
    """The reading, each sentence's features with the cue appended (for the cache only: its
    probabilities are the shipped head's)."""
    reading = _read(model, question, passages, embedder, vector, stored, *rest, **named)
    kind = question_kind(question)
    sentences = [
        replace(s, features=(*s.features, cue_match(kind, s.candidate.text, question)))
        for s in reading.sentences
    ]
    return replace(reading, sentences=sentences)


def only(asked: list[rc.Asked], columns: int) -> list[rc.Asked]:
    """The same questions with each read's first ``columns`` features."""
    return [
        replace(a, sentences=[replace(r, features=r.features[:columns]) for r in a.sentences])
        for a in asked
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=700)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    cache = args.work / f"read-cue-{args.questions}-{args.seed}-{rc.model_tag(None)}.json"
    if cache.exists():
        asked = rc.read_asked(cache)
    else:
        stage.read = read_with_cue  # type: ignore[assignment]
        vectors = rc.QuestionVectors(None, "all")
        asked = []
        for name in QA_FILES:
            asked += rc.collect(name, args.questions, args.seed, args.work, None, vectors)
        stage.read = _read
        rows = [
            {"file": a.file, "in_corpus": a.in_corpus,
             "sentences": [r.__dict__ for r in a.sentences], "gold_chunks": sorted(a.gold_chunks),
             "fused_top_gold": a.fused_top_gold, "baseline": a.baseline,
             "unmentioned": a.unmentioned}
            for a in asked
        ]  # fmt: skip
        cache.write_text(json.dumps(rows))
    rc.report("shipped features", only(asked, len(SHIPPED_FEATURES)))
    stage.FEATURES = (*SHIPPED_FEATURES, "cue")  # type: ignore[assignment]
    rc.report("with the question-type cue", asked)


if __name__ == "__main__":
    main()
