"""Conversations like a chat app (issue 25, point 1), end to end: `qa serve` in a subprocess,
driven by Debian's Chromium through Playwright (skipped without /usr/bin/chromium).

Each conversation has its address (``/?c=ID``): reload, Back/Forward and a bookmark bring it
back with its Sources panel; the sidebar lists them, and renames, exports and deletes the open
one; with ``--auth`` another user's address is "not found"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa import Assistant
from tests.test_browser import ARGS, BRIDGE, CHROMIUM, HARBOUR, WAIT, ask, patient, start_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM}: run make browser"
    ),
]
FIRST = "Who reopened the harbour?"
SECOND = "When did the new bridge over the Vale river open?"


def make_index(root: Path) -> Path:
    docs = root / "docs"
    docs.mkdir()
    (docs / "harbour.md").write_text(HARBOUR, encoding="utf-8")
    (docs / "bridge.md").write_text(BRIDGE, encoding="utf-8")
    with Assistant.open(root / "index", model="hash") as assistant:
        assert assistant.ingest([docs]).ok
    return root / "index"


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def open_page(browser, url: str, login: tuple[str, str] | None = None):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000},
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = patient(context.new_page())
    page.goto(url)
    if login is not None:
        page.get_by_label("username").fill(login[0])
        page.get_by_label("password").fill(login[1])
        page.get_by_role("button", name="Login").click()
    wait_ready(page)
    return page


def wait_ready(page) -> None:  # type: ignore[no-untyped-def]
    """The page is loaded and its load events (the conversation list) have run.

    Once, in CI on a loaded machine, a page's load events never answered: its question box was
    there, but the list never came in 120 s. Gradio 6.31 does not send a load event again when
    its request to join the queue fails (a page whose joins are refused shows "Connection to the
    server was lost" and stays empty), which fits. A user reloads such a page, so this does too,
    once, and says so on stderr; a second page that never loads fails with what it showed."""
    import sys

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in (1, 2):
        page.locator("#qa-question textarea").wait_for(timeout=WAIT)
        try:
            page.locator("#qa-saved nav[data-address]").wait_for(
                state="attached", timeout=WAIT // 2
            )
            return
        except PlaywrightTimeout:
            shown = page.evaluate(
                "() => [document.querySelector('#qa-saved nav')?.outerHTML ?? '',"
                " ...[...document.querySelectorAll('.toast-body')].map(t => t.innerText)]"
            )  # the list, then any error the page shows (Gradio's toasts)
            if attempt == 2:
                raise AssertionError(
                    f"the page's load events never answered, twice: {page.url}, shown {shown!r}"
                ) from None
            print(f"wait_ready: no list after {WAIT // 2000} s ({shown!r}), reloading {page.url}",
                  file=sys.stderr)  # fmt: skip
            page.reload()


def address(page) -> str:  # type: ignore[no-untyped-def]
    """The conversation id in the page's address ("" for none)."""
    return str(page.evaluate("() => new URLSearchParams(location.search).get('c') || ''"))


def wait_address(page, wanted: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """Wait until the address names ``wanted`` (or any conversation when None)."""
    page.wait_for_function(
        "w => { const c = new URLSearchParams(location.search).get('c') || '';"
        " return w === null ? c !== '' : c === w; }",
        arg=wanted,
        timeout=WAIT,
    )
    return address(page)


def listed(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The titles in the sidebar, newest first."""
    return page.locator("#qa-saved a .qa-title").all_inner_texts()


def wait_chat(page, *texts: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    for text in texts:
        expect(page.locator("#qa-chat")).to_contain_text(text, timeout=WAIT)


def test_each_conversation_has_an_address_that_reload_back_and_forward_bring_back(
    browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    process, url = start_server(make_index(tmp_path))
    try:
        page = open_page(browser, url)
        assert address(page) == ""
        ask(page, FIRST, "Ana Lima")
        first = wait_address(page)  # the new conversation's address, once it is saved
        ask(page, SECOND, "opened in May")
        assert address(page) == first  # a follow-up stays in the same conversation
        # Reload: the conversation is on screen with its Sources panel, and continues.
        page.reload()
        wait_ready(page)
        wait_chat(page, FIRST, SECOND, "Ana Lima")
        sources = page.locator("#qa-sources")
        expect(sources.locator("#qa-cite-1-1 mark")).to_contain_text("opened in May")
        page.locator('#qa-chat a.qa-cite[href$="#qa-cite-0-1"]').click()
        expect(page.locator("#qa-cite-0-1 mark")).to_contain_text("Ana Lima reopened")
        assert listed(page) == [FIRST]
        expect(page.locator('#qa-saved a[aria-current="page"]')).to_contain_text("2 turns")
        # New chat: a fresh address, as a new history entry.
        page.locator("#qa-new-chat").click()
        wait_address(page, "")
        expect(page.locator("#qa-chat")).not_to_contain_text("Ana Lima", timeout=WAIT)
        ask(page, "Who reopened the harbour on Monday?", "Ana Lima")
        second = wait_address(page)
        assert second != first and listed(page) == ["Who reopened the harbour on Monday?", FIRST]
        # The first conversation opened by its address (a bookmark, a link from elsewhere).
        page.goto(f"{url}?c={first}")
        wait_ready(page)
        wait_chat(page, SECOND, "opened in May")
        # Back returns to the second conversation, Forward to the first again.
        page.go_back()
        wait_address(page, second)
        wait_ready(page)
        wait_chat(page, "Who reopened the harbour on Monday?")
        expect(page.locator("#qa-chat")).not_to_contain_text(SECOND, timeout=WAIT)
        page.go_forward()
        wait_address(page, first)
        wait_ready(page)
        wait_chat(page, SECOND)
        # A click in the sidebar opens a conversation and pushes its address: Back undoes it.
        page.locator("#qa-saved a", has_text="on Monday").click()
        wait_address(page, second)
        expect(page.locator("#qa-chat")).not_to_contain_text(SECOND, timeout=WAIT)
        page.go_back()
        wait_address(page, first)
        wait_chat(page, SECOND)
        page.screenshot(path=str(tmp_path / "addresses.png"), full_page=True)
    finally:
        process.terminate()
        process.wait(timeout=30)


def download(page, button: str) -> str:  # type: ignore[no-untyped-def]
    page.locator(button).click()
    link = page.locator("#qa-exported a").first
    link.wait_for(timeout=WAIT)
    with page.expect_download() as info:
        link.click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_the_sidebar_renames_exports_and_deletes_the_open_conversation(
    browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    process, url = start_server(make_index(tmp_path))
    try:
        page = open_page(browser, url)
        ask(page, FIRST, "Ana Lima")
        ask(page, SECOND, "opened in May")
        conversation = wait_address(page)
        # The copy button of the first answer copies it with its sources.
        # (Copy buttons: the first question's, then its answer's.)
        page.locator('#qa-chat button[aria-label="Copy message"]').nth(1).click()
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert "Ana Lima reopened the harbour on Monday. [1]" in copied
        assert '[1] Harbour storm — "' in copied and "(https://news.example/harbour)" in copied

        page.locator("#qa-conversation-menu").get_by_text("Rename, export or delete").click()
        markdown = download(page, "#qa-export-md")
        assert markdown.startswith(f"# {FIRST}\n")
        assert f"## 1. {FIRST}" in markdown and f"## 2. {SECOND}" in markdown
        assert (
            '- [1] Harbour storm — "' in markdown
            and "(https://news.example/harbour#:~:text=" in markdown
        )
        exported = json.loads(download(page, "#qa-export-json"))
        answers = [turn["answer"] for turn in exported["turns"]]
        assert [a["question"] for a in answers] == [FIRST, SECOND]
        assert answers[1]["citations"][0]["title"] == "New bridge"

        page.locator("#qa-new-title textarea, #qa-new-title input").first.fill("Harbour, bridge")
        page.locator("#qa-rename").click()
        expect(page.locator("#qa-saved")).to_contain_text("Harbour, bridge", timeout=WAIT)
        # Delete asks first; Cancel keeps the conversation.
        page.locator("#qa-delete").click()
        confirm = page.locator("#qa-delete-confirm")
        expect(confirm).to_contain_text("Delete the conversation “Harbour, bridge”?", timeout=WAIT)
        page.locator("#qa-delete-no").click()
        expect(confirm).to_be_hidden(timeout=WAIT)
        assert listed(page) == ["Harbour, bridge"] and address(page) == conversation
        page.locator("#qa-delete").click()
        page.locator("#qa-delete-yes").click()
        expect(page.locator("#qa-saved")).to_contain_text("No conversations yet", timeout=WAIT)
        wait_address(page, "")
        expect(page.locator("#qa-chat")).not_to_contain_text("Ana Lima", timeout=WAIT)
        page.reload()  # the page's address is a new chat's, so a reload shows one
        wait_ready(page)
        expect(page.locator("#qa-chat")).to_contain_text("Ask about your articles.")
        # Its address now reads as not found.
        page.goto(f"{url}?c={conversation}")
        wait_ready(page)
        wait_chat(page, "Conversation not found")
        # A question asked there starts a new conversation, at its own address, and the notice
        # (about the address) goes.
        ask(page, FIRST, "Ana Lima")
        page.wait_for_function(
            "old => ![old, ''].includes(new URLSearchParams(location.search).get('c') || '')",
            arg=conversation,
        )
        expect(page.locator("#qa-chat")).not_to_contain_text("Conversation not found")
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_another_users_address_is_not_found(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    process, url = start_server(
        make_index(tmp_path), "--auth", "ana:s3cret", "--auth", "ben:pa55word"
    )
    try:
        ana = open_page(browser, url, ("ana", "s3cret"))
        ask(ana, FIRST, "Ana Lima")
        anas = wait_address(ana)
        ben = open_page(browser, url, ("ben", "pa55word"))
        ask(ben, SECOND, "opened in May")
        assert listed(ben) == [SECOND]
        ben.goto(f"{url}?c={anas}")
        wait_ready(ben)
        wait_chat(ben, "Conversation not found")
        assert FIRST not in ben.locator("#qa-chat").inner_text()
        assert listed(ben) == [SECOND] and FIRST not in ben.locator("#qa-sources").inner_text()
        ana.reload()
        wait_ready(ana)
        wait_chat(ana, FIRST, "Ana Lima")  # her own address still opens it for her
        assert listed(ana) == [FIRST]
    finally:
        process.terminate()
        process.wait(timeout=30)
