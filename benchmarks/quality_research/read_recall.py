"""Does the reader read the answer? (issue 23, probe 2026-12-06.) On the calibration questions of
reader_calibrate.py (its indexes must exist: run it first), the share of in-corpus questions whose
gold chunk is among the READ_PASSAGES fused passages, whose gold sentence is among the first 16,
24 or 32 sentences by the cheap score (what the reader reads), and whose top read sentence is a
gold one (pick) or holds a gold answer (hit), reading 16, 24 or 32.

    nice python benchmarks/quality_research/read_recall.py 300

2026-12-06, 300 questions a file (SQuAD / NYT / Amazon): gold sentence among the 16 read .987 /
.933 / .577; pick with 16, 24, 32 read: .857 / .870 / .867, .723 / .717 / .723, .393 / .407 /
.410. The loss is in the choice among what is read, not in what is read.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.reader_calibrate import calibration_split
from embeddings.reader import ReaderModel
from qa import Assistant
from qa.eval.evaluation import questions_for
from qa.eval.metrics import contains_answer, contains_span, overlaps_span
from qa.pipeline import reader as rs
from qa.pipeline.answer import candidates
from qa.pipeline.evidence import stored_sentence_vectors

W = Path(__file__).resolve().parents[1] / "results" / "reader-calibration"
model = ReaderModel(None)
N = int(sys.argv[1])
for name in ("squad", "nyt", "amazon"):
    split = calibration_split(name, 7)
    raw, kept, inside, rng = split.raw, split.kept, split.inside, split.rng
    source = W / f"{name}-calibration.json"
    a = Assistant.open(W / f"index-{name}-calibration")
    qs = [
        q
        for q in questions_for([raw[n] for n in kept], source, kept)
        if q.article_number in inside and q.spans
    ]
    qs = rng.sample(qs, min(N, len(qs)))
    stats = {
        k: 0
        for k in (
            "n",
            "win",
            "cand",
            "r16",
            "r24",
            "r32",
            "pick16",
            "pick24",
            "pick32",
            "hit16",
            "hit24",
            "hit32",
        )
    }
    with a:
        for q in qs:
            v = a.embedder.embed([q.question])[0]
            ps = a.retriever.search(q.question, rs.READ_PASSAGES, None, v)
            st = stored_sentence_vectors(a.retriever.sentences, ps, rs.READ_PASSAGES)
            gold = lambda c: (
                c.passage.article_id == q.article_id and overlaps_span(c.start, c.end, q.spans)
            )
            stats["n"] += 1
            stats["win"] += any(
                p.article_id == q.article_id and contains_span(p.start, p.end, q.spans)
                for p in ps[: rs.READ_PASSAGES]
            )
            sc = candidates(q.question, list(ps[: rs.READ_PASSAGES]), a.embedder, v, None, st)
            stats["cand"] += any(gold(c) for c in sc)
            for k in (16, 24, 32):
                stats[f"r{k}"] += any(gold(c) for c in sc[:k])
                rs.READ_SENTENCES = k
                rd = rs.read(model, q.question, ps, a.embedder, v, st)
                if rd.sentences:
                    stats[f"pick{k}"] += gold(rd.sentences[0].candidate)
                    stats[f"hit{k}"] += contains_answer(rd.sentences[0].candidate.text, q.answers)
            rs.READ_SENTENCES = 16
    print(
        name, {k: round(v / stats["n"], 3) if k != "n" else v for k, v in stats.items()}, flush=True
    )
