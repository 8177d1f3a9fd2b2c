"""Saved conversations (qa/conversations.py): per user, renamed, deleted, exported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import Answer, Assistant, Citation, Conversations, Passage, Turn
from qa.conversations import (
    CONVERSATIONS_FILE,
    ConversationNotFoundError,
    answer_from_dict,
    answer_text,
    cited_titles,
)
from qa.links import answer_dict, quote_url

TEXT = "The harbour master Ana Lima reopened the harbour on Monday."


def cited(question: str, quote: str = TEXT) -> Answer:
    passage = Passage(7, "a1", "Harbour storm", "https://news.example/harbour", "2024-05-01",
                      "/x/harbour.md", TEXT, 40, 40 + len(TEXT), 1.0, 1, 0.7, 2.5)  # fmt: skip
    citation = Citation(1, "a1", "Harbour storm", passage.url, quote, 40, 40 + len(quote), 0.8, 7)
    return Answer(question, f"{quote} [1]", True, [citation], [passage], 0.8)


def test_save_list_and_reopen_keep_every_field(tmp_path: Path) -> None:
    chats = Conversations(tmp_path)
    assert chats.list(None) == []
    first = cited("Who reopened the harbour?")
    conversation_id = chats.save(None, None, first)
    assert chats.save(None, conversation_id, cited("When?")) == conversation_id
    assert (tmp_path / CONVERSATIONS_FILE).exists()
    (listed,) = chats.list(None)
    assert (listed.id, listed.title, listed.turns) == (conversation_id, first.question, 2)
    reopened = chats.get(None, conversation_id)
    assert reopened.answers[0] == first  # citations with quotes and offsets, passages, all
    assert [a.question for a in reopened.answers] == ["Who reopened the harbour?", "When?"]
    assert reopened.turns[0].asked_at.endswith("+00:00")
    assert reopened.history()[0] == Turn(first.question, first.text, "a1")  # what it quoted
    assert chats.latest(None) == reopened


def test_each_user_sees_only_their_own(tmp_path: Path) -> None:
    chats = Conversations(tmp_path)
    ana = chats.save("ana", None, cited("Ana's question?"))
    ben = chats.save("ben", None, cited("Ben's question?"))
    chats.save(None, None, cited("Nobody's question?"))
    assert [c.title for c in chats.list("ana")] == ["Ana's question?"]
    assert [c.title for c in chats.list("ben")] == ["Ben's question?"]
    assert [c.title for c in chats.list(None)] == ["Nobody's question?"]
    for action in (
        lambda: chats.get("ben", ana),
        lambda: chats.rename("ben", ana, "mine now"),
        lambda: chats.delete("ben", ana),
        lambda: chats.markdown("ben", ana),
        lambda: chats.get(None, ana),
    ):
        with pytest.raises(ConversationNotFoundError):
            action()
    # Ben continuing Ana's id starts a conversation of his own instead of writing into hers.
    other = chats.save("ben", ana, cited("Sneaky?"))
    assert other != ana and chats.get("ana", ana).turns[-1].answer.question == "Ana's question?"
    assert {c.id for c in chats.list("ben")} == {ben, other}


def test_rename_and_delete(tmp_path: Path) -> None:
    chats = Conversations(tmp_path)
    kept = chats.save(None, None, cited("Kept?"))
    gone = chats.save(None, None, cited("Gone?"))
    chats.rename(None, kept, "  Harbour   notes ")
    chats.delete(None, gone)
    assert [(c.id, c.title) for c in chats.list(None)] == [(kept, "Harbour notes")]
    with pytest.raises(ConversationNotFoundError):
        chats.get(None, gone)
    with pytest.raises(ConversationNotFoundError):
        chats.delete(None, gone)
    with pytest.raises(Exception, match="empty"):
        chats.rename(None, kept, "  ")


def test_markdown_export_has_answers_with_markers_and_sources_with_quotes(tmp_path: Path) -> None:
    chats = Conversations(tmp_path)
    conversation_id = chats.save(None, None, cited("Who reopened the harbour?"))
    not_found = Answer("Who painted it?", "The articles don't say.", False, [],
                       cited("x").passages, 0.1)  # fmt: skip
    chats.save(None, conversation_id, not_found)
    text = chats.markdown(None, conversation_id)
    assert text.startswith("# Who reopened the harbour?\n")
    assert "## 1. Who reopened the harbour?" in text and "## 2. Who painted it?" in text
    assert f"{TEXT} [1]" in text
    # Each source links to its page at the quote (qa/links.py).
    link = quote_url("https://news.example/harbour", TEXT)
    assert f'- [1] Harbour storm — "{TEXT}" ({link})' in text
    assert "Possibly related:\n- Harbour storm — " in text
    # The sources are the lines the command line prints under an answer (with the address).
    assert f'[1] Harbour storm — "{TEXT}" (https://news.example/harbour)' in answer_text(
        chats.get(None, conversation_id).answers[0]
    )


def test_json_export_is_answer_to_dict_of_each_turn(tmp_path: Path) -> None:
    chats = Conversations(tmp_path)
    first = cited("Who reopened the harbour?")
    conversation_id = chats.save(None, None, first)
    data = json.loads(chats.json(None, conversation_id))
    assert data["id"] == conversation_id and data["title"] == first.question
    # Answer.to_dict() of each turn, each citation with the link that opens its quote.
    assert [t["answer"] for t in data["turns"]] == [answer_dict(first)]
    assert data["turns"][0]["answer"]["citations"][0]["start"] == 40
    assert answer_from_dict(data["turns"][0]["answer"]) == first


def test_real_answers_round_trip(index_dir: Path, embedder: object) -> None:
    docs = index_dir.parent / "docs"
    docs.mkdir()
    (docs / "harbour.md").write_text("# Harbour\n\n" + TEXT, encoding="utf-8")
    with Assistant.open(index_dir, embedder=embedder, create=True) as assistant:  # type: ignore[arg-type]
        assert assistant.ingest([docs]).ok
        reply = assistant.ask("Who reopened the harbour on Monday?")
    assert reply.found
    chats = Conversations(index_dir)
    conversation_id = chats.save(None, None, reply)
    assert chats.get(None, conversation_id).answers == [reply]


def test_the_titles_of_the_printed_sources_are_read_back() -> None:
    """What a chat client sends back is the printed answer: its source lines name the
    articles quoted, a PDF's with its page (``cited_titles`` reads what ``answer_text`` wrote)."""
    first = Citation(1, "a1", "Harbour storm", None, "Ana Lima reopened it.", 0, 21, 0.9, 7)
    second = Citation(2, "a2", "Port report", None, "Boats returned.", 0, 15, 0.8, 8, page=4)
    reply = Answer(
        "Who?", "Ana Lima reopened it. [1] Boats returned. [2]", True, [first, second], [], 0.9
    )
    assert cited_titles(answer_text(reply)) == ["Harbour storm", "Port report"]
    assert cited_titles("An answer without sources.") == []
