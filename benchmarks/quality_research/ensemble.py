"""Two readers, one head? (issue 23, probe 2026-12-06.) From the reads `reader_calibrate.py`
cached for two reader files (its ``read-700-7-<sha>.json``, same questions, same retrieval, so
the same 16 sentences a question), the head is fitted on the first reader's features plus the
second reader's logit, with the same threshold and margin procedure, and prints the same table.
Costs nothing to try: no model is run. A shipped ensemble would read every sentence twice and
ship a second 23 MB model.

    python benchmarks/quality_research/ensemble.py <sha-first> <sha-second>

It also tries splitting the roles: the first reader (its head, its threshold) decides whether to
answer, the second (its head, its margin) chooses the quote.

2026-12-06, the shipped reader (a69db265a491) and the span-loss one of the model card
(1700b636f5a3), calibration questions (answer hit / citation precision / correct abstention,
SQuAD, NYT, Amazon; score = mean of answer hit and citation precision):
- shipped alone: score .6720; .856 / .696 / .421, .879 / .738 / .441, .949 / .821 / .137;
- one head over both logits: score .6790; .874 / .696 / .446, .869 / .740 / .449,
  .857 / .686 / .099 (the threshold falls to keep false abstention under 5%);
- split roles: score .6772; .859 / .696 / .441, .876 / .740 / .450, .949 / .821 / .137.
With the span + no-answer reader (f7ae2884bdce) as the second: one head, score .6813, correct
abstention .934 / .793 / .116; split roles, score .6766, abstention as shipped.
Split roles keeps abstention and gains .005, for a second model read on every sentence: not
shipped (the rule for the span run asked for .010 with abstention kept).
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import benchmarks.reader_calibrate as rc
from qa.pipeline import reader as rs

W = Path(__file__).resolve().parents[1] / "results" / "reader-calibration"


def load(tag: str, conversations: bool = False) -> list[rc.Asked]:
    return rc.read_asked(
        W / (f"read-coqa-{tag}.json" if conversations else f"read-700-7-{tag}.json")
    )


def key(r: rc.Read) -> tuple[int, float, float]:
    return (r.chunk_id, round(r.features[1], 5), round(r.features[2], 5))


def joined(first: list[rc.Asked], second: list[rc.Asked]) -> list[rc.Asked]:
    """The first reads, each sentence given the second reader's logit as a fifth feature."""
    assert len(first) == len(second)
    out, missing = [], 0
    for a, b in zip(first, second, strict=True):
        assert a.file == b.file and a.in_corpus == b.in_corpus
        logits = {key(r): r.features[0] for r in b.sentences}
        sentences = []
        for r in a.sentences:
            other = logits.get(key(r))
            if other is None:
                missing += 1
                other = r.features[0]
            sentences.append(rc.Read([*r.features, other], r.gold, r.holds_answer, r.chunk_id))
        a.sentences = sentences
        out.append(a)
    print(f"{missing} sentences without a second logit", file=sys.stderr)
    return out


def report(label: str, asked: list[rc.Asked], follow_ups: list[rc.Asked]) -> None:
    head, threshold, margin = rc.fitted(asked)
    print(f"## {label}\nhead {head}, threshold {threshold}, margin {margin}")
    print(f"score {rc.score(head, asked, threshold, margin):.4f}")
    print(rc.table(head, asked, threshold, margin))
    follow = rc.fit(follow_ups)
    print("follow-ups:")
    print(rc.table(follow, follow_ups, rc.threshold_for(follow, follow_ups), 0.05))


def main() -> None:
    first, second = sys.argv[1], sys.argv[2]
    split_roles(first, second)
    report("first alone", load(first), load(first, True))
    rs.FEATURES = (*rs.FEATURES, "second logit")
    report(
        "first + second logit",
        joined(load(first), load(second)),
        joined(load(first, True), load(second, True)),
    )


def split_roles(first: str, second: str) -> None:
    """The first reader (its own fitted head and threshold) decides whether to answer; the
    second (its own head and margin) chooses what to quote."""
    decide, choose = load(first), load(second)
    head_a = rc.fit(decide)
    threshold = rc.threshold_for(head_a, decide)
    head_b = rc.fit(choose)
    margin = max(rc.EXTRA_MARGINS, key=lambda m: (rc.score(head_b, choose, 0.0, m), -m))
    rows = []
    for name in ("amazon", "nyt", "squad"):
        hits, gold, cited, false, held = [], 0, 0, [], []
        for a, b in zip(decide, choose, strict=True):
            if a.file != name:
                continue
            answered = bool(a.sentences) and rc.sure(head_a, a) >= threshold
            if not a.in_corpus:
                held.append(not answered)
                continue
            false.append(not answered)
            if answered:
                done = rc.outcome(head_b, b, 0.0, margin)
                hits.append(done["hit"])
                gold += done["cited_gold"]
                cited += done["cited"]
            else:
                hits.append(False)
        rows.append((name, np.mean(hits), gold / max(cited, 1), np.mean(false), np.mean(held)))
    print(f"## split roles (margin {margin})")
    for name, hit, precision, false_, held_ in rows:
        print(f"| {name} | {hit:.3f} | {precision:.3f} | {false_:.3f} | {held_:.3f} |")
    print(f"score {np.mean([v for r in rows for v in r[1:3]]):.4f}")


if __name__ == "__main__":
    main()
