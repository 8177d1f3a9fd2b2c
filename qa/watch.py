"""Folders that stay in sync: ``qa watch PATH...`` (and ``qa serve --watch PATH``).

First one full ingest with ``prune`` (what changed while nobody watched is caught up, files
deleted meanwhile leave the index), then every change watchfiles reports (inotify, FSEvents or
ReadDirectoryChangesW underneath) is applied incrementally: a created or edited file is
ingested (only its changed chunks are embedded), a deleted file or folder has its articles
removed, and each change prints one line. Every step is an ordinary ingest or remove, so an
interrupted watch loses nothing: what was written stays, and the next start catches up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import ArticleNotFoundError
from qa.pipeline.corpus import may_hold_articles
from qa.wording import plural

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.types import IngestReport

# Changes closer together than this are applied as one batch (an editor's save is often a
# write, a rename and a chmod within a few milliseconds).
DEBOUNCE_MS = 300
# An idle watch returns an empty batch this often: it bounds how long the first sync waits for
# the watcher to be up (the batch it waits for) and costs one wake-up of Python per interval.
IDLE_YIELD_MS = 200

Log = Callable[[str], None]


class Watcher:
    """Keeps the index of ``get_assistant()`` in sync with ``paths``.

    ``lock`` is held around each ingest or removal (the web UI shares its assistant).
    """

    def __init__(
        self,
        get_assistant: Callable[[], Assistant],
        paths: Iterable[str | Path],
        log: Log = print,
        lock: AbstractContextManager[object] | None = None,
    ) -> None:
        self.get_assistant = get_assistant
        self.paths = [Path(p).expanduser().resolve() for p in paths]
        self.log = log
        self.lock = lock or nullcontext()
        missing = [str(p) for p in self.paths if not p.exists()]
        if missing:
            raise ArticleNotFoundError(f"Cannot watch {', '.join(missing)}: no such file or folder")

    def _ignored(self, path: Path) -> bool:
        """Hidden files, unsupported types, example questions, and the index folder itself (its
        config.json would otherwise be read as an article)."""
        return self._hidden_or_index(path) or not may_hold_articles(path)

    def _hidden_or_index(self, path: Path) -> bool:
        index_dir = self.get_assistant().index_dir.resolve()
        if path == index_dir or path.is_relative_to(index_dir):
            return True
        for root in self.paths:
            if path.is_relative_to(root):
                inside = path.relative_to(root).parts
                if any(part.startswith(".") for part in inside):
                    return True
        return False

    def sync(self) -> IngestReport:
        """Catch up with everything under ``paths``, removing articles of deleted files."""
        with self.lock:
            report = self.get_assistant().ingest(self.paths, prune=True)
        for failure in report.failed:
            self.log(f"failed: {failure}")
        self.log(f"in sync: {report.summary()}")
        return report

    def apply(
        self, changed: Iterable[Path], deleted: Iterable[Path], folders: Iterable[Path] = ()
    ) -> None:
        """Ingest ``changed`` files and the content of new ``folders``, remove the articles of
        ``deleted`` files or folders."""
        for path in sorted(set(deleted)):
            if path.exists():
                continue  # deleted and created again within one batch: it is in ``changed``
            try:
                with self.lock:
                    removed = self.get_assistant().remove([str(path)])
            except ArticleNotFoundError:
                continue  # a file of another type, or one that never had articles
            self.log(f"removed {path} ({plural(len(removed), 'article')})")
        for path in sorted(set(changed)):
            if path.is_file() and not self._ignored(path):
                self._ingest(path)
        # A new folder (or one moved in) is one event: files made in it before the watcher
        # added the folder (inotify watches each folder by itself) send none, so its whole
        # content is ingested; files already in the index cost nothing. (CI once missed two
        # files written just after their folder was made.)
        for path in sorted(set(folders)):
            if path.is_dir() and not self._hidden_or_index(path):
                self._ingest(path)

    def _ingest(self, path: Path) -> None:
        """Ingest one file or folder and say what changed."""
        with self.lock:
            report = self.get_assistant().ingest([path])
        for failure in report.failed:
            self.log(f"failed: {failure}")
        if report.added:
            self.log(f"added {path} ({plural(len(report.added), 'article')})")
        if report.updated:
            self.log(
                f"updated {path} ({plural(len(report.updated), 'article')}, "
                f"{plural(report.chunks_embedded, 'chunk')} embedded, "
                f"{report.chunks_reused} reused)"
            )
        if report.removed:
            self.log(f"removed {plural(len(report.removed), 'article')} no longer in {path}")

    def run(self, stop: threading.Event | None = None) -> None:
        """Start watching, sync, then apply changes until ``stop`` is set (or Ctrl-C)."""
        import watchfiles

        # Watch first, then sync: a change made while the first sync runs (long for a large
        # folder on a real model) then arrives as a batch, instead of waiting for the next start.
        # The first (empty) batch comes once the watcher is up; applying a change the sync
        # already took is a no-op.
        synced = False
        for changes in watchfiles.watch(
            *self.paths,
            stop_event=stop,
            debounce=DEBOUNCE_MS,
            step=50,
            rust_timeout=IDLE_YIELD_MS,
            yield_on_timeout=True,
            raise_interrupt=True,
        ):
            if not synced:
                self.sync()
                synced = True
            if not changes:
                continue
            changed: list[Path] = []
            deleted: list[Path] = []
            folders: list[Path] = []
            for change, raw in changes:
                path = Path(raw)
                if change == watchfiles.Change.deleted:
                    deleted.append(path)
                elif change == watchfiles.Change.added and path.is_dir():
                    folders.append(path)
                else:
                    changed.append(path)
            self.apply(changed, deleted, folders)


def watch_in_thread(watcher: Watcher) -> tuple[threading.Thread, threading.Event]:
    """Run ``watcher`` in a daemon thread (``qa serve --watch``); set the event to stop it."""
    stop = threading.Event()

    def target() -> None:
        try:
            watcher.run(stop)
        except Exception as error:  # keep the server up; say why watching stopped
            watcher.log(f"watching stopped: {error}")

    thread = threading.Thread(target=target, name="qa-watch", daemon=True)
    thread.start()
    return thread, stop
