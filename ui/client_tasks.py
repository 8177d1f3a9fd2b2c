"""A chat app's own chores, sent to the endpoint as if they were questions.

open-webui asks the chat's model, besides each question, for a title, tags and follow-up
questions (and, with web search or files, search queries): a user message that starts with
"### Task:", holds the chat so far between ``<chat_history>`` and ``</chat_history>`` and asks
for a JSON object ("JSON format: { "title": ... }"). Searched as a question, such a prompt is over
the question's length (a 400) or, shorter, would title the chat with a quote. This endpoint has
no language model to write a title, so it answers the chore itself, in the JSON asked for, from
the chat it was given: the title is the chat's first question (as the web UI titles a
conversation), the tags are the titles of the articles its answers cited, and any other list
(follow-ups, queries) is empty, which open-webui reads as "none".
"""

from __future__ import annotations

import json
import re

from qa.conversations import cited_titles

_TASK = re.compile(r"\A\s*#+\s*Task:", re.IGNORECASE)
_HISTORY = re.compile(r"<chat_history>(.*?)</chat_history>", re.DOTALL | re.IGNORECASE)
# The key of the object asked for, and whether its value is a list: `{ "tags": [` or
# `{"title": "`.
_ASKED = re.compile(r'\{\s*"(\w+)"\s*:\s*(\[?)')
_USER = re.compile(r"^user:[ \t]*(.*\S)", re.IGNORECASE | re.MULTILINE)
MAX_TITLE_CHARS = 80
MAX_TAGS = 3


def task_reply(message: str) -> str | None:
    """The reply's content when ``message`` is a chat app's chore (see the module), else None."""
    if not _TASK.match(message):
        return None
    chat = _HISTORY.search(message)
    asked = _ASKED.search(message[: chat.start()]) if chat else None
    if chat is None or asked is None:
        return None
    key, is_list = asked.group(1), bool(asked.group(2))
    history = chat.group(1)
    value: str | list[str]
    if key == "title":
        first = _USER.search(history)
        value = first.group(1)[:MAX_TITLE_CHARS] if first else ""
    elif key == "tags":
        value = list(dict.fromkeys(cited_titles(history)))[:MAX_TAGS]
    else:
        value = [] if is_list else ""
    return json.dumps({key: value}, ensure_ascii=False)
