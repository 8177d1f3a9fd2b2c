"""One writer per index: an advisory file lock held for the length of an ingest or remove."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from qa.errors import IndexBusyError
from qa.layout import LOCK_FILE


class WriteLock:
    """``with WriteLock(folder):`` raises ``IndexBusyError`` if another process holds it.

    The operating system releases the lock when the holder exits, however it exits (kill -9
    included), so a crashed ingest never leaves the index locked.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> WriteLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise IndexBusyError(
                f"The index in {self.path.parent} is being written by process {holder}. "
                "Wait for it to finish, then run this again."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
