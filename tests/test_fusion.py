"""Fusion of keyword, chunk-dense and best-sentence scores (qa.pipeline.retrieval)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.pipeline.retrieval import (
    CHUNK_FUSION,
    SENTENCE_FUSION,
    FusionWeights,
    fuse,
)
from qa.stores.base import best_sentence_scores

scores = st.dictionaries(
    st.integers(0, 40), st.floats(-1, 1, allow_nan=False), min_size=2, max_size=30
)


@settings(max_examples=200, deadline=None)
@given(scores, st.data())
def test_a_passage_first_on_every_side_stays_first(
    dense: dict[int, float], data: st.DataObject
) -> None:
    # Whatever the weights, a candidate that both the keyword and the dense side rank first
    # (strictly) is ranked first by the fusion.
    ids = sorted(dense)
    keyword = {i: data.draw(st.floats(0, 30, allow_nan=False)) for i in ids}
    sentence = {i: data.draw(st.floats(-1, 1, allow_nan=False)) for i in ids}
    best = ids[0]
    dense[best] = max(dense.values()) + 0.1
    keyword[best] = max(keyword.values()) + 1.0
    sentence[best] = max(sentence.values()) + 0.1
    for weights in (
        CHUNK_FUSION,
        SENTENCE_FUSION,
        FusionWeights(1.0, 0.0),
        FusionWeights(0.0, 1.0),
    ):
        ranked = fuse(dense, keyword, weights.dense, weights.keyword, sentence, weights.sentence)
        assert ranked[0].chunk_id == best
        assert sorted(s.chunk_id for s in ranked) == ids  # every candidate kept once


def test_sentence_evidence_can_lift_a_passage() -> None:
    dense = {1: 0.50, 2: 0.48}
    keyword = {1: 3.0, 2: 3.0}
    sentence = {1: 0.40, 2: 0.80}  # chunk 2 holds one sentence that matches the question well
    assert fuse(dense, keyword, 0.5, 0.5)[0].chunk_id == 1
    assert fuse(dense, keyword, 0.2, 0.4, sentence, 0.4)[0].chunk_id == 2


def test_best_sentence_scores_take_each_chunks_maximum() -> None:
    query = np.array([1.0, 0.0], dtype=np.float32)
    vectors = np.array([[0.2, 0.98], [0.9, 0.43], [0.5, 0.86], [0.1, 0.99]], dtype=np.float32)
    owners = np.array([7, 7, 9, 9], dtype=np.int64)
    best = best_sentence_scores(query, vectors, owners)
    assert best == pytest.approx({7: 0.9, 9: 0.5})
    assert best_sentence_scores(query, vectors[:0], owners[:0]) == {}


def test_negative_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 0"):
        FusionWeights(keyword=-0.1, dense=1.0)
