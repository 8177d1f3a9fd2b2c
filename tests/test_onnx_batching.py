"""How the ONNX embedder cuts texts into calls: every text once, in order, and no call past its
caps unless one text alone is longer (the cap bounds ingest's memory, benchmarks/README.md)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from embeddings import load_embedder
from embeddings.onnx import BATCH_SIZE, BATCH_TOKENS, OnnxEmbedder, calls


@given(st.lists(st.integers(min_value=1, max_value=600), max_size=80))
def test_calls_cover_every_text_once_in_order_within_the_caps(lengths: list[int]) -> None:
    cut = calls(lengths)
    assert [n for begin, end in cut for n in range(begin, end)] == list(range(len(lengths)))
    for begin, end in cut:
        rows = end - begin
        assert 1 <= rows <= BATCH_SIZE
        padded = rows * max(lengths[begin:end])
        assert padded <= BATCH_TOKENS or rows == 1


def test_short_texts_fill_whole_calls_and_long_ones_go_few_at_a_time() -> None:
    assert calls([20] * 40) == [(0, 16), (16, 32), (32, 40)]
    quarter = BATCH_TOKENS // 4  # four such texts fill a call
    assert calls([quarter] * 9) == [(0, 4), (4, 8), (8, 9)]
    # Longest first, as callers sort: the call grows once the long text is behind it.
    assert calls([BATCH_TOKENS + 100, 30, 30]) == [(0, 1), (1, 3)]


def test_the_model_pads_little_and_gives_vectors_in_the_callers_order() -> None:
    """Texts sorted by characters are not sorted by tokens: the embedder cuts its calls in token
    order (each call pads to its longest text) and puts every vector back in its text's row."""
    model = load_embedder(None)
    assert isinstance(model, OnnxEmbedder)
    model.dimension  # noqa: B018 (loaded before the spy: it embeds a probe)
    texts = [
        "Fishing boats left at dawn.",
        "1887 1887 1887 1887 1887.",  # shorter than the first in characters, longer in tokens
        "The harbour reopened on Monday after the storm.",
        "Rain.",
    ]
    widths: list[int] = []
    run = model._run

    def spy(encodings):  # type: ignore[no-untyped-def]
        widths.extend(len(ids) for ids, _ in encodings)
        return run(encodings)

    model._run = spy  # type: ignore[method-assign]
    vectors = model.embed(texts)
    assert widths == sorted(widths, reverse=True) and len(widths) == len(texts)
    alone = np.vstack([run(model._encode([text])) for text in texts])
    cosines = vectors @ alone.T
    assert np.argmax(cosines, axis=1).tolist() == [0, 1, 2, 3]
    assert cosines.diagonal().min() > 0.97  # int8 vectors move a little with their batch-mates


def test_late_chunking_makes_the_calls_embed_makes() -> None:
    """Each text's row from ``embed_spans`` is its ``embed`` vector, bit for bit: int8 vectors
    depend on their batch-mates, so both must cut the same calls (here more than one, from
    texts out of token order)."""
    model = load_embedder(None)
    assert isinstance(model, OnnxEmbedder)
    sizes = [3, 40, 7, 25, 1, 33, 12, 18, 5, 29, 9, 21, 2, 37, 15, 11, 27, 4, 31, 8]
    texts = [" ".join(f"river{n} boat" for n in range(size)) + "." for size in sizes]
    spans = [[(0, len(text))] for text in texts]
    rows = model.embed_spans(texts, spans)
    assert rows.shape[0] == 2 * len(texts)
    np.testing.assert_array_equal(rows[0::2], model.embed(texts))
