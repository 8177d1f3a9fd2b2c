"""Fusion variants on both files. Run (after prep.py):
PYTHONPATH=. python benchmarks/quality_research/fusion.py
"""

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import *

FILES = ("squad", "nyt")
rows = {}  # variant -> {file: (r1,r5,mrr)}
split = {}  # variant -> {file: (even r1, odd r1)}


def record(name, per_file_ranks, setups):
    rows[name] = {f: metrics(per_file_ranks[f]) for f in FILES}
    split[name] = {}
    for f in FILES:
        a = setups[f].article[: setups[f].nin]
        split[name][f] = (
            metrics(per_file_ranks[f][a % 2 == 0])[0],
            metrics(per_file_ranks[f][a % 2 == 1])[0],
        )


setups, cands, cands2 = {}, {}, {}
for f in FILES:
    setups[f] = Setup(f, "new")
    cands[f] = setups[f].candidates(("d", "k", "s"))
    cands2[f] = setups[f].candidates(("d", "k"))
    print(f, "cands", cands[f].idx.shape, flush=True)

# old chunks: today's product
try:
    old = {f: Setup(f, "old", sents=False).candidates(("d", "k")) for f in FILES}
    for name, fn in [
        ("old keyword", lambda c: c.f["k"]),
        ("old dense", lambda c: c.f["d"]),
        (
            "old hybrid z .6/.4 (today)",
            lambda c: 0.6 * z(c.f["d"], c.mask) + 0.4 * z(c.f["k"], c.mask),
        ),
    ]:
        record(name, {f: old[f].ranks(fn(old[f])) for f in FILES}, {f: old[f].setup for f in FILES})
except FileNotFoundError as e:
    print("no old chunks yet", e)


def run(name, fn, cs=None):
    cs = cs or cands
    record(name, {f: cs[f].ranks(fn(cs[f])) for f in FILES}, setups)


run("keyword", lambda c: c.f["k"], cands2)
run("dense chunk", lambda c: c.f["d"], cands2)
run("dense best sentence", lambda c: c.f["s"])
for a in (0.3, 0.5, 0.7):
    run(
        f"dense mix {a} chunk + {1 - a:.1f} sentence",
        lambda c, a=a: a * c.f["d"] + (1 - a) * c.f["s"],
    )
for w in (0.3, 0.4, 0.5, 0.6):
    run(
        f"z 2-way dense {w}",
        lambda c, w=w: w * z(c.f["d"], c.mask) + (1 - w) * z(c.f["k"], c.mask),
        cands2,
    )
run("rrf 2-way", lambda c: rrf(c.f["d"], c.mask) + rrf(c.f["k"], c.mask), cands2)
run("rrf 3-way", lambda c: rrf(c.f["d"], c.mask) + rrf(c.f["k"], c.mask) + rrf(c.f["s"], c.mask))
grid = [
    (k, d, round(1 - k - d, 2))
    for k in np.arange(0.2, 0.75, 0.05)
    for d in np.arange(0, 0.55, 0.05)
    if 1 - k - d > -1e-9
]
for norm_name, norm in (("z", z), ("mad", robust), ("minmax", minmax)):
    for k, d, s in grid:
        run(
            f"{norm_name} 3-way k{k:.2f} c{d:.2f} s{s:.2f}",
            lambda c, k=k, d=d, s=s, norm=norm: (
                k * norm(c.f["k"], c.mask) + d * norm(c.f["d"], c.mask) + s * norm(c.f["s"], c.mask)
            ),
        )


# query-adaptive: each side's weight scaled by its confidence (z top-1 minus mean z of 2..5)
def adaptive(c, k, d, s, p=1.0, norm=z):
    out = 0
    for w, key in ((k, "k"), (d, "d"), (s, "s")):
        n = norm(c.f[key], c.mask)
        g = np.maximum(top_gap(n, c.mask), 0.0) ** p
        out = out + w * g[:, None] * n
    return out


for k, d, s in grid[::2]:
    for p in (0.5, 1.0):
        run(
            f"adaptive z 3-way k{k:.2f} c{d:.2f} s{s:.2f} p{p}",
            lambda c, k=k, d=d, s=s, p=p: adaptive(c, k, d, s, p),
        )

# 4-way: + best-sentence BM25
for k, d, s_, sk in [
    (k, d, s_, sk)
    for k in (0.2, 0.3, 0.4)
    for d in (0.1, 0.2)
    for s_ in (0.3, 0.4, 0.5)
    for sk in (0.1, 0.2, 0.3)
    if abs(k + d + s_ + sk - 1) < 1e-9
]:
    run(
        f"z 4-way k{k:.2f} c{d:.2f} s{s_:.2f} sk{sk:.2f}",
        lambda c, k=k, d=d, s_=s_, sk=sk: (
            k * z(c.f["k"], c.mask)
            + d * z(c.f["d"], c.mask)
            + s_ * z(c.f["s"], c.mask)
            + sk * z(c.f["sk"], c.mask)
        ),
    )
# same 3-way fusion, candidates only from chunk-dense and keyword search (no sentence ANN search)
for k, d, s in grid:
    run(
        f"z 3-way (d,k candidates) k{k:.2f} c{d:.2f} s{s:.2f}",
        lambda c, k=k, d=d, s=s: (
            k * z(c.f["k"], c.mask) + d * z(c.f["d"], c.mask) + s * z(c.f["s"], c.mask)
        ),
        cands2,
    )


def score(v):
    return np.mean([(rows[v][f][0] + rows[v][f][2]) / 2 for f in FILES])


json.dump(
    {"rows": rows, "split": split},
    open(Path(__file__).resolve().parents[1] / "results" / "fusion.json", "w"),
)
best = sorted(rows, key=score, reverse=True)
shown = [
    v
    for v in rows
    if not any(v.startswith(p) for p in ("z 3-way", "mad 3-way", "minmax 3-way", "adaptive"))
]
print("best 10 overall:", best[:10])
for fam in ("z 4-way", "z 3-way k", "z 3-way (d,k", "mad 3-way", "minmax 3-way", "adaptive"):
    shown += [v for v in best if v.startswith(fam)][:3]
print("| variant | SQuAD R@1 | R@5 | MRR@10 | NYT R@1 | R@5 | MRR@10 | R@1 even/odd SQuAD | NYT |")
print("|---|---|---|---|---|---|---|---|---|")
for v in shown:
    r = rows[v]
    s = split[v]
    print(
        f"| {v} | "
        + " | ".join(f"{x:.3f}" for f in FILES for x in r[f])
        + f" | {s['squad'][0]:.3f}/{s['squad'][1]:.3f} | {s['nyt'][0]:.3f}/{s['nyt'][1]:.3f} |"
    )
