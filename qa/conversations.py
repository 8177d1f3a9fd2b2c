"""Saved conversations: each question and its answer (citations with quotes and offsets, time),
kept in a small SQLite file next to the index, per user.

``Conversations(index_dir)`` is the public API behind ``qa history``, ``qa chat --resume`` and the
web UI's saved conversations. A conversation belongs to one user (the web UI's login name with
``qa serve --auth``, ``None`` without a login and on the command line); every call takes the
user, and a user never sees, renames, deletes or exports another user's conversations (they read
as "no such conversation"). Answers are stored as ``Answer.to_dict()`` JSON, so a reopened turn
has everything the Sources panel and the exports need.

Kept apart from the index database on purpose: rebuilding or replacing the index (``qa ingest``
into a new folder, ``qa check --repair``) never touches the history, and the history file can
be deleted without harming the index.

    >>> chats = Conversations(index_dir)
    >>> conversation_id = chats.save(None, None, answer)   # a new conversation
    >>> chats.save(None, conversation_id, follow_up)       # its next turn
    >>> print(chats.markdown(None, conversation_id))
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qa.errors import ConversationNotFoundError, QAError
from qa.links import answer_dict, answer_links
from qa.types import Answer, Citation, Passage, SentenceCheck, Turn, now_iso
from qa.wording import plural

CONVERSATIONS_FILE = "conversations.sqlite"
TITLE_CHARS = 80  # a conversation is listed by its first question, cut to this length
NO_USER = ""  # stored for conversations without a login (SQLite compares NULLs awkwardly)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_user ON conversations (user, updated_at);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    asked_at TEXT NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
"""


@dataclass(frozen=True)
class ConversationInfo:
    """A row of ``qa history list``: the conversation's title is its first question until
    renamed."""

    id: str
    title: str
    turns: int
    created_at: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SavedTurn:
    """One question and its answer, with the time it was asked (UTC, ISO 8601)."""

    asked_at: str
    answer: Answer

    def to_dict(self) -> dict[str, Any]:
        """The turn as exported: ``Answer.to_dict()`` with each citation's ``link``."""
        return {"asked_at": self.asked_at, "answer": answer_dict(self.answer)}


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created_at: str
    updated_at: str
    turns: list[SavedTurn]

    @property
    def answers(self) -> list[Answer]:
        return [turn.answer for turn in self.turns]

    def history(self) -> list[Turn]:
        """The turns as follow-up history for ``Assistant.ask`` (as the chat builds it)."""
        return [Turn.of(a) for a in self.answers]

    def to_dict(self) -> dict[str, Any]:
        """The JSON export: the conversation and ``Answer.to_dict()`` of each turn, each
        citation with the link that opens its quote (qa/links.py)."""
        return {
            "id": self.id,
            "title": self.title,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "turns": [turn.to_dict() for turn in self.turns],
        }


def answer_from_dict(data: dict[str, Any]) -> Answer:
    """The inverse of ``Answer.to_dict()`` (for answers read back from the history, or from a
    JSON export, whose citations also carry their ``link``)."""
    fields = dict(data)
    fields["citations"] = [
        Citation(**{key: value for key, value in c.items() if key != "link"})
        for c in data.get("citations", [])
    ]
    fields["passages"] = [Passage(**p) for p in data.get("passages", [])]
    fields["sentences"] = [SentenceCheck(**s) for s in data.get("sentences", [])]
    return Answer(**fields)


