"""The server's reading assistant, shared by every browser session behind a lock, and its writer.

Gradio runs handlers in threads; the assistant's SQLite connection and in-memory FAISS index are
not meant for concurrent use, so reads are serialised (a question takes ~0.1 s). Writes (uploads,
web addresses, removals) never take that lock: they are jobs for the writer (``ui.jobs``), a
worker thread with its own assistant, so questions are answered from the last committed state
while an upload is indexed.

Other processes may change the index while the server runs (``qa ingest`` in a terminal): the
assistant follows their writes itself (each question reads one consistent state and reloads the
vectors when the index changed), and this state reopens it when the assistant says the index
was created or replaced since (``Assistant.replaced``), so the server never needs a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from qa import Answer, ArticleInfo, Assistant, Filters, IngestReport, Turn
from qa.conversations import Conversations
from qa.wording import plural
from ui.guard import OwnedFiles
from ui.jobs import Progress, Writer

if TYPE_CHECKING:
    from qa.llm import LLMConfig, Token, Verdict
    from qa.scope import Scope

UPLOADS = "uploads"


class AppState:
    def __init__(
        self,
        index_dir: Path,
        model: str | None = None,
        llm: LLMConfig | None = None,
        allow_private_urls: bool = False,
        reader: bool = True,
    ) -> None:
        self.index_dir = index_dir
        self.model = model
        self.llm = llm  # a language model writes the answers when set (qa serve --llm)
        self.reader = reader  # answers chosen by the trained reader (qa serve --no-reader: not)
        # Web addresses a visitor adds may not reach this server's own network unless the
        # operator says so (qa serve --allow-private-urls); see qa/pipeline/readers/web.py.
        self.allow_private_urls = allow_private_urls
        self.lock = threading.RLock()
        self._assistant: Assistant | None = None
        # Its own SQLite file and connections: saving a chat never waits for the index lock.
        self.conversations = Conversations(index_dir)
        self.writer = Writer(index_dir, self._open_writer)
        # Exported conversations and who made each: its link works for that user only.
        self.exports = OwnedFiles()

    def _open_writer(self) -> Assistant:
        """The writer's own assistant on the folder, with the readers' model (loaded once)."""
        with self.lock:
            embedder = self.assistant.embedder
        return Assistant.open(self.index_dir, embedder=embedder)

    @property
    def assistant(self) -> Assistant:
        with self.lock:
            if self._assistant is not None and self._assistant.replaced():
                old, self._assistant = self._assistant, None  # closed, even if opening fails
                self._assistant = old.reopen(self.model)
            if self._assistant is None:
                self._assistant = Assistant.open(
                    self.index_dir, model=self.model, reader=self.reader
                )
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

    def ask_stream(
        self, question: str, history: list[Turn], k: int, filters: Filters | None
    ) -> Iterator[Token | Verdict | Answer]:
        """The model's words, then the answer checked as ``self.llm.check`` says (``self.llm``
        must be set), as ``Assistant.ask_stream`` does. The index lock covers retrieval and
        loading the verifier only: the model may take a minute, and Gradio may resume a
        generator on another thread (a lock held across ``yield`` could not be released there)."""
        from qa.llm import generate

        assert self.llm is not None
        with self.lock:
            reply = self.assistant.ask(question, history=history, k=k, filters=filters)
            assistant = self.assistant
            verifier = assistant.verifier(self.llm)
        yield from generate(
            question, reply.passages, reply, assistant.embedder, self.llm, history, verifier
        )

    def ingest(self, paths: list[Path] | list[str], progress: Progress | None) -> IngestReport:
        """Ingest ``paths`` in the writer, showing its progress; questions go on meanwhile."""
        allow = self.allow_private_urls
        job = self.writer.submit(
            f"ingest of {len(paths)} paths",
            lambda assistant, report: assistant.ingest(
                paths, progress=report, allow_private_urls=allow
            ),
        )
        report: IngestReport = job.result(progress)
        return report

    def remove(self, article_ids: list[str]) -> list[str]:
        job = self.writer.submit(
            f"removal of {plural(len(article_ids), 'article')}",
            lambda assistant, _progress: assistant.remove(article_ids),
        )
        removed: list[str] = job.result()
        return removed

    def articles(self) -> list[ArticleInfo]:
        with self.lock:
            return self.assistant.articles()

    def article(self, key: str) -> ArticleInfo | None:
        with self.lock:
            return self.assistant.article(key)

    def scope(self, filters: Filters | None) -> Scope:
        with self.lock:
            return self.assistant.scope(filters)

    def close(self) -> None:
        self.writer.close()
        with self.lock:
            if self._assistant is not None:
                self._assistant.close()
                self._assistant = None
