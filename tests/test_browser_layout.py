"""The page's layout on a desktop (1400x1000) and a phone (390x844), and its accessibility in
light and dark mode at both sizes (issue 28, points 3 and 5), in Debian's Chromium. Skipped
without /usr/bin/chromium (or $QA_CHROMIUM); the audit also needs axe-core (`make browser` puts
it in tests/.axe)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa import Assistant
from tests.test_browser import ARGS, BRIDGE, CHROMIUM, HARBOUR, WAIT, ask, patient, start_server
from tests.test_browser_conversations import wait_address, wait_ready

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM}: run make browser"
    ),
]
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
OPEN = re.compile(r"\bopen\b")  # Gradio's class of an open sidebar
FERRY = "# Island ferry\n\nThe island ferry runs twice a day in summer."
RAILWAY = "# Mountain railway\n\nThe mountain railway climbs to the pass in forty minutes."
# Four "Try" examples, each long enough for a row of its own on a desktop, as the demo corpus's
# are: they once pushed the question box and Ask below a 1000 px window, and on a phone all
# but their heading sat under the pinned question box.
EXAMPLES = {
    "Harbour storm": "How many days did the storm keep the harbour closed to boats?",
    "New bridge": "Which kind of line runs over the new bridge across the Vale river?",
    "Island ferry": "How often does the island ferry run in the summer months?",
    "Mountain railway": "How long does the mountain railway take to climb up to the pass?",
}
# axe-core (npm), injected into the page: `make browser` installs it into tests/.axe with npm;
# $QA_AXE_JS may name another copy of axe.min.js.
AXE_JS = Path(
    os.environ.get(
        "QA_AXE_JS",
        Path(__file__).parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js",
    )
)
# The audit waits for transitions to end (a sheet sliding in, a menu fading): mid-way, text over
# a half-transparent background reads as low contrast. Endless animations (a spinner) don't count.
AUDIT = """async () => {
  const moving = () => document.getAnimations().some(
    a => a.playState === "running" && a.effect && a.effect.getTiming().iterations !== Infinity);
  for (let waited = 0; moving() && waited < 5000; waited += 50) {
    await new Promise(done => setTimeout(done, 50));
  }
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + ": " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", "));
}"""


@pytest.fixture(scope="module")
def conversation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a saved conversation of two answers, on a running server whose index
    has the four articles of ``EXAMPLES``."""
    root = tmp_path_factory.mktemp("layout")
    docs = root / "docs"
    docs.mkdir()
    for name, text in (
        ("harbour.md", HARBOUR), ("bridge.md", BRIDGE), ("ferry.md", FERRY),
        ("railway.md", RAILWAY),
    ):  # fmt: skip
        (docs / name).write_text(text, encoding="utf-8")
    shipped = [{"question": q, "article": title} for title, q in EXAMPLES.items()]
    # Beside the articles' folder, as corpus/questions.json is (in it, it would be ingested).
    (root / "questions.json").write_text(json.dumps(shipped), encoding="utf-8")
    with Assistant.open(root / "index", model="hash") as assistant:
        assert assistant.ingest([docs]).ok
    process, url = start_server(root / "index")
    try:
        with browser_page(DESKTOP) as page:
            page.goto(url)
            wait_ready(page)
            ask(page, "Who reopened the harbour?", "Ana Lima")
            ask(page, "When did the new bridge over the Vale river open?", "opened in May")
            saved = wait_address(page)
        yield f"{url}?c={saved}"
    finally:
        process.terminate()
        process.wait(timeout=30)


class browser_page:
    """``with browser_page(size, scheme) as page``: a fresh Chromium page at that size."""

    def __init__(self, viewport: dict[str, int], scheme: str = "light") -> None:
        self.viewport, self.scheme = viewport, scheme

    def __enter__(self):  # type: ignore[no-untyped-def]
        from playwright.sync_api import sync_playwright

        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = self.browser.new_context(viewport=self.viewport, color_scheme=self.scheme)
        return patient(context.new_page())

    def __exit__(self, *exc: object) -> None:
        self.browser.close()
        self.playwright.stop()


def opened(page, address: str, answers: int = 2) -> None:  # type: ignore[no-untyped-def]
    """The page at ``address``, once its answers and its examples are in."""
    from playwright.sync_api import expect

    page.goto(address)
    wait_ready(page)
    expect(page.locator("#qa-chat .qa-chips")).to_have_count(answers, timeout=WAIT)
    expect(page.locator("#qa-examples button")).to_have_count(len(EXAMPLES), timeout=WAIT)


