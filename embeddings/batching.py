"""Embed many texts fast: sort by length so each batch pads little, report progress as we go."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import Protocol

import numpy as np

from embeddings.base import Embedder, Vectors

# Texts handed to the model per call: big enough to keep the CPU busy (the model batches 32 at
# a time), small enough for a progress bar that moves every couple of seconds.
SLICE_TEXTS = 64


def sorted_slices(texts: list[str]) -> list[list[int]]:
    """Positions of ``texts`` in length order (longest first), cut into model calls.

    A transformer pads every text of a batch to the batch's longest, so mixing a 20-token and a
    250-token chunk costs as much as two long ones; sorting removes most of that waste. Every
    path that embeds (in-process or on Ray workers) must cut the same slices: the int8 model's
    vectors depend on their batch-mates (docs/scaling-out.md), so other slices give other vectors.
    """
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    return [order[begin : begin + SLICE_TEXTS] for begin in range(0, len(order), SLICE_TEXTS)]


def embed_sorted(
    embedder: Embedder,
    texts: list[str],
    on_done: Callable[[int], None] | None = None,
) -> Vectors:
    """Embed ``texts`` slice by slice (see :func:`sorted_slices`); vectors in the input order.

    ``on_done(n)`` is called after each slice with the number of texts just embedded.
    """
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for rows in sorted_slices(texts):
        out[rows] = embedder.embed([texts[i] for i in rows])
        if on_done is not None:
            on_done(len(rows))
    return out


class GroupEmbedder(Protocol):
    """Embeds groups of texts, yielding each group's vectors (input order) in group order.

    ``on_done(n)`` is called as texts get embedded. Groups are embedded with
    :func:`embed_sorted`'s slices, wherever that runs, so every implementation gives the same
    vectors. Implementations: :class:`InProcess` here, ``embeddings.distributed.RayGroups``.
    """

    def __call__(
        self, groups: Iterable[list[str]], on_done: Callable[[int], None]
    ) -> Generator[Vectors, None, None]: ...


class InProcess:
    """Embeds in this process, one group at a time as the caller asks for it (so only one
    group's vectors are held at once)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(
        self, groups: Iterable[list[str]], on_done: Callable[[int], None]
    ) -> Generator[Vectors, None, None]:
        for texts in groups:
            yield embed_sorted(self.embedder, texts, on_done)
