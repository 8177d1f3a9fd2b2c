"""Saved conversations end to end: `qa serve` in a subprocess, driven by Debian's Chromium
through Playwright (as tests/test_browser.py; skipped without /usr/bin/chromium)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from qa import Assistant
from tests.test_browser import ARGS, BRIDGE, CHROMIUM, HARBOUR, ask, start_server

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
    page = context.new_page()
    page.goto(url)
    if login is not None:
        page.get_by_label("username").fill(login[0])
        page.get_by_label("password").fill(login[1])
        page.get_by_role("button", name="Login").click()
    page.locator("#qa-question textarea").wait_for(timeout=60_000)
    return page


SAME_TITLES = """want => JSON.stringify([...document.querySelectorAll('[role=option]')]
    .map(o => o.getAttribute('aria-label'))) === JSON.stringify(want)"""


def expect_saved_titles(page, titles: list[str], reload: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Poll until the saved-conversations list shows ``titles`` (saving and listing are
    asynchronous): open the list, wait for those options, else close it and look again."""
    deadline = time.monotonic() + 30
    while True:
        if reload:
            page.reload()
            page.locator("#qa-question textarea").wait_for(timeout=60_000)
        page.locator("#qa-saved input").click()
        try:
            page.wait_for_function(SAME_TITLES, arg=titles, timeout=3_000)
            page.keyboard.press("Escape")
            return
        except PlaywrightTimeout:
            options = page.get_by_role("option")
            shown = [options.nth(i).get_attribute("aria-label") for i in range(options.count())]
            page.keyboard.press("Escape")
            if time.monotonic() > deadline:
                raise AssertionError(f"saved conversations {shown}, expected {titles}") from None


def choose_saved(page, title: str) -> None:  # type: ignore[no-untyped-def]
    choice = page.locator("#qa-saved input")
    choice.fill(title)  # the dropdown filters its options by what is typed; Enter picks it
    page.get_by_role("option", name=title).wait_for(timeout=5_000)
    choice.press("Enter")
    page.wait_for_function(
        "t => document.querySelector('#qa-saved input').value === t", arg=title, timeout=5_000
    )


def download(page, button: str) -> str:  # type: ignore[no-untyped-def]
    page.locator(button).click()
    link = page.locator("#qa-exported a").first
    link.wait_for(timeout=15_000)
    with page.expect_download() as info:
        link.click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_reload_reopen_export_and_copy(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    process, url = start_server(make_index(tmp_path))
    try:
        page = open_page(browser, url)
        ask(page, FIRST, "Ana Lima")
        ask(page, SECOND, "opened in May")
        # The copy button of the first answer copies it with its sources.
        # (Copy buttons: the first question's, then its answer's.)
        page.locator('#qa-chat button[aria-label="Copy message"]').nth(1).click()
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert "Ana Lima reopened the harbour on Monday. [1]" in copied
        assert '[1] Harbour storm — "' in copied and "(https://news.example/harbour)" in copied
        title = f"{FIRST} (2 turns)"
        expect_saved_titles(page, [title], reload=True)
        assert "Ana Lima" not in page.locator("#qa-chat").inner_text()
        choose_saved(page, title)
        page.locator("#qa-open").click()
        page.locator("#qa-chat").get_by_text("opened in May").wait_for(timeout=15_000)
        chat = page.locator("#qa-chat").inner_text()
        assert FIRST in chat and SECOND in chat and "Ana Lima" in chat
        sources = page.locator("#qa-sources")
        assert f"Q1: {FIRST}" in sources.inner_text() and "Harbour storm" in sources.inner_text()
        assert "opened in May" in sources.locator("#qa-cite-1-1 mark").inner_text()
        page.locator('#qa-chat a[href$="#qa-cite-0-1"]').click()  # the first answer's source
        quote = page.locator("#qa-cite-0-1 mark")
        quote.wait_for(state="visible", timeout=5_000)
        assert "Ana Lima reopened the harbour" in quote.inner_text()
        page.screenshot(path=str(tmp_path / "reopened.png"), full_page=True)

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
        assert "Ana Lima" in answers[0]["citations"][0]["quote"]
        assert answers[1]["citations"][0]["title"] == "New bridge"

        page.locator("#qa-new-title textarea, #qa-new-title input").first.fill("Harbour and bridge")
        page.locator("#qa-rename").click()
        expect_saved_titles(page, ["Harbour and bridge (2 turns)"])
        choose_saved(page, "Harbour and bridge (2 turns)")
        page.locator("#qa-delete").click()
        expect_saved_titles(page, [])
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_two_users_do_not_see_each_others_conversations(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index = make_index(tmp_path)
    process, url = start_server(index, "--auth", "ana:s3cret", "--auth", "ben:pa55word")
    try:
        ana = open_page(browser, url, ("ana", "s3cret"))
        ask(ana, FIRST, "Ana Lima")
        ben = open_page(browser, url, ("ben", "pa55word"))
        ask(ben, SECOND, "opened in May")
        expect_saved_titles(ben, [f"{SECOND} (1 turn)"], reload=True)
        expect_saved_titles(ana, [f"{FIRST} (1 turn)"], reload=True)
    finally:
        process.terminate()
        process.wait(timeout=30)


# axe-core (npm), injected into the page: `make browser` installs it into tests/.axe with npm;
# $QA_AXE_JS may name another copy of axe.min.js.
AXE_JS = Path(
    os.environ.get(
        "QA_AXE_JS",
        Path(__file__).parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js",
    )
)
AUDIT = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + ": " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", "));
}"""


@pytest.mark.skipif(
    not AXE_JS.exists(), reason="axe-core missing: npm install --prefix tests/.axe axe-core"
)
def test_keyboard_and_axe_audit_of_the_chat_and_articles_tabs(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    process, url = start_server(make_index(tmp_path))
    try:
        page = open_page(browser, url)
        box = page.locator("#qa-question textarea")
        box.fill(FIRST)
        box.press("Enter")  # Enter sends
        page.locator("#qa-chat").get_by_text("Ana Lima").last.wait_for(timeout=30_000)
        source = page.locator("#qa-cite-0-1")
        source.locator("mark").wait_for(state="visible", timeout=5_000)
        page.keyboard.press("Escape")  # Escape folds the open sources
        source.locator("mark").wait_for(state="hidden", timeout=5_000)
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
        assert page.evaluate(AUDIT) == []
        page.get_by_role("tab", name="Articles").click()
        page.locator("#qa-add").wait_for(timeout=5_000)
        assert page.evaluate(AUDIT) == []
    finally:
        process.terminate()
        process.wait(timeout=30)