def _quote(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def answer_text(reply: Answer, links: bool = False) -> str:
    """An answer as the command line prints it: the text with its ``[n]``, then one line per
    source (title, page, the quote, the address); for "not found", the possibly related
    passages. With ``links`` (the Markdown export), a source's address is the link that opens
    it at the quote (qa/links.py), and a local PDF's file at its page."""
    lines = [reply.text]
    if reply.citations:
        lines.append("")
        opened = answer_links(reply) if links else {}
        for citation in reply.citations:
            link = opened.get(citation.number) or citation.url
            where = f" ({link})" if link else ""
            page = f", p. {citation.page}" if citation.page else ""
            said = " ".join(citation.quote.split())  # a page break inside is a form feed
            lines.append(f'[{citation.number}] {citation.title}{page} — "{said}"{where}')
    elif reply.passages:
        from qa.pipeline.answer import related

        lines.append("")
        lines.append("Possibly related:")
        for passage in related(reply.passages):
            where = f" ({passage.url})" if passage.url else ""
            lines.append(f'  - {passage.title} — "{_quote(passage.text)}"{where}')
    return "\n".join(lines)


# A source line of ``answer_text``: "[1] Title, p. 4 — "the quote" (address)".
_SOURCE_LINE = re.compile(r'^\[\d+\] (.+?)(?:, p\. \d+)? — "', re.MULTILINE)


def cited_titles(content: str) -> list[str]:
    """The titles of ``answer_text``'s source lines in ``content``, in order (a chat client
    sends back an answer's text alone; its sources name the articles it quoted)."""
    return _SOURCE_LINE.findall(content.split("\n\n", 1)[1]) if "\n\n" in content else []


def conversation_markdown(conversation: Conversation) -> str:
    """The Markdown export: each question as a heading, its answer and sources as the CLI
    prints them (the sources as a list, so they render one per line)."""
    parts = [f"# {conversation.title}", ""]
    for number, turn in enumerate(conversation.turns, start=1):
        reply = turn.answer
        parts.append(f"## {number}. {reply.question}")
        parts.append("")
        parts.append(f"*{turn.asked_at}*")
        parts.append("")
        text, _, sources = answer_text(reply, links=True).partition("\n\n")
        parts.append(text)
        if sources:
            parts.append("")
            for line in sources.splitlines():
                line = line.strip()
                if line and not line.startswith("- "):
                    line = line if line.endswith(":") else f"- {line}"
                parts.append(line)
        parts.append("")
    return "\n".join(parts)


def turns_label(count: int) -> str:
    return plural(count, "turn")


def _user(user: str | None) -> str:
    return NO_USER if user is None else user


# The fewest characters of an id that `qa history` and `qa chat --resume` take for it (as git).
MIN_ID_PREFIX = 4


class Conversations:
    """The saved conversations of one index folder (``INDEX/conversations.sqlite``).

    Opens a short-lived connection per call, so one object can be shared by the web server's
    threads and by several processes (SQLite serialises the writes).
    """

    def __init__(self, index_dir: str | Path) -> None:
        self.path = Path(index_dir) / CONVERSATIONS_FILE

    def _connect(self, create: bool = False) -> sqlite3.Connection | None:
        if not self.path.exists():
            if not create:
                return None
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA foreign_keys = ON")
        db.executescript(_SCHEMA)
        return db

    def save(self, user: str | None, conversation_id: str | None, answer: Answer) -> str:
        """Add ``answer`` as the next turn of the conversation (a new one when the id is None
        or names no conversation of this user); returns the conversation's id."""
        db = self._connect(create=True)
        assert db is not None
        now = now_iso()
        try:
            with db:
                found = (
                    conversation_id is not None
                    and db.execute(
                        "SELECT 1 FROM conversations WHERE id = ? AND user = ?",
                        (conversation_id, _user(user)),
                    ).fetchone()
                )
                if not found:
                    conversation_id = uuid.uuid4().hex[:12]
                    title = " ".join(answer.question.split())[:TITLE_CHARS] or "(no question)"
                    db.execute(
                        "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                        (conversation_id, _user(user), title, now, now),
                    )
                (seq,) = db.execute(
                    "SELECT COALESCE(MAX(seq), -1) + 1 FROM turns WHERE conversation_id = ?",
                    (conversation_id,),
                ).fetchone()
                db.execute(
                    "INSERT INTO turns VALUES (?, ?, ?, ?)",
                    (conversation_id, seq, now, json.dumps(answer.to_dict(), ensure_ascii=False)),
                )
                db.execute(
                    "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
                )
        finally:
            db.close()
        assert conversation_id is not None
        return conversation_id

    def list(self, user: str | None) -> list[ConversationInfo]:
        """This user's conversations, the most recently continued first."""
        db = self._connect()
        if db is None:
            return []
        try:
            rows = db.execute(
                "SELECT c.id, c.title, COUNT(t.seq), c.created_at, c.updated_at "
                "FROM conversations c LEFT JOIN turns t ON t.conversation_id = c.id "
                "WHERE c.user = ? GROUP BY c.id ORDER BY c.updated_at DESC, c.rowid DESC",
                (_user(user),),
            ).fetchall()
        finally:
            db.close()
        return [ConversationInfo(*row) for row in rows]

    def get(self, user: str | None, conversation_id: str) -> Conversation:
        db = self._connect()
        if db is None:
            raise self._missing(conversation_id)
        try:
            row = db.execute(
                "SELECT id, title, created_at, updated_at FROM conversations "
                "WHERE id = ? AND user = ?",
                (conversation_id, _user(user)),
            ).fetchone()
            if row is None:
                raise self._missing(conversation_id)
            turns = db.execute(
                "SELECT asked_at, answer FROM turns WHERE conversation_id = ? ORDER BY seq",
                (conversation_id,),
            ).fetchall()
        finally:
            db.close()
        saved = [SavedTurn(at, answer_from_dict(json.loads(text))) for at, text in turns]
        conversation, title, created_at, updated_at = row
        return Conversation(conversation, title, created_at, updated_at, saved)

    def resolve(self, user: str | None, given: str) -> str:
        """The id of this user's conversation whose id is ``given`` or, as in git, starts with
        it (at least ``MIN_ID_PREFIX`` characters, and only one conversation)."""
        ids = [info.id for info in self.list(user)]
        if given in ids:
            return given
        matching = [i for i in ids if len(given) >= MIN_ID_PREFIX and i.startswith(given)]
        if len(matching) == 1:
            return matching[0]
        if matching:
            shown = ", ".join(matching[:3]) + (", ..." if len(matching) > 3 else "")
            raise ConversationNotFoundError(
                f"{given!r} begins {len(matching)} conversations' ids ({shown}): give more of it."
            )
        if 0 < len(given) < MIN_ID_PREFIX and any(i.startswith(given) for i in ids):
            raise ConversationNotFoundError(
                f"{given!r} is too short to name a conversation: give at least {MIN_ID_PREFIX} "
                "characters of its id (qa history lists them)."
            )
        raise self._missing(given)

    def latest(self, user: str | None) -> Conversation | None:
        """The conversation this user continued last (for ``qa chat --resume``)."""
        listed = self.list(user)
        return self.get(user, listed[0].id) if listed else None

    def rename(self, user: str | None, conversation_id: str, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            raise QAError("A conversation's new name cannot be empty.")
        self._change(
            "UPDATE conversations SET title = ? WHERE id = ? AND user = ?",
            (title[:200], conversation_id, _user(user)),
            conversation_id,
        )

    def delete(self, user: str | None, conversation_id: str) -> None:
        self._change(
            "DELETE FROM conversations WHERE id = ? AND user = ?",
            (conversation_id, _user(user)),
            conversation_id,
        )

    def markdown(self, user: str | None, conversation_id: str) -> str:
        return conversation_markdown(self.get(user, conversation_id))

    def json(self, user: str | None, conversation_id: str) -> str:
        return json.dumps(self.get(user, conversation_id).to_dict(), indent=2, ensure_ascii=False)

    def _change(self, sql: str, args: tuple[str, ...], conversation_id: str) -> None:
        db = self._connect()
        if db is None:
            raise self._missing(conversation_id)
        try:
            with db:
                changed = db.execute(sql, args).rowcount
        finally:
            db.close()
        if not changed:
            raise self._missing(conversation_id)

    @staticmethod
    def _missing(conversation_id: str) -> ConversationNotFoundError:
        return ConversationNotFoundError(
            f"No saved conversation {conversation_id!r}. List them with: qa history list"
        )