def box(page, selector: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not on the page"
    return found


def test_on_a_phone_the_chat_and_the_question_box_fill_the_first_screen(
    conversation: str,
) -> None:
    from playwright.sync_api import expect

    with browser_page(PHONE) as page:
        opened(page, conversation)
        question, chat = box(page, "#qa-question"), box(page, "#qa-chat")
        height = PHONE["height"]
        # The question box is pinned to the bottom of the first screen, the chat above it.
        assert height - 160 < question["y"] and question["y"] + question["height"] <= height
        assert chat["y"] < height / 4 and chat["height"] > height / 3
        assert chat["y"] + chat["height"] <= question["y"]
        page.mouse.wheel(0, 2000)  # pinned: scrolling leaves it where it is
        page.wait_for_function(
            "() => window.scrollY > 0 || document.documentElement.scrollHeight <= innerHeight"
        )
        assert abs(box(page, "#qa-question")["y"] - question["y"]) < 2
        # Saved conversations open as a drawer, shut at first.
        conversations = page.locator("#qa-saved")
        assert not conversations.is_visible() or box(page, "#qa-saved")["x"] < 0
        page.locator("#qa-sidebar .toggle-button").click()
        expect(page.locator("#qa-sidebar")).to_have_class(OPEN, timeout=WAIT)
        page.wait_for_function(
            "() => document.querySelector('#qa-saved').getBoundingClientRect().x >= 0"
        )
        # Sources open as a sheet over the chat, with a way back to the answer.
        page.locator("#qa-sidebar .toggle-button").click()
        expect(page.locator("#qa-sidebar")).not_to_have_class(OPEN, timeout=WAIT)
        expect(page.locator("#qa-sources")).to_be_hidden()
        marker = page.locator('#qa-chat a.qa-cite[href$="#qa-cite-0-1"]')
        marker.click()
        sheet = page.locator("#qa-sources-column")
        expect(sheet.locator("#qa-cite-0-1 mark")).to_be_visible()
        covered = box(page, "#qa-sources-column")
        assert covered["y"] < height / 5 and covered["width"] >= PHONE["width"] - 2
        page.get_by_role("button", name="← Back to the answer").click()
        expect(page.locator("#qa-sources")).to_be_hidden()
        expect(marker).to_be_focused()


def test_on_a_desktop_the_conversations_are_a_sidebar_and_the_chat_uses_the_width(
    conversation: str,
) -> None:
    with browser_page(DESKTOP) as page:
        opened(page, conversation)
        page.wait_for_function(
            "() => document.querySelector('#qa-sidebar').classList.contains('open')"
            " && document.querySelector('#qa-saved').getBoundingClientRect().x >= 0"
        )  # open, and done sliding in (a busy machine draws the transition slowly)
        sidebar, chat = box(page, "#qa-saved"), box(page, "#qa-chat")
        question, sources = box(page, "#qa-question"), box(page, "#qa-sources-column")
        assert 0 <= sidebar["x"] < 60 and sidebar["x"] + sidebar["width"] < chat["x"]
        assert chat["x"] + chat["width"] <= sources["x"]  # the Sources beside the chat
        assert sources["x"] + sources["width"] > DESKTOP["width"] - 120  # the width is used
        assert chat["width"] > 600
        # The whole composer (the box, Ask) is on the first screen, under the examples.
        composer, examples = box(page, "#qa-composer"), box(page, "#qa-examples")
        for part in (composer, question, box(page, "#qa-ask")):
            assert part["y"] + part["height"] <= DESKTOP["height"]
        assert examples["y"] + examples["height"] <= composer["y"]


def test_on_a_phone_a_new_chat_shows_the_examples_above_the_question_box(
    conversation: str,
) -> None:
    with browser_page(PHONE) as page:
        opened(page, conversation.split("?")[0], answers=0)  # a new chat
        composer = box(page, "#qa-composer")
        examples = page.locator("#qa-examples button")
        for shown in range(len(EXAMPLES)):
            example = examples.nth(shown).bounding_box()
            assert example is not None
            # Each is on the first screen, above the pinned composer, not under it.
            assert example["y"] >= 0 and example["y"] + example["height"] <= composer["y"]


@pytest.mark.skipif(
    not AXE_JS.exists(), reason="axe-core missing: npm install --prefix tests/.axe axe-core"
)
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_axe_finds_nothing_serious(conversation: str, size: str, scheme: str) -> None:
    """The chat (with answers, a quote preview and, on a phone, the Sources sheet), the
    conversation menu and the Articles tab."""
    from playwright.sync_api import expect

    with browser_page(DESKTOP if size == "desktop" else PHONE, scheme) as page:
        opened(page, conversation)
        assert page.evaluate("() => document.body.classList.contains('dark')") == (scheme == "dark")
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
        assert page.evaluate(AUDIT) == []
        page.locator('#qa-chat a.qa-cite[href$="#qa-cite-0-1"]').click()
        expect(page.locator("#qa-cite-0-1 mark")).to_be_visible()
        # The other answer's [1] previews its quote (a click closed the first one's).
        page.locator('#qa-chat a.qa-cite[href$="#qa-cite-1-1"]').focus()
        expect(page.locator("#qa-tooltip")).to_be_visible()
        assert page.evaluate(AUDIT) == []
        page.keyboard.press("Escape")  # Escape closes the preview, then the sheet
        page.keyboard.press("Escape")
        if size == "phone":
            expect(page.locator("#qa-sources")).to_be_hidden()
            page.locator("#qa-sidebar .toggle-button").click()
        page.locator("#qa-conversation-menu").get_by_text("Rename, export or delete").click()
        expect(page.locator("#qa-rename")).to_be_visible()
        assert page.evaluate(AUDIT) == []
        if size == "phone":
            page.locator("#qa-sidebar .toggle-button").click()
        page.get_by_role("tab", name="Articles").click()
        expect(page.locator("#qa-articles .qa-count")).to_have_text(f"{len(EXAMPLES)} articles")
        assert page.evaluate(AUDIT) == []


def test_keyboard_enter_asks_and_escape_folds_the_sources(conversation: str) -> None:
    from playwright.sync_api import expect

    with browser_page(DESKTOP) as page:
        page.goto(conversation.split("?")[0])  # a new chat
        wait_ready(page)
        question = page.locator("#qa-question textarea")
        question.fill("Who reopened the harbour?")
        question.press("Enter")  # Enter sends
        source = page.locator("#qa-cite-0-1")
        expect(source.locator("mark")).to_be_visible(timeout=WAIT)
        page.keyboard.press("Escape")  # Escape folds the open sources
        expect(source.locator("mark")).to_be_hidden()
