"""How both stores score keywords: BM25 as the embedded store's SQLite FTS5 setup has it.

The embedded store's impact index (``qa.stores.embedded.bm25``) precomputes these scores and the
Milvus store hands the same parameters to Milvus's BM25 (``qa.stores.milvus.schema``), so a
keyword search ranks alike on either store. Terms come from ``qa.lexical.terms``.
"""

from __future__ import annotations

K1, B = 1.2, 0.75  # BM25's term-frequency saturation and length normalisation (FTS5's defaults)
TITLE_WEIGHT = 0.5  # a title word counts half a text word (bm25(chunks_fts, 0.5, 1.0))
