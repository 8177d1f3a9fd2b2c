"""The Milvus store (``pip install 'article-qa[milvus]'``): ``store`` (``MilvusStore``), ``address``
(the ``--store`` values), ``schema`` (collections and rows), ``lite`` (pymilvus, Milvus Lite's
server) and ``check``."""
