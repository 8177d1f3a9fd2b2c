"""The server under an honest but hostile test (issue 29): writers never block readers, uploads
never overwrite each other, the ``/ask`` API checks its arguments, logins are throttled per
client, and an exported conversation's link works only for its owner."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

import ui.app
from qa import Answer, Assistant
from tests.conftest import gradio_client
from ui.articles import add_files
from ui.saved import export_conversation
from ui.state import AppState

HARBOUR = "# Harbour storm\n\nThe harbour master Ana Lima reopened the harbour on Monday.\n"
QUESTION = "Who reopened the harbour?"


@pytest.fixture
def state(index_dir: Path, write) -> Iterator[AppState]:  # type: ignore[no-untyped-def]
    write("harbour.md", HARBOUR)
    with Assistant.open(index_dir, model="hash") as assistant:
        assert assistant.ingest([write.base]).ok
    opened = AppState(index_dir)
    yield opened
    opened.close()


def megabytes_of_text(megabytes: float, seed: int = 0) -> str:
    """Paragraphs of varied words (so chunks and sentences are all new), ``megabytes`` long."""
    rng = random.Random(seed)
    words = [f"{rng.choice('bcdfghklmnprstvz')}{rng.choice('aeiou')}{n}" for n in range(5000)]
    paragraphs: list[str] = []
    size = 0
    while size < megabytes * 2**20:
        sentences = [
            " ".join(rng.choice(words) for _ in range(14)).capitalize() + "." for _ in range(8)
        ]
        paragraphs.append(" ".join(sentences))
        size += len(paragraphs[-1]) + 2
    return "\n\n".join(paragraphs)


def test_a_question_is_answered_within_2_s_while_an_upload_is_indexed(
    state: AppState, tmp_path: Path
) -> None:
    big = tmp_path / "big.txt"
    # 2 MB: indexing it takes ~5 s on a quiet 2-core machine (hash model), while the answer
    # comes in well under a second; the test fails if the upload was over first.
    big.write_text(megabytes_of_text(2), encoding="utf-8")
    assert state.ask(QUESTION, [], 5, None).found  # model and vectors loaded
    indexing = threading.Event()

    def progress(value: tuple[int, int], desc: str = "") -> None:
        indexing.set()

    upload = threading.Thread(
        target=add_files, args=(state, [str(big)]), kwargs={"progress": progress}, daemon=True
    )
    upload.start()
    assert indexing.wait(timeout=300), "the upload never reported progress"
    answers: list[Answer] = []
    asker = threading.Thread(target=lambda: answers.append(state.ask(QUESTION, [], 5, None)))
    asker.start()
    deadline = time.monotonic() + 2.0  # a deadline to poll against, not a sleep
    while not answers and time.monotonic() < deadline:
        asker.join(timeout=0.02)
    still_indexing = upload.is_alive()
    assert answers, "no answer within 2 s while the upload was being indexed"
    assert answers[0].found and "Ana Lima" in answers[0].text
    assert still_indexing, "the upload had finished: it no longer tests a concurrent question"
    upload.join(timeout=600)
    assert not upload.is_alive()
    titles = [article.title for article in state.articles()]
    assert sorted(titles) == ["Harbour storm", "big"]


def upload(state: AppState, tmp_path: Path, name: str, text: str, user: str | None) -> str:
    folder = tmp_path / f"from-{user}-{random.random()}"  # browsers upload from temp folders
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    report, *_ = add_files(state, [str(folder / name)], user=user)
    return report


def test_names_that_clean_to_the_same_name_are_two_articles(
    state: AppState, tmp_path: Path
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    (one / "same name.txt").write_text("The ferry left at noon.", encoding="utf-8")
    (two / "same_name.txt").write_text("The tram arrived at dawn.", encoding="utf-8")
    report, *_ = add_files(state, [str(one / "same name.txt"), str(two / "same_name.txt")])
    assert "added 2" in report, report
    assert "saved as same\\_name\\-2\\.txt" in report  # (Markdown-escaped)
    texts = {state.assistant.store.article_text(a.id) for a in state.articles()}
    assert {"The ferry left at noon.", "The tram arrived at dawn."} <= texts


def test_another_users_file_of_the_same_name_is_its_own_article(
    state: AppState, tmp_path: Path
) -> None:
    assert "added 1" in upload(state, tmp_path, "notes.txt", "Ana keeps the keys.", "a")
    report = upload(state, tmp_path, "notes.txt", "Bo waters the plants.", "b")
    assert "added 1" in report and "updated 0" in report, report
    texts = {state.assistant.store.article_text(a.id) for a in state.articles()}
    assert {"Ana keeps the keys.", "Bo waters the plants."} <= texts
    # The same user uploading the same name again is a real update of their article.
    report = upload(state, tmp_path, "notes.txt", "Ana keeps the spare keys.", "a")
    assert "added 0, updated 1" in report, report
    texts = {state.assistant.store.article_text(a.id) for a in state.articles()}
    assert {"Ana keeps the spare keys.", "Bo waters the plants."} <= texts
    assert "Ana keeps the keys." not in texts


def test_k_and_question_are_checked_with_one_line_errors() -> None:
    from qa.limits import check_k

    for bad in (0, -1, 1_000_000, "abc", 2.5, True, None):
        with pytest.raises(ValueError, match="must be a whole number from 1 to 50"):
            check_k(bad)
    assert check_k(50) == 50 and check_k(3.0) == 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(
    index_dir: Path,
    write,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> Iterator[tuple[str, AppState]]:
    """``qa serve`` in this process, with logins for a and b; (its URL, its state)."""
    write("harbour.md", HARBOUR)
    with Assistant.open(index_dir, model="hash") as assistant:
        assert assistant.ingest([write.base]).ok
    made: list[AppState] = []

    def capture(*args: Any, **kw: Any) -> AppState:
        made.append(AppState(*args, **kw))
        return made[0]

    monkeypatch.setattr(ui.app, "AppState", capture)
    monkeypatch.chdir(index_dir.parent)  # Gradio writes its .gradio/ cache into the working dir
    port = free_port()
    app = ui.app.serve(index_dir, port=port, block=False, auth=[("a", "pa"), ("b", "pb")])
    try:
        yield f"http://127.0.0.1:{port}", made[0]
    finally:
        app.close()
        made[0].close()


def login(url: str, user: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    response = client.post("/login", data={"username": user, "password": password})
    assert response.status_code == 200, response.text
    return client


def test_the_ask_api_refuses_bad_arguments_in_one_line(served: tuple[str, AppState]) -> None:
    url, _ = served
    client = gradio_client(url, auth=("a", "pa"))  # without the Hub calls of a plain Client
    assert client.predict(QUESTION, 5, api_name="/ask")["found"] is True
    for k in (0, -1, 1_000_000):
        with pytest.raises(Exception, match="must be a whole number from 1 to 50"):
            client.predict(QUESTION, k, api_name="/ask")
    with pytest.raises(Exception, match="ask in at most 1,000"):
        client.predict("why " * 600, 5, api_name="/ask")
    with pytest.raises(Exception, match="title or id"):
        client.predict(QUESTION, 5, [""], api_name="/ask")
    with pytest.raises(Exception, match='No article is named "Nope"'):  # not "none mentions"
        client.predict(QUESTION, 5, ["Nope"], api_name="/ask")


FREE_FAILURES = 5  # ui.guard.FREE_FAILURES: the "after 5 failures"


def test_failed_logins_are_slowed_per_client(served: tuple[str, AppState]) -> None:
    url, _ = served
    client = httpx.Client(base_url=url, timeout=30)
    codes = [
        client.post("/login", data={"username": "a", "password": "wrong"}).status_code
        for _ in range(FREE_FAILURES + 1)
    ]
    assert codes == [400] * FREE_FAILURES + [429], codes
    refused = client.post("/login", data={"username": "a", "password": "pa"})
    assert refused.status_code == 429 and "try again in" in refused.text  # the right one waits


def test_login_throttle_doubles_the_wait_and_is_per_client() -> None:
    from ui.guard import LoginThrottle

    now = [1000.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(FREE_FAILURES):
        assert throttle.wait_s("10.0.0.1") == 0
        throttle.failed("10.0.0.1")
    assert throttle.wait_s("10.0.0.1") == 1.0 and throttle.wait_s("10.0.0.2") == 0
    now[0] += 1.0
    throttle.failed("10.0.0.1")
    assert throttle.wait_s("10.0.0.1") == 2.0
    throttle.succeeded("10.0.0.1")
    assert throttle.wait_s("10.0.0.1") == 0


def test_guard_counts_failures_by_client_address() -> None:
    from ui.guard import Guard, LoginThrottle, OwnedFiles

    async def fake_login(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b"Incorrect credentials."})

    guard = Guard(fake_login, LoginThrottle(), OwnedFiles())
    first = TestClient(guard, client=("10.0.0.1", 1))
    other = TestClient(guard, client=("10.0.0.2", 1))
    assert [first.post("/login").status_code for _ in range(6)][-1] == 429
    assert other.post("/login").status_code == 400


def test_an_exported_file_link_works_only_for_its_owner(served: tuple[str, AppState]) -> None:
    from gradio import utils

    url, state = served
    reply = state.ask(QUESTION, [], 5, None)
    conversation = state.conversations.save("a", None, reply)
    exported = Path(export_conversation(state, "a", {"id": conversation}, "md"))
    # Gradio serves an event's file from its cache folder; put it there as it would.
    cached = Path(utils.get_cache_folder()) / f"qa-test-{conversation}" / exported.name
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(exported.read_bytes())
    link = f"/gradio_api/file={cached}"
    owner, other = login(url, "a", "pa"), login(url, "b", "pb")
    assert owner.get(link).status_code == 200 and "Ana Lima" in owner.get(link).text
    assert other.get(link).status_code == 404
