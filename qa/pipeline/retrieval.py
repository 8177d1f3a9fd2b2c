"""Hybrid retrieval: keyword (BM25), chunk-dense and sentence-dense scores, fused by z-scores.

The searches themselves belong to the store (``qa.stores``: FAISS + SQLite FTS5, or Milvus).

Both searches return their top candidates; every candidate then gets every score (its exact
cosine from its stored vector, its BM25 or 0 when no keyword matched, and, where the store keeps
sentence vectors, the cosine of its best sentence), each score is turned into a z-score over the
candidates, and the z-scores are mixed with fixed weights. z-scores keep how far ahead the best
candidate is, which reciprocal rank fusion throws away (RRF loses R@1 to BM25 alone on both dev
files, docs/evidence.md). The weights were chosen on SQuAD dev and NYT dev together; the table
is beside ``SENTENCE_FUSION`` below and the command in docs/evidence.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import numpy.typing as npt

from embeddings import Embedder
from qa.errors import SearchOptionError
from qa.lexical import content_words
from qa.stores.base import SearchIndex
from qa.types import Filters, Passage


@dataclass(frozen=True)
class FusionWeights:
    """Weights of the keyword, chunk-dense and best-sentence-dense z-scores."""

    keyword: float
    dense: float
    sentence: float = 0.0

    def __post_init__(self) -> None:
        if min(self.keyword, self.dense, self.sentence) < 0:
            raise ValueError(f"fusion weights must be at least 0. Currently, they are {self}")

    @property
    def dense_share(self) -> float:
        """The chunk-dense part of the two-way (dense + keyword) weight."""
        return round(self.dense / max(self.dense + self.keyword, 1e-9), 6)

    def with_dense_share(self, dense: float) -> FusionWeights:
        """These weights with ``dense`` of the two-way part for the chunk vectors and the rest
        for keywords, the sentence weight unchanged (what ``qa eval --split`` tunes)."""
        share = 1 - self.sentence
        return replace(self, dense=round(dense * share, 6), keyword=round((1 - dense) * share, 6))


# Chosen by benchmarks/quality_research/fusion.py on all questions of SQuAD dev (10,565) and NYT dev
# (4,858) together: the best mean of (R@1 + MRR@10) / 2 over the two files among z-score, median/
# MAD and min-max normalisation, confidence-scaled weights, RRF and a grid of weights; the even
# and odd articles agree. Paragraph chunks, onnx-int8 vectors, candidates = top 50 of each search:
#   keyword alone            SQuAD R@1 .772 R@5 .925 MRR .839 | NYT .780 .905 .834
#   chunk dense alone              .596     .841     .701     |     .510 .741 .610
#   best-sentence dense alone      .714     .906     .796     |     .617 .817 .702
#   CHUNK_FUSION (0.6 : 0.4)       .800     .950     .865     |     .799 .925 .854
#   SENTENCE_FUSION (.45:.15:.40)  .830     .961     .887     |     .818 .932 .868
#   RRF (k=60) of the three        .758     .941     .837     |     .691 .872 .770
# SENTENCE_FUSION needs per-sentence vectors from the store (phase 2 of issue 15); until a store
# provides them, CHUNK_FUSION is used: the best two-way weights on the same files.
SENTENCE_FUSION = FusionWeights(keyword=0.45, dense=0.15, sentence=0.40)
CHUNK_FUSION = FusionWeights(keyword=0.6, dense=0.4)
# Kept for callers of the former module constants (the two-way weights).
DENSE_WEIGHT = CHUNK_FUSION.dense
KEYWORD_WEIGHT = CHUNK_FUSION.keyword
# Baselines first: the order `qa eval --compare` reports them in.
MODES = ("keyword", "dense", "hybrid")
# What `Assistant.search` takes: the retriever's modes, and "reader" (hybrid, then re-ranked by
# the trained reader, qa.pipeline.reader).
SEARCH_MODES = (*MODES, "reader")
# Candidates each search contributes before fusion, per passage asked for (at least MIN).
CANDIDATES_PER_RESULT = 5
MIN_CANDIDATES = 50


class SentenceVectors(Protocol):
    """What a store provides for sentence evidence (phase 2): each given chunk's best stored
    sentence cosine with the query (``qa.stores.base.SentenceSearch``)."""

    def best_sentence_cosines(
        self, query_vector: npt.NDArray[np.float32], chunk_ids: list[int]
    ) -> dict[int, float]: ...


@dataclass(frozen=True)
class Scored:
    chunk_id: int
    fused: float
    dense: float
    keyword: float
    sentence: float | None = None


def zscores(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    spread = float(values.std())
    if spread < 1e-9:
        return np.zeros_like(values)
    return (values - values.mean()) / spread


def fuse(
    dense: Mapping[int, float],
    keyword: Mapping[int, float],
    dense_weight: float = DENSE_WEIGHT,
    keyword_weight: float = KEYWORD_WEIGHT,
    sentence: Mapping[int, float] | None = None,
    sentence_weight: float = 0.0,
) -> list[Scored]:
    """Mix complete score maps over the same candidates (``dense``'s keys); best first, ties by
    chunk id. ``keyword`` may miss candidates (BM25 0); ``sentence`` must cover them all."""
    if not dense:
        return []
    ids = sorted(dense)
    d = np.array([dense[i] for i in ids], dtype=np.float64)
    k = np.array([keyword.get(i, 0.0) for i in ids], dtype=np.float64)
    fused = dense_weight * zscores(d) + keyword_weight * zscores(k)
    s = None
    if sentence is not None and sentence_weight:
        s = np.array([sentence[i] for i in ids], dtype=np.float64)
        fused = fused + sentence_weight * zscores(s)
    # Best first; ids are ascending, so a stable sort breaks ties by chunk id.
    order = np.argsort(-fused, kind="stable").tolist()
    sentences = [None] * len(ids) if s is None else s.tolist()
    rows = list(zip(ids, fused.tolist(), d.tolist(), k.tolist(), sentences, strict=True))
    return [Scored(*rows[n]) for n in order]


class Retriever:
    """Searches one index (its ``SearchIndex``, embedded or Milvus, and its model)."""

    def __init__(
        self,
        index: SearchIndex,
        embedder: Embedder,
        weights: FusionWeights | None = None,
        sentences: SentenceVectors | None = None,
    ) -> None:
        """``sentences``: where sentence vectors come from (the store, once it keeps them);
        ``weights`` default to SENTENCE_FUSION with sentence vectors, else CHUNK_FUSION."""
        self.index = index
        self.embedder = embedder
        self.sentences = sentences
        self.weights = weights or self.default_weights

    @property
    def default_weights(self) -> FusionWeights:
        """SENTENCE_FUSION when sentence vectors are available, else CHUNK_FUSION."""
        return SENTENCE_FUSION if self.sentences is not None else CHUNK_FUSION

    def unmentioned(self, names: Sequence[str], filters: Filters | None = None) -> tuple[str, ...]:
        """The ``names`` (see ``qa.pipeline.reader.names``) that no chunk passing ``filters``
        contains, as the keyword search matches words (stemmed; stop words never count)."""
        if filters is not None and filters.empty:
            filters = None
        return tuple(
            name
            for name in names
            if content_words(name) and not self.index.keyword_search_text(name, 1, filters)
        )

    def search(
        self,
        query: str,
        k: int = 5,
        filters: Filters | None = None,
        query_vector: npt.NDArray[np.float32] | None = None,
        mode: str = "hybrid",
    ) -> list[Passage]:
        """Top ``k`` passages; ``mode`` "dense" or "keyword" uses one search alone (baselines)."""
        if k < 1:
            raise SearchOptionError(f"k must be greater than 0. Currently, k is {k}")
        if mode not in MODES:
            raise SearchOptionError(
                f"mode must be one of {', '.join(MODES)}. Currently, mode is {mode!r}"
            )
        if filters is not None and filters.empty:
            filters = None
        vector = query_vector if query_vector is not None else self.embedder.embed([query])[0]
        wanted = max(MIN_CANDIDATES, k * CANDIDATES_PER_RESULT)
        dense = dict(self.index.dense_search(vector, wanted, filters))
        keyword = dict(self.index.keyword_search_text(query, wanted, filters))
        if mode == "keyword":
            dense = self._cosines(list(keyword), vector)
            ranked = fuse(dense, keyword, 0.0, 1.0)[:k] if keyword else []
        else:
            # Exact cosine for keyword-only hits, from their stored vectors.
            dense.update(self._cosines(sorted(keyword.keys() - dense.keys()), vector))
            if mode == "dense":
                dense = {i: dense[i] for i in sorted(dense, key=lambda i: -dense[i])[:wanted]}
                ranked = fuse(dense, {}, 1.0, 0.0)[:k]
            else:
                ranked = self.fuse(dense, keyword, vector)[:k]
        rows = self.index.passage_rows([s.chunk_id for s in ranked])
        # A ranked chunk without a row is left out: a writer deleted it since the search, or
        # damage cut it from its article (``qa check`` reports that; found by benchmarks/
        # damage_probe.py, a flipped bit in a chunk's article id).
        ranked = [scored for scored in ranked if scored.chunk_id in rows]
        passages = []
        for rank, scored in enumerate(ranked, start=1):
            row = rows[scored.chunk_id]
            passages.append(
                Passage(
                    chunk_id=scored.chunk_id,
                    article_id=row.article_id,
                    title=row.title,
                    url=row.url,
                    date=row.date,
                    source=row.source,
                    text=row.text,
                    start=row.start,
                    end=row.end,
                    score=scored.fused,
                    rank=rank,
                    dense_score=scored.dense,
                    keyword_score=scored.keyword,
                )
            )
        return passages

    def fuse(
        self,
        dense: dict[int, float],
        keyword: dict[int, float],
        vector: npt.NDArray[np.float32],
    ) -> list[Scored]:
        """The hybrid ranking of the candidates ``dense`` (all of them, keyword hits included)."""
        w = self.weights
        sentence = None
        if self.sentences is not None and w.sentence:
            ids = sorted(dense)
            best = self.sentences.best_sentence_cosines(vector, ids)
            # A chunk without sentence vectors scores its own cosine: never worse than absent.
            sentence = {i: best.get(i, dense[i]) for i in ids}
        return fuse(dense, keyword, w.dense, w.keyword, sentence, w.sentence)

    def _cosines(self, chunk_ids: list[int], vector: npt.NDArray[np.float32]) -> dict[int, float]:
        return self.index.cosines(vector, chunk_ids) if chunk_ids else {}
