"""Answer sentence choice: answer hit rate (gold text inside the quoted sentences) per file,
on all in-corpus questions (full index), top 4 passages of the fused ranking.
PYTHONPATH=. python benchmarks/quality_research/answerchoice.py WK WC WS
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import *

from qa.eval.metrics import contains_answer
from qa.lexical import content_words, stem, words
from qa.pipeline.answer import cue_match, question_kind  # the product's cues

FILES = ("squad", "nyt")
WK, WC, WS = [float(x) for x in sys.argv[1:4]] if len(sys.argv) > 3 else (0.4, 0.2, 0.4)
results = {}
for f in FILES:
    st = Setup(f, "new")
    c = st.candidates(("d", "k", "s"))
    fu = np.where(
        c.mask,
        WK * z(c.f["k"], c.mask) + WC * z(c.f["d"], c.mask) + WS * z(c.f["s"], c.mask),
        -np.inf,
    )
    order = np.argsort(-fu, 1)[:, :4]
    top = np.take_along_axis(c.idx, order, 1)
    topscore = np.take_along_axis(fu, order, 1)
    d = st.d
    SV = np.load(CACHE / f"{f}-sent.npy")
    by_chunk = {}
    for sid, ci in d["sent_chunk"]:
        by_chunk.setdefault(ci, []).append(sid)
    # document frequencies over the index's chunks, for IDF weights
    df = {}
    for a, s, e, _ in st.chunks:
        for w in set(stem(x) for x in words(d["arts"][a][1][s:e])):
            df[w] = df.get(w, 0) + 1
    N = len(st.chunks)
    idf = lambda w: np.log((N + 1) / (df.get(w, 0) + 0.5))
    variants = {
        "today: cos + .35 overlap": (0.35, False, 0.0),
        "cos + .35 idf-overlap": (0.35, True, 0.0),
        "cos + .5 idf-overlap": (0.5, True, 0.0),
        "cos + .35 idf-overlap + .05 cue": (0.35, True, 0.05),
        "cos + .35 idf-overlap + .1 cue": (0.35, True, 0.1),
        "cos + .5 idf-overlap + .1 cue": (0.5, True, 0.1),
        "cos + .35 overlap + .1 cue": (0.35, False, 0.1),
    }
    hits = {v: [] for v in variants}
    first = {v: [] for v in variants}
    prec = {v: [0, 0] for v in variants}
    for r, qi in enumerate(st.qin):
        q = d["qs"][qi]
        qstems = {stem(w) for w in content_words(q["q"])}
        kind = question_kind(q["q"])
        cands = []
        seen = set()
        for rank in range(4):
            ci_local = top[r, rank]
            ci = st.chunk_ids[ci_local]
            for sid in by_chunk[ci]:
                if sid in seen:
                    continue
                seen.add(sid)
                a, s, e = d["sents"][sid]
                text = d["arts"][a][1][s:e]
                if len(text) < 12:
                    continue
                present = {stem(w) for w in words(text)}
                ov = len(qstems & present) / len(qstems) if qstems else 0
                tot = sum(idf(w) for w in qstems)
                iov = sum(idf(w) for w in qstems & present) / tot if tot else 0
                cands.append(
                    (
                        float(SV[sid] @ st.Qv[r]),
                        ov,
                        iov,
                        cue_match(kind, text, q["q"]),
                        topscore[r, rank] - topscore[r, 0],
                        text,
                        rank,
                        (a, s, e),
                    )
                )
        for v, (lam, useidf, cue) in variants.items():
            sc = sorted(
                cands,
                key=lambda x: -(x[0] + lam * (x[2] if useidf else x[1]) + cue * x[3] + 0.05 * x[4]),
            )
            best = sc[0]
            bs = best[0] + lam * (best[2] if useidf else best[1]) + cue * best[3] + 0.05 * best[4]
            chosen = [best]
            for x in sc[1:]:
                xs = x[0] + lam * (x[2] if useidf else x[1]) + cue * x[3] + 0.05 * x[4]
                if len(chosen) == 3 or xs < bs - 0.06:
                    break
                if all(x[6] != y[6] for y in chosen):
                    chosen.append(x)
            text = " ".join(x[5] for x in chosen)
            hits[v].append(contains_answer(text, q["answers"]))
            first[v].append(contains_answer(best[5], q["answers"]))
            for x in chosen:
                a, s, e = x[7]
                prec[v][1] += 1
                prec[v][0] += a == q["art"] and any(s < ge and gs < e for gs, ge in q["spans"])
    results[f] = {
        v: (np.mean(hits[v]), np.mean(first[v]), prec[v][0] / prec[v][1]) for v in variants
    }
print(
    "| sentence score | SQuAD answer hit | top-sentence hit | citation precision | NYT answer hit | top-sentence hit | citation precision |"
)
print("|---|---|---|---|---|---|---|")
for v in results["squad"]:
    print(f"| {v} | " + " | ".join(f"{x:.3f}" for f in FILES for x in results[f][v]) + " |")
