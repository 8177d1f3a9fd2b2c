"""The server's one assistant, shared by every browser session behind a lock.

Gradio runs handlers in threads; the assistant's SQLite connection and in-memory FAISS index are
not meant for concurrent writers, so calls are serialised (a question takes ~0.1 s; an upload
holds the lock while it ingests).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from qa import Answer, ArticleInfo, Assistant, Filters, IngestReport, Turn

UPLOADS = "uploads"


class AppState:
    def __init__(self, index_dir: Path, model: str | None = None) -> None:
        self.index_dir = index_dir
        self.model = model
        self.lock = threading.RLock()
        self._assistant: Assistant | None = None

    @property
    def assistant(self) -> Assistant:
        with self.lock:
            if self._assistant is None:
                self._assistant = Assistant.open(self.index_dir, model=self.model)
            return self._assistant

    @property
    def upload_dir(self) -> Path:
        return self.index_dir / UPLOADS

    def warm_up(self) -> None:
        """Load the model now, so the first question does not wait for it."""
        with self.lock:
            if self.assistant.config is not None:
                self.assistant.search("warm up", k=1)

    def ask(self, question: str, history: list[Turn], k: int, filters: Filters | None) -> Answer:
        with self.lock:
            return self.assistant.ask(question, history=history, k=k, filters=filters)

    def ingest(self, paths: list[Path], progress: Callable[[str, int, int], None]) -> IngestReport:
        with self.lock:
            return self.assistant.ingest(paths, progress=progress)

    def remove(self, article_ids: list[str]) -> list[str]:
        with self.lock:
            return self.assistant.remove(article_ids)

    def articles(self) -> list[ArticleInfo]:
        with self.lock:
            return self.assistant.articles()

    def close(self) -> None:
        with self.lock:
            if self._assistant is not None:
                self._assistant.close()
                self._assistant = None
