"""The chat as people expect it (issue 28), end to end in Debian's Chromium: nothing lost by a
keystroke, sources beside each answer, settings that speak, a live empty state, deliberate
removal of articles. Skipped without /usr/bin/chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qa import Assistant
from tests.test_browser import ARGS, CHROMIUM, WAIT, ask, patient, start_server
from tests.test_browser_conversations import listed, wait_address, wait_ready

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM}: run make browser"
    ),
]
HARBOUR = (
    "---\ntitle: Harbour storm\ndate: 2024-03-02\nurl: https://news.example/harbour\n---\n\n"
    "A storm closed the harbour for three days. The harbour master Ana Lima reopened the "
    "harbour on Monday. Fishing boats returned at dawn."
)
BRIDGE = (
    "---\ntitle: New bridge\ndate: 2019-05-10\n---\n\n"
    "The new bridge over the Vale river opened in May with a tram line."
)
FERRY = "# Island ferry\n\nThe island ferry runs twice a day in summer."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("chat")
    docs = root / "docs"
    docs.mkdir()
    for name, text in (("harbour.md", HARBOUR), ("bridge.md", BRIDGE), ("ferry.md", FERRY)):
        (docs / name).write_text(text, encoding="utf-8")
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
        wait_ready(page)
        yield page
        browser.close()


def test_no_keystroke_loses_anything(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    box, ask_button, stop = (
        page.locator(s) for s in ("#qa-question textarea", "#qa-ask", "#qa-stop")
    )
    expect(ask_button).to_be_disabled()  # nothing to ask yet
    expect(stop).to_be_hidden()
    # Gradio writes Ask's disabled property again whenever Stop and Ask trade places, maybe
    # after the next question is typed: Ask follows the box, not the last write.
    box.fill("Where did the boats go?")
    page.wait_for_timeout(1_000)  # the page's start-up events have ended: nothing else syncs Ask
    page.evaluate("() => { document.querySelector('#qa-ask').disabled = true; }")
    expect(ask_button).to_be_enabled(timeout=5_000)
    box.fill("")
    expect(ask_button).to_be_disabled()
    # Stop shows in place of Ask while the answer is written: record what the page shows.
    page.evaluate(
        """() => { window.__stopShown = false;
        new MutationObserver(() => {
          const stop = document.querySelector('#qa-stop');
          const ask = document.querySelector('#qa-ask');
          if (stop && stop.offsetParent && !(ask && ask.offsetParent)) {
            window.__stopShown = true;
          }
        }).observe(document.body, {subtree: true, childList: true, attributes: true}); }"""
    )
    ask(page, "Who reopened the harbour?", "Ana Lima")
    assert page.evaluate("() => window.__stopShown") is True
    expect(stop).to_be_hidden()
    first = wait_address(page)
    # A double Enter in the empty box changes nothing: no request leaves the page (a late
    # reply once wiped the next typed question), the chat is never emptied, even for a moment
    # (the observer records it), and the next question follows the first answer.
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/queue/join" in r.url else None)
    page.evaluate(
        """() => { window.__wiped = false;
        new MutationObserver(() => {
          if (!document.querySelector('#qa-chat .message-row')) { window.__wiped = true; }
        }).observe(document.body, {subtree: true, childList: true}); }"""
    )
    box.press("Enter")
    box.press("Enter")
    box.fill("   ")
    expect(ask_button).to_be_disabled()
    box.press("Enter")
    page.wait_for_timeout(500)  # time for a request to leave, were one sent
    assert sent == []
    ask(page, "Did fishing boats return at dawn?", "Fishing boats returned")
    assert len(sent) >= 1  # a real question is sent
    assert page.evaluate("() => window.__wiped") is False
    expect(page.locator("#qa-chat .message-row.bot-row")).to_have_count(2)
    expect(page.locator("#qa-chat")).to_contain_text("Ana Lima")
    expect(page.locator('#qa-saved a[aria-current="page"]')).to_contain_text("2 turns")
    assert wait_address(page) == first
    # The trash icon starts a real new conversation: chat, Sources and address reset ...
    page.locator('#qa-chat button[aria-label="Clear"]').click()
    wait_address(page, "")
    expect(page.locator("#qa-chat")).not_to_contain_text("Ana Lima", timeout=WAIT)
    expect(page.locator("#qa-sources")).to_contain_text("Sources of each answer appear here")
    # ... so the next question is a new saved conversation with one turn.
    ask(page, "When did the new bridge over the Vale river open?", "opened in May")
    second = wait_address(page)
    assert second != first
    expect(page.locator('#qa-saved a[aria-current="page"]')).to_contain_text("1 turn")
    assert "Who reopened the harbour?" in listed(page)  # the first one is kept, as it was


def test_sources_beside_each_answer(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ask(page, "Who reopened the harbour?", "Ana Lima")
    ask(page, "When did the new bridge over the Vale river open?", "opened in May")
    answers = page.locator("#qa-chat .message-row.bot-row")
    expect(answers.nth(0).locator(".qa-chip")).to_have_text(["[1] Harbour storm · 2024-03-02"])
    expect(answers.nth(1).locator(".qa-chip")).to_have_text(["[1] New bridge · 2019-05-10"])
    # The accessible name of [n] is the article's title (after the visible "[1]").
    marker = page.get_by_role("link", name="[1] Harbour storm", exact=True)
    expect(marker).to_have_count(1)
    # Hovering or focusing [n] previews the quote.
    tooltip = page.locator("#qa-tooltip")
    marker.hover()
    expect(tooltip).to_contain_text("“The harbour master Ana Lima reopened the harbour")
    page.mouse.move(5, 5)
    expect(tooltip).to_be_hidden()
    marker.focus()
    expect(tooltip).to_contain_text("Harbour storm · 2024-03-02")
    # The Sources panel shows the answer clicked, not every turn stacked.
    sections = page.locator("#qa-sources .qa-turn")
    expect(sections.filter(has_text="Ana Lima")).to_be_hidden()
    expect(sections.filter(has_text="Vale river")).to_be_visible()
    marker.click()
    expect(sections.filter(has_text="Ana Lima")).to_be_visible()
    expect(sections.filter(has_text="Vale river")).to_be_hidden()
    # A click closes the preview, though the pointer is still on [n]: the quote is in view
    # in the Sources panel now, and the preview sat over its highlight.
    expect(page.locator("#qa-cite-0-1 mark")).to_be_visible()
    expect(tooltip).to_be_hidden()
    answers.nth(1).locator(".qa-chip").click()
    expect(sections.filter(has_text="Vale river")).to_be_visible()
    expect(sections.filter(has_text="Ana Lima")).to_be_hidden()


def test_the_scope_chip_and_dates_that_speak(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    chip = page.locator("#qa-scope")
    expect(chip).to_have_text("All articles")
    chip.click()
    since = page.locator("#qa-settings").get_by_label("Dated from")
    note = page.locator("#qa-scope-note")
    since.fill("1/1/2020")
    since.press("Enter")
    expect(chip).to_have_text("Check the dates")
    expect(note).to_contain_text('"1/1/2020" is not a date. Use YYYY-MM-DD (2024-03-01)')
    # Asked anyway: the reason, not an empty answer.
    ask(page, "Who reopened the harbour?", "Not asked:")
    since.fill("2030")
    since.press("Enter")
    expect(chip).to_have_text("No articles since 2030-01-01")
    expect(note).to_contain_text("No article is dated since 2030-01-01 (the index has 3).")
    expect(note).to_contain_text("1 article has no date")
    since.fill("2024")
    since.press("Enter")
    expect(chip).to_have_text("1 article since 2024-01-01")
    expect(note).to_have_text("")
    ask(page, "Who reopened the harbour?", "Ana Lima")


def test_a_live_empty_state(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with Assistant.open(tmp_path / "index", model="hash"):
        pass  # an empty index on the hash test model
    process, url = start_server(tmp_path / "index")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = patient(browser.new_page(viewport={"width": 1400, "height": 1000}))
            page.goto(url)
            wait_ready(page)
            expect(page.locator("#qa-chat")).to_contain_text("The index has no articles yet")
            page.locator("#qa-add-articles").click()  # the empty state opens the Articles tab
            expect(page.get_by_role("tab", name="Articles")).to_have_attribute(
                "aria-selected", "true"
            )
            article = tmp_path / "volcano.md"
            article.write_text("# Volcano watch\n\nThe volcano erupted in June.\n", "utf-8")
            page.locator('#qa-upload input[type="file"]').set_input_files(str(article))
            page.locator("#qa-add").click()
            expect(page.locator("#qa-report")).to_contain_text("added 1", timeout=WAIT)
            page.get_by_role("tab", name="Chat").click()
            expect(page.locator("#qa-chat")).to_contain_text("Ask about your articles.")
            expect(page.locator("#qa-examples")).to_contain_text("What is known about Volcano")
            expect(page.locator("#qa-add-articles")).to_be_hidden()
            page.locator("#qa-examples").get_by_text("What is known about Volcano").click()
            expect(page.locator("#qa-question textarea")).to_have_value(
                "What is known about Volcano watch?"
            )
            expect(page.locator("#qa-ask")).to_be_enabled()  # a Try example can be asked
            # Another process empties the index: a reload reads it again.
            # (With the index's own model: the upload built it with the server's.)
            with Assistant.open(tmp_path / "index") as other:
                other.remove([a.id for a in other.articles()])
            page.reload()
            wait_ready(page)
            expect(page.locator("#qa-chat")).to_contain_text("The index has no articles yet")
            expect(page.locator("#qa-add-articles")).to_be_visible()
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_removing_an_article_is_deliberate(page) -> None:  # type: ignore[no-untyped-def]
    """Last in this file: it removes an article from the index the others share."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Articles").click()
    articles = page.locator("#qa-articles")
    expect(articles.locator(".qa-count")).to_have_text("3 articles")
    page.locator("#qa-article-filter input, #qa-article-filter textarea").first.fill("ferry")
    expect(articles.locator(".qa-count")).to_have_text("1 of 3 articles")
    expect(articles.locator("tbody tr")).to_have_count(1)
    # Nothing is preselected: a row's own button asks, naming the article.
    articles.get_by_role("button", name="Remove Island ferry").click()
    confirm = page.locator("#qa-remove-confirm")
    expect(confirm).to_contain_text("Remove “Island ferry” (1 chunk, from ferry.md)")
    page.locator("#qa-remove-no").click()
    expect(confirm).to_be_hidden()
    expect(articles.locator(".qa-count")).to_have_text("1 of 3 articles")
    articles.get_by_role("button", name="Remove Island ferry").click()
    page.locator("#qa-remove-yes").click()
    expect(page.locator("#qa-report")).to_have_text("Removed “Island ferry” (1 chunk).")
    expect(articles.locator(".qa-count")).to_have_text("0 of 2 articles")


def test_did_you_mean_puts_the_respelled_question_in_the_box(page) -> None:  # type: ignore[no-untyped-def]
    """No article writes "Lmia": the answer abstains and offers the question as the harbour
    article spells the name; a click puts it in the box, ready to ask (qa/pipeline/spelling.py)."""
    from playwright.sync_api import expect

    ask(page, "When did Ana Lmia sail to Brazil?", "Did you mean")
    offer = page.locator("#qa-chat .message-row.bot-row").last.locator("a.qa-suggest")
    expect(offer).to_have_text("When did Ana Lima sail to Brazil?")
    offer.click()
    box = page.locator("#qa-question textarea")
    expect(box).to_have_value("When did Ana Lima sail to Brazil?")
    expect(box).to_be_focused()
    expect(page.locator("#qa-ask")).to_be_enabled()
    assert page.evaluate("() => location.hash") != "#qa-suggest"  # the link only fills the box
