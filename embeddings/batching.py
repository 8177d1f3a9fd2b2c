"""Embed many texts fast: sort by length so each batch pads little, report progress as we go."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from embeddings.base import Embedder, Vectors

# Texts handed to the model per call: big enough to keep the CPU busy (the model batches 32 at
# a time), small enough for a progress bar that moves every couple of seconds.
SLICE_TEXTS = 64


def embed_sorted(
    embedder: Embedder,
    texts: list[str],
    on_done: Callable[[int], None] | None = None,
) -> Vectors:
    """Embed ``texts`` in length order (longest first) and return vectors in the input order.

    A transformer pads every text of a batch to the batch's longest, so mixing a 20-token and a
    250-token chunk costs as much as two long ones; sorting removes most of that waste.
    ``on_done(n)`` is called after each slice with the number of texts just embedded.
    """
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for begin in range(0, len(order), SLICE_TEXTS):
        rows = order[begin : begin + SLICE_TEXTS]
        out[rows] = embedder.embed([texts[i] for i in rows])
        if on_done is not None:
            on_done(len(rows))
    return out
