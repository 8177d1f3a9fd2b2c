"""Writes from the web UI in a background worker: a question never waits for an upload.

The server answers questions with its reading assistant (``ui.state.AppState``), which follows
what writers commit: each question reads one consistent, committed state of the index, even
while an ingest writes the next one. Uploads, web addresses and removals are ``Job``s for one
writer thread with its own ``Assistant`` on the same folder (sharing the loaded model), so they
never hold the readers' lock. Each job keeps its own progress (stage, done, total), which the
handler that submitted it shows while it waits:

    job = writer.submit("upload of 2 files", lambda assistant, progress: assistant.ingest(...))
    report = job.result(progress=show)      # polls the job; the work goes on in the worker
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa import Assistant

Progress = Callable[[str, int, int], None]
Work = Callable[[Assistant, Progress], Any]
POLL_S = 0.1  # how often a waiting handler looks at its job's progress


@dataclass
class Job:
    """One write, queued or running in the worker; ``result()`` waits for it."""

    id: int
    label: str
    work: Work
    stage: str = "waiting for the writer"
    done: int = 0
    total: int = 0
    finished: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total

    def result(self, progress: Progress | None = None, timeout_s: float | None = None) -> Any:
        """Wait for the job (showing its progress through ``progress``); its value, or its
        error raised here."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        shown: tuple[str, int, int] | None = None
        while not self.finished.wait(POLL_S):
            if progress is not None and (self.stage, self.done, self.total) != shown:
                shown = (self.stage, self.done, self.total)
                progress(*shown)
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"{self.label} is still running")
        if self.error is not None:
            raise self.error
        return self.value


class Writer:
    """The one writer of the server: runs ``Job``s in turn on a daemon thread.

    ``open_assistant()`` opens the writer's own ``Assistant`` (the state passes one sharing
    the readers' model); it is opened again when the index was replaced
    (``Assistant.replaced``).
    """

    def __init__(self, index_dir: Path, open_assistant: Callable[[], Assistant]) -> None:
        self.index_dir = index_dir
        self._open = open_assistant
        self._assistant: Assistant | None = None
        # Held around each job, and by `qa serve --watch` around its writes (never by readers).
        self.lock = threading.RLock()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self.current: Job | None = None

    def submit(self, label: str, work: Work) -> Job:
        job = Job(next(self._ids), label, work)
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="qa-writer", daemon=True)
            self._thread.start()
        self._queue.put(job)
        return job

    def assistant(self) -> Assistant:
        """The writer's assistant (hold ``lock`` while using it)."""
        with self.lock:
            if self._assistant is not None and self._assistant.replaced():
                self._assistant.close()  # the index was created or replaced meanwhile
                self._assistant = None
            if self._assistant is None:
                self._assistant = self._open()
            return self._assistant

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            self.current = job
            try:
                with self.lock:
                    job.value = job.work(self.assistant(), job.progress)
            except BaseException as error:  # handed to whoever waits for the job
                job.error = error
            finally:
                self.current = None
                job.finished.set()

    def close(self) -> None:
        self._queue.put(None)
        with self.lock:
            if self._assistant is not None:
                self._assistant.close()
                self._assistant = None
