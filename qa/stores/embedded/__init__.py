"""The embedded store: everything in the index folder (SQLite catalog ``sqlite``, FAISS vectors
and FTS5 search ``search``, the BM25 impact index ``bm25``, cache files ``caches``, ``check``)."""
