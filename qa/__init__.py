"""article-qa: answers about your articles, with a citation for every sentence."""

from qa.assistant import Assistant
from qa.errors import (
    ArticleError,
    ArticleNotFoundError,
    IndexBusyError,
    IndexEmptyError,
    IndexFormatError,
    IndexNotFoundError,
    ModelError,
    ModelMismatchError,
    QAError,
)
from qa.types import (
    Answer,
    Article,
    ArticleInfo,
    Chunk,
    Citation,
    Filters,
    IndexStats,
    IngestFailure,
    IngestReport,
    Passage,
    Turn,
)

__all__ = [
    "Answer",
    "Article",
    "ArticleError",
    "ArticleInfo",
    "ArticleNotFoundError",
    "Assistant",
    "Chunk",
    "Citation",
    "Filters",
    "IndexBusyError",
    "IndexEmptyError",
    "IndexFormatError",
    "IndexNotFoundError",
    "IndexStats",
    "IngestFailure",
    "IngestReport",
    "ModelError",
    "ModelMismatchError",
    "Passage",
    "QAError",
    "Turn",
]
