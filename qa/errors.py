"""The errors article-qa raises on purpose.

Every message is written for the person at the keyboard: it says what happened and what to do.
The CLI and the UI show ``str(error)`` as it is, so keep messages short and free of tracebacks.
"""

from __future__ import annotations


class QAError(Exception):
    """Base class: catch this to handle every error article-qa raises on purpose."""


class IndexNotFoundError(QAError):
    """The index folder does not exist (for commands that only read it)."""


class IndexEmptyError(QAError):
    """The index has no articles to search yet."""


class IndexFormatError(QAError):
    """The index folder holds something this version cannot read, or its files are damaged."""


class IndexBusyError(QAError):
    """Another process is writing to the same index."""


class ModelError(QAError):
    """The embedding model could not be loaded."""


class ModelMismatchError(QAError):
    """The index was built with another model than the one asked for."""


class ArticleError(QAError):
    """One file or record could not be read as an article. ``source`` names it."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class ArticleNotFoundError(QAError):
    """``remove`` was given an id or path that matches no article."""
