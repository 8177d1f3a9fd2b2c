"""Quote the sentence next to the chosen one too? (issue 23, 2026-12-08: measured, not adopted.)

Of the calibration questions whose answer quotes the right article but misses the answer, the
answer is often in the very next sentence, which needs the quoted one to be understood ("In
addition, analysis of the Medieval Warm Period cited reconstructions by Crowley & Lowery ..."
then "Ten of these 14 reconstructions covered 1,000 years or longer."; "Bruce Museum, 1 Museum
Drive." then "203-869-0376; brucemuseum.org."). The reader reads both; this asks whether quoting
the best sentence's neighbour (the sentence right after it or right before it in the same
passage, when the reader read it) whenever the reader finds it nearly as probable would give
those answers, and what it costs.

Each calibration question (``benchmarks/reader_calibrate.py``'s articles, split and questions,
seed 7) is asked as ``qa ask`` asks it; the sentences the reader read are kept, and the answer
is chosen again offline: as shipped (``qa.pipeline.reader.choose``), then with the neighbour
added when its probability is at least the best one's minus a margin, or at least a share of
it. Answer hit: a chosen sentence holds a gold answer (``contains_answer``); precision per
sentence: the share of quoted sentences that overlap a gold span (a neighbour that holds nothing
counts against it, as a reader would count it); words: mean words quoted per answer.

    nice python benchmarks/quality_research/adjacent_sentence.py [--questions 700]

About 15 minutes on 2 cores (indexes reused from ``benchmarks/reader_calibrate.py``'s work
folder). 2026-12-08, 348 / 408 / 700 answerable questions (SQuAD / NYT / Amazon), answer hit
and precision per sentence:

    shipped              .871 / .701 / .436   .870 / .736 / .441   30.5 / 26.3 / 26.6 words
    within .1            .882 / .711 / .450   .838 / .691 / .389   32.0 / 28.4 / 30.2 words
    within .3            .897 / .733 / .459   .771 / .611 / .356   35.2 / 32.8 / 33.7 words
    at least half        .894 / .703 / .456   .808 / .712 / .416   33.8 / 27.9 / 29.3 words
    at least a tenth     .899 / .748 / .463   .675 / .618 / .347   40.6 / 33.9 / 35.4 words

The reader rarely finds the neighbour that holds the answer nearly as probable (it lacks the
question's words), so a few answers are gained for many quotes that hold nothing: at margins .1
and .3 each point of answer hit costs three to four points of precision. Not adopted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.common import RESULTS
from benchmarks.reader_calibrate import calibration_questions, calibration_split
from qa import Assistant
from qa.eval.metrics import contains_answer, overlaps_span
from qa.pipeline import reader as reader_stage
from qa.pipeline.reader import ReadSentence

FILES = ("squad", "nyt", "amazon")
Rule = Callable[[ReadSentence, ReadSentence], bool]  # (best, neighbour) -> quote it too
RULES: dict[str, Rule | None] = {
    "shipped": None,
    "within .1": lambda best, s: s.probability >= best.probability - 0.1,
    "within .3": lambda best, s: s.probability >= best.probability - 0.3,
    "at least half": lambda best, s: s.probability >= 0.5 * best.probability,
    "at least a tenth": lambda best, s: s.probability >= 0.1 * best.probability,
}


def next_to(a: ReadSentence, b: ReadSentence) -> bool:
    """``b`` is the sentence right before or right after ``a`` in the same passage."""
    pa, pb = a.candidate, b.candidate
    if pa.passage.chunk_id != pb.passage.chunk_id:
        return False
    first, second = (pa, pb) if pa.start < pb.start else (pb, pa)
    start = pa.passage.start
    return not pa.passage.text[first.end - start : second.start - start].strip()


def chosen(sentences: list[ReadSentence], rule: Rule | None) -> list[ReadSentence]:
    picked = reader_stage.choose(sentences)
    if rule is None:
        return picked
    best = picked[0]
    extra = [s for s in sentences[1:] if s not in picked and next_to(best, s) and rule(best, s)]
    return picked + extra[:1]


def collect(name: str, questions: int, work: Path) -> list[dict[str, Any]]:
    """Each answerable calibration question with the sentences read when it was answered."""
    split = calibration_split(name, 7)
    source = work / f"{name}-calibration.json"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(json.dumps({"data": [split.raw[n] for n in split.kept]}), encoding="utf-8")
    assistant = Assistant.open(work / f"index-{name}-calibration")
    assistant.ingest([source], prune=True)
    asked, _ = calibration_questions(split, source, questions)
    shipped_choose = reader_stage.choose
    seen: list[list[ReadSentence]] = []

    def recording(sentences: list[ReadSentence]) -> list[ReadSentence]:
        seen.append(sentences)
        return shipped_choose(sentences)

    reader_stage.choose = recording  # reading_answer looks it up in its module
    rows = []
    try:
        with assistant:
            for q in asked:
                seen.clear()
                answer = assistant.ask(q.question)
                read = seen[-1] if answer.found and seen else []
                rows.append({"q": q, "read": read})
    finally:
        reader_stage.choose = shipped_choose
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=700)
    parser.add_argument("--work", type=Path, default=RESULTS / "reader-calibration")
    args = parser.parse_args()
    asked = {name: collect(name, args.questions, args.work) for name in FILES}
    for label, rule in RULES.items():
        hit, precise, words = [], [], []
        for name in FILES:
            rows = asked[name]
            hits = quoted = gold = counted = answered = 0
            for row in rows:
                q, read = row["q"], row["read"]
                if not read:
                    continue
                answered += 1
                picked = chosen(read, rule)
                text = " ".join(s.candidate.text for s in picked)
                hits += contains_answer(text, q.answers)
                counted += len(text.split())
                for s in picked:
                    c = s.candidate
                    quoted += 1
                    gold += c.passage.article_id == q.article_id and overlaps_span(
                        c.start, c.end, q.spans
                    )
            hit.append(hits / len(rows))
            precise.append(gold / max(1, quoted))
            words.append(counted / max(1, answered))
        print(
            f"{label:18} answer hit {' / '.join(f'{v:.3f}' for v in hit)}   "
            f"precision per sentence {' / '.join(f'{v:.3f}' for v in precise)}   "
            f"{' / '.join(f'{v:.1f}' for v in words)} words"
        )


if __name__ == "__main__":
    main()
