"""Abstention features/rule and answer-sentence choice, both files, 25% articles held out
(seed 0, as `qa eval --out-of-corpus`). Run after prep.py:
PYTHONPATH=. python benchmarks/quality_research/answers.py
"""

import pickle
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import *

from qa.stores.embedded.bm25 import terms

FILES = ("squad", "nyt")
WK, WC, WS = [float(x) for x in sys.argv[1:4]] if len(sys.argv) > 3 else (0.4, 0.2, 0.4)


def fused_of(c):
    return WK * z(c.f["k"], c.mask) + WC * z(c.f["d"], c.mask) + WS * z(c.f["s"], c.mask)


feats, labels, files, odd = [], [], [], []
answer_rows = {}
for f in FILES:
    raw_n = len(pickle.load(open(CACHE / f"{f}.pkl", "rb"))["arts"])
    held = frozenset(random.Random(0).sample(range(raw_n), max(1, round(0.25 * raw_n))))
    st = Setup(f, "new", held=held)
    c = st.candidates(("d", "k", "s"))
    fu = np.where(c.mask, fused_of(c), -np.inf)
    order = np.argsort(-fu, 1)
    srt = np.take_along_axis(fu, order, 1)
    top = np.take_along_axis(c.idx, order[:, :1], 1)[:, 0]
    zs = {k: z(c.f[k], c.mask) for k in "kds"}
    top_z = {k: np.take_along_axis(zs[k], order[:, :1], 1)[:, 0] for k in "kds"}
    # each side relative to the query's own distribution over the whole index
    Dz = (st.D.max(1) - st.D.mean(1)) / st.D.std(1)
    Sz = (st.S.max(1) - st.S.mean(1)) / st.S.std(1)
    Kmax = st.K.max(1)
    # share of the query's IDF mass that the top chunk contains
    qt = st.qterms.tocsr()
    idf = st.idf
    d = st.d
    cov = np.zeros(len(st.qidx))
    plain = np.zeros(len(st.qidx))
    for i, qi in enumerate(st.qidx):
        cols = qt.indices[qt.indptr[i] : qt.indptr[i + 1]]
        qterms_all = list(dict.fromkeys(terms(d["qs"][qi]["q"])))
        a, s, e, _ = st.chunks[top[i]]
        present = set(terms(d["arts"][a][1][s:e]) + terms(d["arts"][a][0]))
        w = [(idf[st.vocab[t]] if t in st.vocab else idf.max()) for t in qterms_all]
        have = [wt for t, wt in zip(qterms_all, w) if t in present]
        cov[i] = sum(have) / sum(w) if w else 0
        plain[i] = (
            len([t for t in qterms_all if t in present]) / len(qterms_all) if qterms_all else 0
        )
    F = np.c_[
        srt[:, 0],
        srt[:, 0] - srt[:, 1],
        top_z["k"],
        top_z["d"],
        top_z["s"],
        Dz,
        Sz,
        np.take_along_axis(c.f["s"], order[:, :1], 1)[:, 0],
        np.take_along_axis(c.f["d"], order[:, :1], 1)[:, 0],
        cov,
        plain,
    ]
    feats.append(F)
    labels.append(np.r_[np.ones(st.nin), np.zeros(len(st.qout))])
    files.append(np.array([f] * len(st.qidx)))
    odd.append(st.article % 2 == 1)
    print(f, "in", st.nin, "out", len(st.qout), flush=True)
    pickle.dump((F, labels[-1], odd[-1]), open(CACHE / f"abst-{f}.pkl", "wb"))
names = [
    "fused top",
    "fused margin",
    "kz top",
    "dz top",
    "sz top",
    "D index z",
    "S index z",
    "top sent cos",
    "top chunk cos",
    "idf coverage",
    "plain coverage",
]
F = np.concatenate(feats)
y = np.concatenate(labels)
fl = np.concatenate(files)
od = np.concatenate(odd)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

for j, n in enumerate(names):
    print(
        f"{n:15s}",
        " ".join(
            f"{f}:AUC {roc_auc_score(y[fl == f], F[fl == f, j]):.3f} mean in {F[(fl == f) & (y == 1), j].mean():.3f} out {F[(fl == f) & (y == 0), j].mean():.3f}"
            for f in FILES
        ),
    )


def evaluate(cols, label):
    X = F[:, cols]
    mu, sd = X[~od].mean(0), X[~od].std(0)
    Xn = (X - mu) / sd
    # balanced: each file weighs the same in the fit
    w = np.where(fl == "squad", 1 / np.sum(fl == "squad"), 1 / np.sum(fl == "nyt"))
    m = LogisticRegression(C=1.0).fit(Xn[~od], y[~od], sample_weight=w[~od])
    sc = m.decision_function(Xn)
    # threshold: highest keeping false abstention <= .05 on the tune half of EACH file
    th = min(np.quantile(sc[(~od) & (y == 1) & (fl == f)], 0.05) for f in FILES)
    out = []
    for f in FILES:
        for part, sel in (("tune", ~od), ("test", od)):
            s = sel & (fl == f)
            fa = np.mean(sc[s & (y == 1)] < th)
            ca = np.mean(sc[s & (y == 0)] < th)
            out.append(f"{f} {part}: FA {fa:.3f} CA {ca:.3f}")
    print(
        f"| {label} | " + " | ".join(out) + " |",
        "coef",
        np.round(m.coef_[0] / sd, 3).tolist(),
        "int",
        round(float(m.intercept_[0] - (m.coef_[0] * mu / sd).sum()), 3),
        "th",
        round(float(th), 3),
    )


evaluate([7, 8], "cosines (sentence, chunk): absolute")
evaluate([0, 1], "fused top + margin")
evaluate([0, 1, 9], "fused top + margin + idf coverage")
evaluate([5, 6, 9], "index z (D, S) + idf coverage")
evaluate([1, 5, 6, 9], "margin + index z + coverage")
evaluate([0, 1, 5, 6, 7, 9], "fused + index z + sent cos + coverage")
evaluate([7, 8, 9], "cosines + coverage")
evaluate([0, 1, 10], "fused top + margin + plain coverage")
evaluate([0, 1, 7, 10], "fused top + margin + sent cos + plain coverage")
evaluate(list(range(11)), "all")
