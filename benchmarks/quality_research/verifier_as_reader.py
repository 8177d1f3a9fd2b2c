"""Does the verifier help the reader choose? (issue 23, probe 2026-12-06.) On the calibration
questions of reader_calibrate.py (its indexes must exist: run it first), the 16 sentences the
reader reads are also scored by the verifier (``verifier.onnx``, the question as the claim):
each sentence's score is the reader's log-odds (its head's, as the product orders them) plus ``w`` times the verifier's log-odds of
"supports", and the top sentence is a gold one (pick) or holds a gold answer (hit).

    nice python benchmarks/quality_research/verifier_as_reader.py 300

2026-12-06, 300 questions a file (SQuAD / NYT / Amazon), pick:
w 0: .857 / .723 / .393; w .1: .860 / .720 / .393; w .3: .857 / .720 / .387;
w 1: .850 / .717 / .350; the verifier alone (w 1000): .683 / .613 / .247.
A second cross-encoder trained on other pairs adds nothing to the reader's choice, and would
cost 16 more pairs a question: not used.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.reader_calibrate import calibration_split
from embeddings.reader import VERIFIER_FILE, ReaderModel, evidence_text
from qa import Assistant
from qa.eval.evaluation import questions_for
from qa.eval.metrics import contains_answer, overlaps_span
from qa.pipeline import reader as rs
from qa.pipeline.evidence import stored_sentence_vectors

W = Path(__file__).resolve().parents[1] / "results" / "reader-calibration"
WEIGHTS = (0.0, 0.1, 0.3, 1.0, 1e3)
reader, verifier = ReaderModel(None), ReaderModel(file_name=VERIFIER_FILE)
N = int(sys.argv[1])
for name in ("squad", "nyt", "amazon"):
    split = calibration_split(name, 7)
    raw, kept, inside = split.raw, split.kept, split.inside
    source = W / f"{name}-calibration.json"
    qs = [
        q
        for q in questions_for([raw[n] for n in kept], source, kept)
        if q.article_number in inside and q.spans
    ]
    qs = split.rng.sample(qs, min(N, len(qs)))
    pick, hit = dict.fromkeys(WEIGHTS, 0), dict.fromkeys(WEIGHTS, 0)
    with Assistant.open(W / f"index-{name}-calibration") as a:
        for q in qs:
            v = a.embedder.embed([q.question])[0]
            ps = a.retriever.search(q.question, rs.READ_PASSAGES, None, v)
            st = stored_sentence_vectors(a.retriever.sentences, ps, rs.READ_PASSAGES)
            read = rs.read(reader, q.question, ps, a.embedder, v, st).sentences
            if not read:
                continue
            evidence = [evidence_text(s.candidate.passage.title, s.candidate.text) for s in read]
            logits = verifier.verify_logits([q.question] * len(read), evidence)
            supports = logits[:, 0] - np.logaddexp(logits[:, 1], logits[:, 2])
            p = np.clip([s.probability for s in read], 1e-6, 1 - 1e-6)
            own = np.log(p / (1 - p))  # the head's log-odds: the product's order
            for w in WEIGHTS:
                c = read[int(np.argmax(own + w * supports))].candidate
                gold = c.passage.article_id == q.article_id and overlaps_span(
                    c.start, c.end, q.spans
                )
                pick[w] += gold
                hit[w] += contains_answer(c.text, q.answers)
    for w in WEIGHTS:
        print(name, f"w {w:g}: pick {pick[w] / len(qs):.3f} hit {hit[w] / len(qs):.3f}", flush=True)
