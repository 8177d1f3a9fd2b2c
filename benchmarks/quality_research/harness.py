"""Retrieval / fusion / abstention / answer-sentence measurements on SQuAD dev + NYT dev.
Uses prep.py's cache (chunks by the product's chunker, vectors by its onnx-int8 embedder) and
the product's BM25 (qa/lexical.py terms(), qa/stores/keywords.py K1 and B, title words x0.5,
FTS5 idf).
Run: PYTHONPATH=. python benchmarks/quality_research/harness.py
"""

import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from qa.stores.embedded.bm25 import K1, TITLE_WEIGHT, B, terms

CACHE = Path(__file__).resolve().parents[1] / "results" / "quality-cache"
NCAND = 50


def bm25_impacts(titles, texts):
    vocab = {}
    rows, cols, vals, lens = [], [], [], []
    for r, (ti, tx) in enumerate(zip(titles, texts)):
        tt, xt = terms(ti), terms(tx)
        w = dict(Counter(xt))
        for t in tt:
            w[t] = w.get(t, 0.0) + TITLE_WEIGHT
        lens.append(len(tt) + len(xt))
        for t, c in w.items():
            rows.append(r)
            cols.append(vocab.setdefault(t, len(vocab)))
            vals.append(c)
    rows = np.array(rows)
    cols = np.array(cols)
    tf = np.array(vals, np.float64)
    n = len(texts)
    length = np.array(lens, np.float64)
    avg = length.mean()
    df = np.bincount(cols, minlength=len(vocab)).astype(np.float64)
    idf = np.maximum(np.log((n - df + 0.5) / (df + 0.5)), 1e-6)
    norm = K1 * (1 - B + B * length[rows] / avg)
    imp = idf[cols] * tf * (K1 + 1) / (tf + norm)
    return sp.csr_matrix((imp, (rows, cols)), shape=(n, len(vocab))), vocab, idf


def query_matrix(questions, vocab):
    r, c = [], []
    for i, q in enumerate(questions):
        for t in dict.fromkeys(terms(q)):
            if t in vocab:
                r.append(i)
                c.append(vocab[t])
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(questions), len(vocab)))


class Setup:
    """One file, one chunking, one index (kept articles), one question set."""

    def __init__(self, name, kind="new", held=frozenset(), sents=True, sent_tag="sent"):
        d = pickle.load(open(CACHE / f"{name}.pkl", "rb"))
        self.name, self.d = name, d
        Q = np.load(CACHE / f"{name}-q.npy")
        C = np.load(CACHE / f"{name}-{kind}.npy")
        chunks = d[kind]
        keep = np.array([c[0] not in held for c in chunks])
        self.chunk_ids = np.flatnonzero(keep)
        self.chunks = [chunks[i] for i in self.chunk_ids]
        C = C[self.chunk_ids]
        titles = [d["arts"][c[0]][0] for c in self.chunks]
        texts = [d["arts"][c[0]][1][c[1] : c[2]] for c in self.chunks]
        imp, vocab, idf = bm25_impacts(titles, texts)
        self.vocab, self.idf = vocab, idf
        self.qin = [i for i, q in enumerate(d["qs"]) if q["art"] not in held]
        self.qout = [i for i, q in enumerate(d["qs"]) if q["art"] in held]
        self.qidx = self.qin + self.qout
        qs = [d["qs"][i]["q"] for i in self.qidx]
        self.K = np.asarray((query_matrix(qs, vocab) @ imp.T).todense(), np.float32)
        self.qterms = query_matrix(qs, vocab)
        Qv = Q[self.qidx]
        self.Qv = Qv
        self.D = Qv @ C.T
        self.S = None
        if sents and kind == "new":
            SV = np.load(CACHE / f"{name}-{sent_tag}.npy")
            pairs = np.array(d["sent_chunk"])  # (sent, chunk) in chunk order
            pos = {c: j for j, c in enumerate(self.chunk_ids)}
            sel = np.array([c in pos for c in pairs[:, 1]])
            pairs = pairs[sel]
            local = np.array([pos[c] for c in pairs[:, 1]])
            starts = np.flatnonzero(np.r_[True, local[1:] != local[:-1]])
            sims = Qv @ SV[pairs[:, 0]].T
            self.S = np.maximum.reduceat(sims, starts, axis=1)
            assert self.S.shape[1] == len(self.chunks)
            # BM25 over sentences (title x0.5 as for chunks), best sentence per chunk
            st_titles = [d["arts"][d["sents"][i][0]][0] for i in pairs[:, 0]]
            st_texts = [
                d["arts"][d["sents"][i][0]][1][d["sents"][i][1] : d["sents"][i][2]]
                for i in pairs[:, 0]
            ]
            simp, svocab, _ = bm25_impacts(st_titles, st_texts)
            qm = query_matrix(qs, svocab).tocsr()
            self.SK = np.zeros_like(self.S)
            for b in range(0, len(qs), 2000):
                block = np.asarray((qm[b : b + 2000] @ simp.T).todense(), np.float32)
                self.SK[b : b + 2000] = np.maximum.reduceat(block, starts, axis=1)
        # hits
        self.nin = len(self.qin)
        art_of = np.array([c[0] for c in self.chunks])
        self.hit = np.zeros((self.nin, len(self.chunks)), bool)
        for r, qi in enumerate(self.qin):
            q = d["qs"][qi]
            for j in np.flatnonzero(art_of == q["art"]):
                _, s, e, _ = self.chunks[j]
                if any(s <= a and b <= e for a, b in q["spans"]):
                    self.hit[r, j] = True
        self.article = np.array([d["qs"][i]["art"] for i in self.qidx])

    def candidates(self, sources=("d", "k"), n=NCAND):
        """Padded candidate matrix: union of each source's top-n (keyword: score > 0)."""
        mats = {"d": self.D, "k": self.K, "s": self.S}
        nq = self.D.shape[0]
        rows = []
        for i in range(nq):
            parts = []
            for src in sources:
                m = mats[src][i]
                top = np.argpartition(-m, n)[:n]
                if src == "k":
                    top = top[m[top] > 0]
                parts.append(top)
            rows.append(np.unique(np.concatenate(parts)))
        M = max(len(r) for r in rows)
        idx = np.zeros((nq, M), np.int64)
        mask = np.zeros((nq, M), bool)
        for i, r in enumerate(rows):
            idx[i, : len(r)] = r
            mask[i, : len(r)] = True
        feats = {"d": np.take_along_axis(self.D, idx, 1), "k": np.take_along_axis(self.K, idx, 1)}
        if self.S is not None:
            feats["s"] = np.take_along_axis(self.S, idx, 1)
            feats["sk"] = np.take_along_axis(self.SK, idx, 1)
        return Cands(self, idx, mask, feats)


