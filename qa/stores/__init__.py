"""Where an index keeps its chunks and searches them (docs/architecture.md, docs/scaling-out.md).

``base`` holds the store contract (small protocols per concern; ``IndexStore`` is all of them),
``factory`` the table of stores and ``open_store``, which picks the store of an index once.
``embedded`` is the default (``EmbeddedStore``: SQLite + FAISS in the index folder) and ``milvus``
the optional Milvus store (``MilvusStore``, ``pip install 'article-qa[milvus]'``); ``keywords``
holds the BM25 parameters both use.
"""
