"""The errors article-qa raises on purpose.

Every message is written for the person at the keyboard: it says what happened and what to do.
The CLI and the UI show ``str(error)`` as it is, so keep messages short and free of tracebacks.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.layout import DB_FILE


class QAError(Exception):
    """Base class: catch this to handle every error article-qa raises on purpose."""


class SearchOptionError(QAError, ValueError):
    """A search asked for something out of range (``k`` < 1, an unknown mode); a ValueError
    too, for callers written before it was a QAError."""


class FilterError(SearchOptionError):
    """A search filter that cannot be used: a date that is not one (qa/dates.py), or a start
    date after the end date."""


class NoMatchingArticlesError(QAError):
    """The filters leave no article to search (the message says how many have no date)."""


class ConversationNotFoundError(QAError):
    """No saved conversation with that id for this user (``qa history``, ``qa chat --resume``)."""


class IndexNotFoundError(QAError):
    """The index folder does not exist (for commands that only read it)."""


class IndexEmptyError(QAError):
    """The index has no articles to search yet."""


class IndexFormatError(QAError):
    """The index folder holds something this version cannot read, or its files are damaged."""


CONFIG_REPAIR_HINT = (
    "Run `qa check --repair`, which rebuilds it from the copy the index database keeps (the "
    "stored model name and settings)."
)


class IndexConfigError(IndexFormatError):
    """The index's ``config.json`` is missing, damaged or disagrees with the copy its database
    keeps; ``qa check --repair`` rebuilds it from that copy. ``what`` says what is wrong."""

    def __init__(self, what: str, hint: str = CONFIG_REPAIR_HINT) -> None:
        super().__init__(f"{what} {hint}".strip())
        self.what = what


class IndexBusyError(QAError):
    """Another process is writing to the same index."""


class ModelError(QAError):
    """The embedding model could not be loaded."""


class ModelMismatchError(QAError):
    """The index was built with another model than the one asked for."""


class WorkersError(QAError):
    """``--workers`` could not be used: Ray is missing, unreachable, or its workers failed."""


class ArticleError(QAError):
    """One file or record could not be read as an article. ``source`` names it."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class ArticleNotFoundError(QAError):
    """``remove`` was given an id or path that matches no article."""


class DiskFullError(QAError):
    """The disk filled up during a write; what was committed before it is kept."""


class IndexPermissionError(QAError):
    """The index folder or one of its files may not be read or written by this user."""


class IndexFileError(QAError):
    """The operating system refused a file or folder of the index for another reason (a path
    that cannot be created, a symbolic link loop, ...)."""


@contextmanager
def translated_os_errors(folder: Path) -> Iterator[None]:
    """Turn a full disk or a refused permission, from the OS or SQLite, into a message.

    Writes are transactions (SQLite) or atomic renames (the FAISS file, the config), so a failed
    write leaves the index as it was before that write: the messages can say nothing was lost.
    """
    try:
        yield
    except sqlite3.DatabaseError as error:  # OperationalError included
        text = str(error).lower()
        if "disk is full" in text:
            raise DiskFullError(_disk_full(folder / DB_FILE)) from error
        if "readonly" in text or "unable to open" in text:
            raise IndexPermissionError(_denied(folder / DB_FILE, f"SQLite: {error}")) from error
        if "locked" in text or "busy" in text:
            raise IndexBusyError(
                f"The index database {folder / DB_FILE} stayed locked by another process "
                f"({error}). Wait for it to finish, then run this again."
            ) from error
        raise IndexFormatError(damaged_database(folder / DB_FILE, error)) from error
    except OSError as error:
        path = Path(error.filename) if error.filename else folder
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(_disk_full(path)) from error
        if isinstance(error, PermissionError) or error.errno in (errno.EACCES, errno.EPERM):
            raise IndexPermissionError(_denied(path)) from error
        if error.errno == errno.EROFS:
            raise IndexPermissionError(_denied(path, "the file system is read-only")) from error
        raise IndexFileError(
            f"Cannot use {path} ({error.strerror or error}). Check the path, or use another "
            "folder with --index."
        ) from error


def damaged_database(path: Path, error: BaseException) -> str:
    """The one line for a database SQLite refuses to read (bit flips, a dropped table, ...)."""
    reason = " ".join(str(error).split()) or type(error).__name__
    return (
        f"The index database {path} is damaged ({reason}). Run `qa check` to see what is "
        "wrong and `qa check --repair` to fix what can be fixed."
    )


def _disk_full(path: Path) -> str:
    return (
        f"The disk is full: could not write {path}. Nothing was lost: the index keeps everything "
        "saved before this write (each article is saved whole or not at all). Free some disk "
        "space, then run the same command again."
    )


def _denied(path: Path, why: str = "permission denied") -> str:
    return (
        f"Cannot write {path} ({why}). Nothing was changed. Make the index folder writable for "
        "you (check its owner and permissions), or use another folder with --index."
    )
