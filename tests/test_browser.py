"""End to end: `qa serve` in a subprocess, driven by Debian's Chromium through Playwright.

Chromium must be at /usr/bin/chromium or $QA_CHROMIUM (`make test` installs it, or fails saying
why); without it these tests skip and say why, and under QA_REQUIRE_ALL (CI) that skip fails.
Screenshots land in the test's temporary folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa import Assistant
from tests.conftest import CHROMIUM, gradio_client

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # Chromium's own traffic (component updates, sign-in, autofill) goes to a closed port and
    # fails at once, instead of reaching the tests' proxy trap: the pages under test load from
    # loopback, which Chromium never sends through a proxy.
    "--proxy-server=http://127.0.0.1:9",
]
HARBOUR = (
    "---\ntitle: Harbour storm\nurl: https://news.example/harbour\n---\n\n"
    "A storm closed the harbour for three days. The harbour master Ana Lima reopened the harbour "
    "on Monday. Fishing boats returned at dawn."
)
BRIDGE = "# New bridge\n\nThe new bridge over the Vale river opened in May with a tram line."
HOSTILE = (
    "# Hostile page\n\nThe hostile marker phrase is <script>window.__xss = 1</script> and "
    '<img src=x onerror="window.__xss = 2"> right here.'
)

# Polled waits (Playwright's expect, clicks, fills) allow this long: the machine running the
# tests may be busy. Nothing waits a fixed time.
WAIT = 120_000  # ms


def patient(page):  # type: ignore[no-untyped-def]
    """``page`` with ``WAIT`` as the limit of its waits and of ``expect``'s."""
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT)
    page.set_default_timeout(WAIT)
    return page


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM}: run make browser"
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(index: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    log = index.parent / f"serve-{port}.log"  # what the server said, when it did not start
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "qa", "serve", "--index", str(index), "--port", str(port),
             *extra],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 900  # a busy machine (niced, tests in parallel) starts slowly
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=30):  # a busy machine serves slowly
                return process, url
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"qa serve exited early: {log.read_text()[-2000:]}") from None
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"qa serve did not start: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("served")
    docs = root / "docs"
    docs.mkdir()
    (docs / "harbour.md").write_text(HARBOUR, encoding="utf-8")
    (docs / "bridge.md").write_text(BRIDGE, encoding="utf-8")
    with Assistant.open(root / "index", model="hash") as assistant:
        assert assistant.ingest([docs]).ok
    process, url = start_server(root / "index")
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def page(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = patient(browser.new_page(viewport={"width": 1400, "height": 1000}))
        page.goto(server)
        page.locator("#qa-question textarea").wait_for(timeout=60_000)
        yield page
        browser.close()


def ask(page, question: str, expect: str) -> None:  # type: ignore[no-untyped-def]
    """Ask as a person does and wait (polling) until the newest answer holds ``expect``."""
    from playwright.sync_api import expect as expect_that

    page.locator("#qa-question textarea").fill(question)
    page.locator("#qa-ask").click()
    answers = page.locator("#qa-chat .message-row.bot-row")
    expect_that(answers.last).to_contain_text(expect, timeout=WAIT)
    expect_that(page.locator("#qa-ask")).to_be_visible(timeout=WAIT)  # the answer is done


def test_chat_answers_and_citation_opens_the_quote(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ask(page, "Who reopened the harbour?", "Ana Lima")
    first = page.locator('#qa-chat a.qa-cite[href$="#qa-cite-0-1"]')
    assert first.count() == 1
    ask(page, "When did the new bridge over the Vale river open?", "opened in May")
    # The Sources panel shows the newer answer's sources; the first answer's until clicked.
    source = page.locator("#qa-cite-0-1")
    quote = source.locator("mark")
    assert not quote.is_visible()
    first.click()
    quote.wait_for(state="visible", timeout=5_000)
    assert "Ana Lima reopened the harbour" in quote.inner_text()
    assert "Harbour storm" in source.locator("summary").inner_text()
    page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
    assert (tmp_path / "chat.png").stat().st_size > 10_000


def test_uploaded_hostile_article_is_shown_as_text(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    hostile = tmp_path / "hostile.md"
    hostile.write_text(HOSTILE, encoding="utf-8")
    page.get_by_role("tab", name="Articles").click()
    page.locator('#qa-upload input[type="file"]').set_input_files(str(hostile))
    page.locator("#qa-add").click()
    page.locator("#qa-report").get_by_text("added 1").wait_for(timeout=30_000)
    page.get_by_role("tab", name="Chat").click()
    # The hash test model matches words, so the question repeats the sentence's words.
    # (waits for the quoted markup itself: the question holds the other words)
    ask(page, "Which hostile marker phrase is script window xss img src x onerror right here?",
        "window.__xss = 1")  # fmt: skip
    chat_text = page.locator("#qa-chat").inner_text()
    assert "<script>window.__xss = 1</script>" in chat_text
    assert '<img src=x onerror="window.__xss = 2">' in chat_text
    assert "<script>" in page.locator("#qa-sources").inner_text()
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#qa-chat img[src='x'], #qa-sources img[src='x']").count() == 0
    assert dialogs == []
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)


def test_api_works_from_gradio_client(server: str) -> None:
    client = gradio_client(server)
    result = client.predict("Who reopened the harbour?", 5, api_name="/ask")
    assert result["found"] is True
    assert "Ana Lima" in result["text"] and result["citations"][0]["title"] == "Harbour storm"


def test_auth_rejects_wrong_password(tmp_path: Path) -> None:
    process, url = start_server(tmp_path / "index", "--auth", "ana:s3cret")
    try:
        with pytest.raises(ValueError, match="Could not login"):  # gradio_client's error
            gradio_client(url, auth=("ana", "wrong"))
        login = urllib.request.Request(
            url + "login", data=b"username=ana&password=wrong", method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(login, timeout=10)
        assert refused.value.code in (400, 401)
        gradio_client(url, auth=("ana", "s3cret"))  # the right password gets in
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_examples_follow_the_articles_added(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The "Try" examples come from what is indexed (no questions.json here: one per title).
    examples = page.locator("#qa-examples")
    assert "Volcano watch" not in examples.inner_text()
    article = tmp_path / "volcano.md"
    article.write_text("# Volcano watch\n\nThe volcano on the island erupted in June.\n", "utf-8")
    page.get_by_role("tab", name="Articles").click()
    page.locator('#qa-upload input[type="file"]').set_input_files(str(article))
    page.locator("#qa-add").click()
    page.locator("#qa-report").get_by_text("added 1").wait_for(timeout=30_000)
    page.get_by_role("tab", name="Chat").click()
    examples.get_by_text("What is known about Volcano watch?").wait_for(timeout=10_000)
