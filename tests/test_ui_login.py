"""The login-to-handler path of ``qa serve --auth``, without a browser: a user logs in over HTTP,
and the handlers behind the page get that user (not None, not another user).

The page's own load event lists, in the sidebar, the saved conversations of whoever is logged
in; it is called through Gradio's queue as the browser calls it.
(tests/test_browser_conversations.py does the same through Chromium; this one runs wherever the
UI's dependencies are installed.)
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qa import Assistant
from ui.app import build_app
from ui.state import AppState

USERS = [("ana", "s3cret"), ("ben", "pa55word")]


@pytest.fixture
def served(tmp_path: Path, write) -> Iterator[tuple[str, AppState]]:
    write("harbour.md", "# Harbour storm\n\nThe harbour master Ana Lima reopened the harbour.")
    with Assistant.open(tmp_path / "index", model="hash") as assistant:
        assert assistant.ingest([write.base]).ok
    state = AppState(tmp_path / "index")
    app = build_app(state)
    app.queue()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.launch(
        server_name="127.0.0.1", server_port=port, auth=USERS, prevent_thread_lock=True, quiet=True
    )
    try:
        yield f"http://127.0.0.1:{port}", state
    finally:
        app.close()
        state.close()


def logged_in(base: str, user: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30, trust_env=False)
    response = client.post("/login", data={"username": user, "password": password})
    assert response.status_code == 200, response.text
    return client


def run_event(client: httpx.Client, fn_index: int, data: list[Any]) -> Any:
    """Run one event handler through Gradio's queue, as the page does; its output data."""
    session = "test-session"
    joined = client.post(
        "/gradio_api/queue/join",
        json={"data": data, "fn_index": fn_index, "session_hash": session, "trigger_id": None},
    )
    assert joined.status_code == 200, joined.text
    with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line.removeprefix("data:"))
                if message.get("msg") == "process_completed":
                    assert message["success"], message
                    return message["output"]["data"]
    raise AssertionError("the queue closed without a result")


def test_each_logged_in_user_lists_only_their_own_conversations(
    served: tuple[str, AppState],
) -> None:
    base, state = served
    reply = state.ask("Who reopened the harbour?", [], 5, None)
    mine = state.conversations.save("ana", None, reply)
    assert httpx.get(base + "/config", timeout=30, trust_env=False).status_code == 401
    ana = logged_in(base, *USERS[0])
    config = ana.get("/config").json()
    (sidebar,) = [c["id"] for c in config["components"] if c["props"].get("elem_id") == "qa-saved"]
    (on_load,) = [
        i
        for i, d in enumerate(config["dependencies"])
        # the page's load event (the root's id depends on the apps built before it)
        if [t[1] for t in d.get("targets", [])] == ["load"] and sidebar in d["outputs"]
    ]
    where = config["dependencies"][on_load]["outputs"].index(sidebar)

    def listed(client: httpx.Client) -> list[str]:
        """The conversations the sidebar lists on this user's page load."""
        html = str(run_event(client, on_load, [])[where])
        return re.findall(r'data-conversation="([^"]+)"', html)

    assert listed(ana) == [mine]
    ben = logged_in(base, *USERS[1])
    assert listed(ben) == []  # ana's conversation is not ben's, nor anyone's
    # The store agrees: the conversation belongs to ana alone.
    assert [c.id for c in state.conversations.list("ana")] == [mine]
    assert state.conversations.list(None) == [] and state.conversations.list("ben") == []
