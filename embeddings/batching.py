"""Embed many texts fast: sort by length so each batch pads little, report progress as we go."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from embeddings.base import Embedder, Vectors
from embeddings.spans import Span, embed_with_spans, row_starts

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


@dataclass(frozen=True)
class Batch:
    """Texts to embed together, and optionally spans of each text (its sentences) whose
    vectors come from the same pass (late chunking, embeddings/spans.py).

    Without spans the vectors are one row per text; with them, each text's row is followed
    by one row per span of it (``rows`` in all, in text order).
    """

    texts: list[str]
    spans: list[list[Span]] | None = None

    def __post_init__(self) -> None:
        if self.spans is not None and len(self.spans) != len(self.texts):
            raise ValueError(
                f"spans must hold one list per text: {len(self.texts)} texts, "
                f"{len(self.spans)} lists of spans"
            )

    @property
    def rows(self) -> int:
        """How many vectors embedding this batch gives."""
        return len(self.texts) + sum(len(s) for s in self.spans or ())

    def destinations(self, positions: list[int]) -> list[int]:
        """The output rows of the texts at ``positions``, in order (with their spans' rows)."""
        if self.spans is None:
            return positions
        starts = row_starts(self.spans)
        return [starts[i] + k for i in positions for k in range(1 + len(self.spans[i]))]

    def embed(self, embedder: Embedder, positions: list[int]) -> Vectors:
        """The vectors of the texts at ``positions`` (one model call), in ``destinations``
        order."""
        texts = [self.texts[i] for i in positions]
        if self.spans is None:
            return embedder.embed(texts)
        return embed_with_spans(embedder, texts, [self.spans[i] for i in positions])


def embed_sorted(
    embedder: Embedder,
    texts: list[str],
    on_done: Callable[[int], None] | None = None,
) -> Vectors:
    """Embed ``texts`` slice by slice (see :func:`sorted_slices`); vectors in the input order.

    ``on_done(n)`` is called after each slice with the number of texts just embedded.
    """
    return embed_batch(embedder, Batch(texts), on_done)


def embed_batch(
    embedder: Embedder, batch: Batch, on_done: Callable[[int], None] | None = None
) -> Vectors:
    """:func:`embed_sorted` of a ``Batch``: ``batch.rows`` vectors, spans' rows included.

    ``on_done(n)`` is called after each slice with the number of vectors just made.
    """
    out = np.zeros((batch.rows, embedder.dimension), dtype=np.float32)
    for positions in sorted_slices(batch.texts):
        rows = batch.destinations(positions)
        out[rows] = batch.embed(embedder, positions)
        if on_done is not None:
            on_done(len(rows))
    return out


class GroupEmbedder(Protocol):
    """Embeds groups of texts, yielding each group's vectors (``Batch.rows``, in order) in
    group order.

    ``on_done(n)`` is called as vectors get made. Groups are embedded with
    :func:`embed_sorted`'s slices, wherever that runs, so every implementation gives the same
    vectors. Implementations: :class:`InProcess` here, ``embeddings.distributed.RayGroups``.
    """

    def __call__(
        self, groups: Iterable[Batch], on_done: Callable[[int], None]
    ) -> Generator[Vectors, None, None]: ...


class InProcess:
    """Embeds in this process, one group at a time as the caller asks for it (so only one
    group's vectors are held at once)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(
        self, groups: Iterable[Batch], on_done: Callable[[int], None]
    ) -> Generator[Vectors, None, None]:
        for batch in groups:
            yield embed_batch(self.embedder, batch, on_done)
