"""The Milvus store (``pip install 'article-qa[milvus]'``): ``store`` and its ``check``."""
