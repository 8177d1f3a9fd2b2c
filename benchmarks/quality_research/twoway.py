"""Chunk-only (no sentence vectors) figures on the new chunks: keyword, dense, 2-way z fusion, RRF."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import *

for f in ("squad", "nyt"):
    st = Setup(f, "new", sents=False)
    c = st.candidates(("d", "k"))
    print(
        f,
        "keyword",
        np.round(metrics(c.ranks(c.f["k"])), 3),
        "dense",
        np.round(metrics(c.ranks(c.f["d"])), 3),
    )
    for w in (0.2, 0.3, 0.4, 0.5, 0.6):
        print(
            f,
            "z dense",
            w,
            np.round(metrics(c.ranks(w * z(c.f["d"], c.mask) + (1 - w) * z(c.f["k"], c.mask))), 3),
        )
    print(f, "rrf", np.round(metrics(c.ranks(rrf(c.f["d"], c.mask) + rrf(c.f["k"], c.mask))), 3))
