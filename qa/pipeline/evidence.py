"""Stored sentence vectors for answering: the answer scores each sentence of its passages with
the vector ingest stored for it (qa/pipeline/ingest.py), so an answer embeds nothing now.

Today's answers embedded up to ``SENTENCES_SCORED`` sentences per question (~6 ms each on two
cores); with the stored vectors every sentence of the passages read is scored instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.pipeline.answer import PASSAGES_READ, SentenceKey
from qa.stores.base import SentenceSearch
from qa.types import Passage


def stored_sentence_vectors(
    store: object, passages: Sequence[Passage], count: int = PASSAGES_READ
) -> dict[SentenceKey, np.ndarray] | None:
    """(article id, start, end) -> stored vector, for the sentences of the first ``count``
    passages (those an answer reads); None where ``store`` (a retriever's ``sentences``) keeps
    none (the answer then embeds its sentences)."""
    if not isinstance(store, SentenceSearch) or not passages:
        return None
    read = list(passages[:count])
    rows = store.sentence_rows([passage.chunk_id for passage in read])
    article_of = {passage.chunk_id: passage.article_id for passage in read}
    return {
        (article_of[int(chunk_id)], int(start), int(end)): vector
        for chunk_id, start, end, vector in zip(
            rows.chunk_ids, rows.starts, rows.ends, rows.vectors, strict=True
        )
    }
