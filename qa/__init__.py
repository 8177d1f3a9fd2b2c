"""article-qa: answers about your articles, with a citation for every sentence.

The public names load on first use (module ``__getattr__``): ``import qa.errors`` or the CLI's
``qa --help`` must not pay for numpy and the whole pipeline behind ``Assistant``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.conversations import Conversation, ConversationInfo, Conversations
    from qa.errors import (
        ArticleError,
        ArticleNotFoundError,
        DiskFullError,
        FilterError,
        IndexBusyError,
        IndexConfigError,
        IndexEmptyError,
        IndexFormatError,
        IndexNotFoundError,
        IndexPermissionError,
        ModelError,
        ModelMismatchError,
        NoMatchingArticlesError,
        QAError,
        SearchOptionError,
        WorkersError,
    )
    from qa.types import (
        Answer,
        Article,
        ArticleInfo,
        Chunk,
        Citation,
        Excerpt,
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
    "Conversation",
    "ConversationInfo",
    "Conversations",
    "DiskFullError",
    "Excerpt",
    "FilterError",
    "Filters",
    "IndexBusyError",
    "IndexConfigError",
    "IndexEmptyError",
    "IndexFormatError",
    "IndexNotFoundError",
    "IndexPermissionError",
    "IndexStats",
    "IngestFailure",
    "IngestReport",
    "ModelError",
    "ModelMismatchError",
    "NoMatchingArticlesError",
    "Passage",
    "QAError",
    "SearchOptionError",
    "Turn",
    "WorkersError",
]

# Public name -> the module that defines it.
_HOMES = {
    "Assistant": "qa.assistant",
    **dict.fromkeys(("Conversation", "ConversationInfo", "Conversations"), "qa.conversations"),
    **dict.fromkeys(
        (
            "ArticleError",
            "ArticleNotFoundError",
            "DiskFullError",
            "FilterError",
            "IndexBusyError",
            "IndexConfigError",
            "IndexEmptyError",
            "IndexFormatError",
            "IndexNotFoundError",
            "IndexPermissionError",
            "ModelError",
            "ModelMismatchError",
            "NoMatchingArticlesError",
            "QAError",
            "SearchOptionError",
            "WorkersError",
        ),
        "qa.errors",
    ),
    **dict.fromkeys(
        (
            "Answer",
            "Article",
            "ArticleInfo",
            "Chunk",
            "Citation",
            "Excerpt",
            "Filters",
            "IndexStats",
            "IngestFailure",
            "IngestReport",
            "Passage",
            "Turn",
        ),
        "qa.types",
    ),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
