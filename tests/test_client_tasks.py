"""A chat app's chores (open-webui's title, tags and follow-ups) get the JSON they ask for,
made from the chat they carry, instead of being searched as questions (ui/client_tasks.py)."""

from __future__ import annotations

import json

import pytest

from ui.client_tasks import task_reply

ANSWER = (
    "The harbour master Ana Lima reopened the harbour on Monday. [1]\n\n"
    '[1] Harbour storm — "The harbour master Ana Lima reopened the harbour on Monday." '
    "(https://news.example/harbour)\n"
    '[2] New bridge — "The mayor was praised by the council for the bridge."'
)
HISTORY = f"<chat_history>\nUSER: Who reopened the harbour?\nASSISTANT: {ANSWER}\n</chat_history>"


def chore(what: str, output: str) -> str:
    """A chore as open-webui writes one: task, guidelines, the JSON asked for, the chat."""
    return (
        f"### Task:\n{what}\n### Guidelines:\n- Keep it short.\n- Use the chat's language.\n"
        f"### Output:\nJSON format: {output}\n### Examples:\n"
        '- { "title": "Stock Market Trends" }\n'
        f"### Chat History:\n{HISTORY}"
    )


def test_the_title_is_the_chats_first_question() -> None:
    asked = chore("Generate a concise, 3-5 word title for the chat.", '{ "title": "the title" }')
    assert json.loads(task_reply(asked) or "") == {"title": "Who reopened the harbour?"}


def test_the_tags_are_the_cited_articles() -> None:
    asked = chore("Generate 1-3 broad tags.", '{ "tags": ["tag1", "tag2", "tag3"] }')
    assert json.loads(task_reply(asked) or "") == {"tags": ["Harbour storm", "New bridge"]}


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ('{ "follow_ups": ["Question 1?", "Question 2?"] }', {"follow_ups": []}),
        ('{"queries": ["query1", "query2"]}', {"queries": []}),
        ('{ "text": "the completion" }', {"text": ""}),
    ],
)
def test_any_other_chore_gets_an_empty_answer_of_its_kind(
    output: str, expected: dict[str, object]
) -> None:
    assert json.loads(task_reply(chore("Suggest what to do next.", output)) or "") == expected


@pytest.mark.parametrize(
    "message",
    [
        "Who reopened the harbour?",
        "What was the task: who reopened the harbour?",  # "task" in a question
        '### Task:\nName the title.\nJSON format: { "title": "x" }',  # no chat carried
        f"### Notes\n{HISTORY}\nWhat did the title say?",  # not a task
    ],
)
def test_questions_are_questions(message: str) -> None:
    assert task_reply(message) is None
