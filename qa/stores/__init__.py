"""Where an index keeps its chunks and searches them (docs/scaling-out.md).

``base`` holds the protocols the rest of the package uses (``Catalog`` for ingest and listing,
``SearchIndex`` for retrieval, ``Maintenance`` for upkeep and ``qa check``; ``IndexStore`` is all
three); ``factory.open_store`` picks the store of an index once. ``embedded`` is the default
(``EmbeddedStore``: SQLite + FAISS in the index folder) and ``milvus`` the optional Milvus store
(``MilvusStore``, ``pip install 'article-qa[milvus]'``).
"""