class Cands:
    def __init__(self, setup, idx, mask, feats):
        self.setup, self.idx, self.mask, self.f = setup, idx, mask, feats
        nin = setup.nin
        self.hit = np.zeros(idx.shape, bool)
        self.hit[:nin] = np.take_along_axis(setup.hit, idx[:nin], 1) & mask[:nin]

    def ranks(self, fused, rows=None):
        """first-hit rank (1-based, 0 = none in top 10) for in-corpus questions."""
        nin = self.setup.nin
        f = np.where(self.mask, fused, -np.inf)[:nin]
        top = np.argsort(-f, axis=1, kind="stable")[:, :10]
        h = np.take_along_axis(self.hit[:nin], top, 1)
        first = np.where(h.any(1), h.argmax(1) + 1, 0)
        return first if rows is None else first[rows]


def metrics(first):
    r1 = np.mean(first == 1)
    r5 = np.mean((first >= 1) & (first <= 5))
    mrr = np.mean(np.where(first > 0, 1.0 / np.maximum(first, 1), 0))
    return r1, r5, mrr


# ---- normalisations and fusions ----
def z(x, m):
    x = np.where(m, x, np.nan)
    mu = np.nanmean(x, 1, keepdims=True)
    sd = np.nanstd(x, 1, keepdims=True)
    return np.nan_to_num((x - mu) / np.where(sd < 1e-9, 1, sd))


def robust(x, m):
    x = np.where(m, x, np.nan)
    med = np.nanmedian(x, 1, keepdims=True)
    mad = np.nanmedian(np.abs(x - med), 1, keepdims=True) * 1.4826
    return np.nan_to_num((x - med) / np.where(mad < 1e-9, 1, mad))


def minmax(x, m):
    x = np.where(m, x, np.nan)
    lo = np.nanmin(x, 1, keepdims=True)
    hi = np.nanmax(x, 1, keepdims=True)
    return np.nan_to_num((x - lo) / np.where(hi - lo < 1e-9, 1, hi - lo))


def rrf(x, m, k=60):
    x = np.where(m, x, -np.inf)
    order = np.argsort(-x, 1, kind="stable")
    r = np.empty_like(order)
    np.put_along_axis(r, order, np.arange(x.shape[1])[None].repeat(x.shape[0], 0), 1)
    return 1.0 / (k + r + 1)


def top_gap(nx, m):
    """confidence of one side: normalised top-1 minus normalised mean of ranks 2..5."""
    s = np.sort(np.where(m, nx, -np.inf), 1)[:, ::-1]
    return s[:, 0] - np.mean(s[:, 1:5], 1)
