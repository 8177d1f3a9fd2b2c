"""Where an index keeps its chunks and searches them (docs/scaling-out.md).

``base`` holds the two protocols the rest of the package uses (``Catalog`` for ingest and
listing, ``SearchIndex`` for retrieval); ``embedded`` is the default (SQLite + FAISS in the
index folder) and ``milvus`` the optional Milvus store (``pip install 'article-qa[milvus]'``).
"""
