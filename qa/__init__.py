"""article-qa: answers about your articles, with a citation for every sentence."""

from qa.assistant import Assistant
from qa.errors import (
    ArticleError,
    ArticleNotFoundError,
    IndexBusyError,
    IndexFormatError,
    IndexNotFoundError,
    ModelError,
    ModelMismatchError,
    QAError,
)
from qa.types import Article, ArticleInfo, Chunk, IndexStats, IngestFailure, IngestReport

__all__ = [
    "Article",
    "ArticleError",
    "ArticleInfo",
    "ArticleNotFoundError",
    "Assistant",
    "Chunk",
    "IndexBusyError",
    "IndexFormatError",
    "IndexNotFoundError",
    "IndexStats",
    "IngestFailure",
    "IngestReport",
    "ModelError",
    "ModelMismatchError",
    "QAError",
]
