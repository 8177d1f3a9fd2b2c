"""Late chunking: a text's vector and one vector per span of it (its sentences), from one pass.

A transformer already computes a contextual vector for every token of a chunk before pooling
them into the chunk's vector. Mean-pooling the tokens of each sentence instead gives that
sentence a vector for free, one that has read its neighbours (Günther et al., "Late Chunking",
2024). Ingest uses it for sentence vectors: one forward pass per chunk instead of one per chunk
plus one per sentence (issue 26; the measurements are in benchmarks/README.md).

The output of a batch is flat: for each text, its own vector, then one per span, so callers can
cut any slice of texts and put the rows back by :func:`row_starts`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from embeddings.base import Embedder, Vectors

Span = tuple[int, int]
"""Character offsets ``(start, end)`` into a text."""


@runtime_checkable
class SpanPooling(Protocol):
    """A model that pools its token vectors over spans of the text (ONNX and PyTorch do)."""

    def embed_spans(self, texts: list[str], spans: Sequence[Sequence[Span]]) -> Vectors:
        """For each text: its vector (as ``embed`` gives it), then its spans' vectors."""
        ...


def row_starts(spans: Sequence[Sequence[Span]]) -> list[int]:
    """Where each text's rows begin in the flat output of :func:`embed_with_spans`."""
    starts = []
    row = 0
    for text_spans in spans:
        starts.append(row)
        row += 1 + len(text_spans)
    return starts


def embed_with_spans(
    embedder: Embedder, texts: list[str], spans: Sequence[Sequence[Span]]
) -> Vectors:
    """Each text's vector followed by one vector per span of it, float32, L2-normalised.

    A model that cannot pool spans (the hash test model, a custom embedder) embeds each span's
    text on its own instead: the same rows, without the context.
    """
    if len(spans) != len(texts):
        raise ValueError(f"one list of spans per text: {len(texts)} texts, {len(spans)} lists")
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    if isinstance(embedder, SpanPooling):
        return embedder.embed_spans(texts, spans)
    return spans_alone(embedder.embed, texts, spans)


def spans_alone(
    embed: Callable[[list[str]], Vectors], texts: list[str], spans: Sequence[Sequence[Span]]
) -> Vectors:
    """The rows of :func:`embed_with_spans`, each span's text embedded on its own."""
    pieces = [text[a:b] for text, ss in zip(texts, spans, strict=True) for a, b in ss]
    vectors = embed(texts + pieces)
    out = np.zeros((len(vectors), vectors.shape[1]), dtype=np.float32)
    piece = len(texts)
    for n, (start, text_spans) in enumerate(zip(row_starts(spans), spans, strict=True)):
        out[start] = vectors[n]
        out[start + 1 : start + 1 + len(text_spans)] = vectors[piece : piece + len(text_spans)]
        piece += len(text_spans)
    return out


def pool_spans(
    tokens: npt.NDArray[np.float32],
    offsets: Sequence[tuple[int, int]],
    spans: Sequence[Span],
    whole: npt.NDArray[np.float32],
) -> Vectors:
    """Each span's vector: the mean of the contextual token vectors inside it, L2-normalised.

    ``tokens`` are one text's token vectors (real tokens only), ``offsets`` their character
    offsets into the text (special tokens have empty ones and belong to no span). A span with
    no token (cut off by the model's length limit) gets ``whole``, the text's own vector.
    """
    if not spans:
        return np.zeros((0, len(whole)), dtype=np.float32)
    starts = np.fromiter((a for a, _ in offsets), dtype=np.int64, count=len(offsets))
    ends = np.fromiter((b for _, b in offsets), dtype=np.int64, count=len(offsets))
    real = ends > starts
    weights = np.zeros((len(spans), len(offsets)), dtype=np.float32)
    for row, (a, b) in enumerate(spans):
        weights[row] = real & (starts < b) & (ends > a)
    counts = weights.sum(axis=1, keepdims=True)
    pooled = (weights @ np.asarray(tokens, dtype=np.float32)) / np.maximum(counts, 1.0)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    pooled = pooled / np.maximum(norms, 1e-12)
    pooled[counts[:, 0] == 0] = whole
    return np.asarray(pooled, dtype=np.float32)
