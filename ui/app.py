"""The Gradio app behind ``qa serve``: a chat whose ``[n]`` citations open to the quoted source.

``build_app(state)`` returns the ``gr.Blocks``; the handlers are plain functions of their inputs
(and the shared ``AppState``), so they are tested without a browser.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from qa import Answer, IndexEmptyError, QAError, Turn
from qa.conversations import turns_label
from qa.limits import check_filters, check_k, check_question
from qa.pipeline.corpus import SUFFIXES
from qa.pipeline.examples import example_questions
from qa.pipeline.readers.web import is_address
from qa.types import make_filters
from qa.watch import Watcher, watch_in_thread
from ui.guard import guard_middleware
from ui.render import (
    article_rows,
    chat_message,
    escape_markdown,
    report_markdown,
    sources_html,
)
from ui.state import AppState
from ui.uploads import MAX_UPLOAD_MB, save_uploads

if TYPE_CHECKING:
    from qa.llm import LLMConfig
EMPTY_INDEX = (
    "The index has no articles yet. Add some in the **Articles** tab (upload .txt, .md, .html, "
    ".pdf, .docx, .json or .jsonl files, or add a web address), or run `qa ingest PATH` in a "
    "terminal."
)

# Clicking a [n] marker opens and highlights its source in the Sources panel (our own script;
# article content never reaches it as code).
HEAD = """
<script>
document.addEventListener("click", function (event) {
  const link = event.target.closest && event.target.closest('a[href*="#qa-cite-"]');
  if (!link) { return; }
  event.preventDefault();
  event.stopPropagation();
  const target = document.getElementById(link.getAttribute("href").split("#").pop());
  if (!target) { return; }
  target.open = true;
  target.classList.add("qa-flash");
  setTimeout(function () { target.classList.remove("qa-flash"); }, 1600);
  target.scrollIntoView({behavior: "smooth", block: "center"});
}, true);
// The copy button of an answer copies the answer with its sources (the text `qa chat` prints,
// kept hidden in the Sources panel as #qa-copy-N) instead of the message's escaped Markdown.
// An answer is matched to its turn N by its [n] links (#qa-cite-N-n); a message without them
// keeps Gradio's own copy.
document.addEventListener("click", function (event) {
  const button = event.target.closest && event.target.closest("#qa-chat button");
  if (!button || !/copy/i.test(button.getAttribute("aria-label") || button.title || "")) {
    return;
  }
  // Gradio puts a message's buttons inside its row or right after it.
  const panel = button.closest(".message-buttons");
  const row = button.closest(".message-row") || (panel && panel.previousElementSibling);
  const link = row && row.querySelector('a[href*="#qa-cite-"]');
  if (!link) { return; }
  const turn = link.getAttribute("href").split("#qa-cite-").pop().split("-")[0];
  const text = document.getElementById("qa-copy-" + turn);
  if (!text || !navigator.clipboard) { return; }
  event.preventDefault();
  event.stopPropagation();
  navigator.clipboard.writeText(text.textContent);
}, true);
// Escape folds the open sources of the Sources panel (and gives the question box the focus
// when it was inside the panel); Enter in the question box sends (Gradio's submit).
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") { return; }
  const panel = document.getElementById("qa-sources");
  if (!panel) { return; }
  panel.querySelectorAll("details[open]").forEach(function (d) { d.open = false; });
  if (panel.contains(document.activeElement)) {
    const box = document.querySelector("#qa-question textarea");
    if (box) { box.focus(); }
  }
});
// Gradio names the upload area "Click to upload or drop files" while it shows "Drop File Here
// - or - Click to Upload": without the attribute the visible words are its name (axe's
// label-content-name-mismatch, a serious violation).
new MutationObserver(function () {
  document.querySelectorAll("#qa-upload button[aria-label]").forEach(function (b) {
    b.removeAttribute("aria-label");
  });
}).observe(document.documentElement, {childList: true, subtree: true});
</script>
"""
CSS = """
.qa-source { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 6px 10px; margin: 6px 0; }
.qa-source summary { cursor: pointer; }
.qa-source.qa-flash { outline: 3px solid #f5b301; }
.qa-passage { white-space: pre-wrap; margin: 6px 0; font-size: 0.92em; }
.qa-passage mark { background: #ffe58a; color: inherit; padding: 0 1px; }
.qa-question { font-weight: 600; margin-top: 10px; }
.qa-link a { font-size: 0.85em; word-break: break-all; }
.qa-copy { display: none; }
"""


def theme() -> gr.themes.Base:
    """Gradio's Soft theme with darker label, button and hint colours: its defaults (indigo 500
    on indigo 100, grey 400 on white) fail WCAG AA contrast (axe-core's color-contrast, checked
    in tests/test_browser_conversations.py)."""
    return gr.themes.Soft(font=["system-ui", "sans-serif"], font_mono=["monospace"]).set(
        block_label_text_color="*primary_700",
        block_title_text_color="*primary_700",
        body_text_color_subdued="*neutral_600",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        link_text_color_visited="*secondary_700",
    )


def respond(
    state: AppState,
    question: str,
    messages: list[dict[str, Any]],
    turns: list[Answer],
    k: int,
    titles: list[str] | None,
    since: str,
    until: str,
) -> Iterator[tuple[str, list[dict[str, Any]], list[Answer], str]]:
    """Chat handler: yields (cleared textbox, messages, answers so far, sources panel HTML)."""
    question = " ".join((question or "").split())
    if not question:
        return
    messages = [*messages, {"role": "user", "content": escape_markdown(question)}]
    panel = sources_html(turns)
    yield "", [*messages, {"role": "assistant", "content": "Searching the articles…"}], turns, panel
    history = [Turn(t.question, t.text if t.found else "") for t in turns]
    try:
        filters = make_filters(titles=titles or (), since=since, until=until)
        if state.llm is None:
            reply = state.ask(question, history, check_k(k), filters)
        else:  # the model's words as they come, then its checked sentences replace them
            from qa.llm import Verdict

            drafted, marks = "", ""
            for event in state.ask_stream(question, history, check_k(k), filters):
                if isinstance(event, Answer):
                    reply = event
                    break
                if isinstance(event, Verdict):  # a finished sentence, checked: ✓ or ✗
                    marks += "✓" if event.supported else "✗"
                    continue
                drafted += event.text
                checked = f" {marks}" if marks else ""
                draft = (
                    f"{escape_markdown(drafted)} ▍\n\n*(checking against the sources…{checked})*"
                )
                yield "", [*messages, {"role": "assistant", "content": draft}], turns, panel
    except IndexEmptyError:
        yield "", [*messages, {"role": "assistant", "content": EMPTY_INDEX}], turns, panel
        return
    except QAError as error:
        raise gr.Error(str(error)) from error
    # Without a model the answer is complete at once: it is shown whole, not replayed.
    turns = [*turns, reply]
    final = chat_message(reply, len(turns) - 1)
    yield "", [*messages, {"role": "assistant", "content": final}], turns, sources_html(turns)


# Saved conversations (qa/conversations.py). ``saved`` is the browser session's
# {"id": conversation id or None, "saved": turns already saved}; ``user`` is the login name
# with ``qa serve --auth`` (None without), so each user lists and opens only their own.
NEW_CONVERSATION: dict[str, Any] = {"id": None, "saved": 0}


def saved_list(state: AppState, user: str | None, selected: str | None = None) -> Any:
    """The saved conversations picker: each by its title (first question) and turns."""
    listed = state.conversations.list(user)
    choices = [(f"{c.title} ({turns_label(c.turns)})", c.id) for c in listed]
    keep = selected if any(c.id == selected for c in listed) else None
    return gr.update(choices=choices, value=keep)


def save_turns(
    state: AppState, user: str | None, turns: list[Answer], saved: dict[str, Any]
) -> tuple[dict[str, Any], Any]:
    """After each answer: save the turns not saved yet (none when the answer was stopped)."""
    conversation_id, count = saved.get("id"), int(saved.get("saved", 0))
    for reply in turns[count:]:
        conversation_id = state.conversations.save(user, conversation_id, reply)
    saved = {"id": conversation_id, "saved": len(turns)}
    return saved, saved_list(state, user, conversation_id)


def respond_and_save(
    state: AppState, user: str | None, saved: dict[str, Any], *asked: Any
) -> Iterator[tuple[Any, ...]]:
    """``respond``, saving the answer before it is shown (a reload right after an answer
    finds it in the saved list); yields respond's views plus (saved, saved conversations)."""
    turns = asked[2]
    for view in respond(state, *asked):
        if len(view[2]) > len(turns):  # the answer is complete
            saved, picker = save_turns(state, user, view[2], saved)
            yield (*view, saved, picker)
        else:
            yield (*view, gr.skip(), gr.skip())


def open_saved(
    state: AppState, user: str | None, conversation_id: str | None
) -> tuple[list[dict[str, Any]], list[Answer], str, dict[str, Any]]:
    """Reopen a saved conversation: its messages, answers (for follow-ups) and Sources panel."""
    if not conversation_id:
        raise gr.Error("Choose a saved conversation first.")
    try:
        conversation = state.conversations.get(user, conversation_id)
    except QAError as error:
        raise gr.Error(str(error)) from error
    turns = conversation.answers
    messages: list[dict[str, Any]] = []
    for turn, reply in enumerate(turns):
        messages.append({"role": "user", "content": escape_markdown(reply.question)})
        messages.append({"role": "assistant", "content": chat_message(reply, turn)})
    saved = {"id": conversation.id, "saved": len(turns)}
    return messages, turns, sources_html(turns), saved


def rename_saved(state: AppState, user: str | None, conversation_id: str | None, title: str) -> Any:
    if not conversation_id:
        raise gr.Error("Choose a saved conversation first.")
    try:
        state.conversations.rename(user, conversation_id, title or "")
    except QAError as error:
        raise gr.Error(str(error)) from error
    return saved_list(state, user, conversation_id)


def delete_saved(
    state: AppState, user: str | None, conversation_id: str | None, saved: dict[str, Any]
) -> tuple[Any, dict[str, Any], Any, Any, Any]:
    """Delete a saved conversation: (saved conversations, saved, chat, answers, Sources
    panel). The chat on screen, if it was that one, is cleared too (else its next answer would
    save the deleted turns again)."""
    if not conversation_id:
        raise gr.Error("Choose a saved conversation first.")
    try:
        state.conversations.delete(user, conversation_id)
    except QAError as error:
        raise gr.Error(str(error)) from error
    if saved.get("id") != conversation_id:
        return saved_list(state, user), saved, gr.skip(), gr.skip(), gr.skip()
    return saved_list(state, user), dict(NEW_CONVERSATION), [], [], sources_html([])


def export_saved(state: AppState, user: str | None, conversation_id: str | None, form: str) -> str:
    """Write the conversation as Markdown ("md") or JSON ("json") to a fresh temporary file,
    for the download link."""
    if not conversation_id:
        raise gr.Error("Choose a saved conversation first.")
    chats = state.conversations
    try:
        text = (
            chats.markdown(user, conversation_id)
            if form == "md"
            else chats.json(user, conversation_id)
        )
    except QAError as error:
        raise gr.Error(str(error)) from error
    path = Path(tempfile.mkdtemp(prefix="qa-export-")) / f"conversation-{conversation_id}.{form}"
    path.write_text(text, encoding="utf-8")
    state.exports.add(path.name, user)  # its download link works for this user only
    return str(path)


def user_of(request: gr.Request | None) -> str | None:
    """The login name with ``qa serve --auth``, None without a login."""
    return getattr(request, "username", None) or None


def add_files(
    state: AppState, files: list[str] | None, progress: Any = None, user: str | None = None
) -> tuple[str, list[list[str | int]], Any, Any]:
    """Upload handler: save the files safely (``user``: who uploads, so nobody replaces another's
    file), ingest them in the writer (questions are answered meanwhile), report what happened."""
    if not files:
        return "Choose one or more article files first.", *article_views(state)
    saved = save_uploads(files, state.upload_dir, user=user)
    lines = [f"- {escape_markdown(reason)}" for reason in saved.rejected]
    if saved.paths:

        def report_progress(stage: str, done: int, total: int) -> None:
            if progress is not None and total:
                progress((done, total), desc=stage)

        report = state.ingest(saved.paths, report_progress)
        text = report_markdown(report)
    else:
        text = "**Nothing was added.**"
    if saved.renamed:
        text += "\n\n" + "\n".join(f"- {escape_markdown(line)}" for line in saved.renamed)
    if lines:
        text += "\n\nRejected uploads:\n" + "\n".join(lines)
    return text, *article_views(state)


def add_address(
    state: AppState, address: str | None, progress: Any = None
) -> tuple[str, list[list[str | int]], Any, Any]:
    """Handler of "Add by address": fetch a web page or feed and ingest it
    (qa/pipeline/readers/web.py)."""
    address = (address or "").strip()
    if not is_address(address):
        return "Enter a web address starting with http:// or https://.", *article_views(state)

    def report_progress(stage: str, done: int, total: int) -> None:
        if progress is not None and total:
            progress((done, total), desc=stage)

    report = state.ingest([address], report_progress)
    return report_markdown(report), *article_views(state)


def remove_article(
    state: AppState, article_id: str | None
) -> tuple[str, list[list[str | int]], Any, Any]:
    if not article_id:
        return "Choose an article to remove.", *article_views(state)
    try:
        removed = state.remove([article_id])
    except QAError as error:
        return escape_markdown(str(error)), *article_views(state)
    return f"Removed {len(removed)} article.", *article_views(state)


def article_views(state: AppState) -> tuple[list[list[str | int]], Any, Any]:
    """The articles table and the two article pickers (remove, filter), fresh from the index."""
    articles = state.articles()
    ids = [(f"{a.title} ({a.id})", a.id) for a in articles]
    titles = sorted({a.title for a in articles})
    return article_rows(articles), gr.update(choices=ids, value=None), gr.update(choices=titles)


def example_samples(state: AppState) -> Any:
    """The "Try" list, fresh from the index (after articles were added or removed)."""
    return gr.update(samples=[[q] for q in example_questions(state.articles())])


def api_ask(
    state: AppState,
    question: object,
    k: object = 5,
    articles: object = None,
    since: object = "",
    until: object = "",
) -> dict[str, Any]:
    """The public ``/ask`` API: arguments checked as the CLI checks them (``qa.limits``), each
    refusal one line."""
    try:
        text = check_question(question)
        filters = check_filters(articles, since, until)
        return state.ask(text, [], check_k(k), filters).to_dict()
    except QAError as error:
        raise gr.Error(str(error)) from error


def build_app(state: AppState) -> gr.Blocks:
    articles = state.articles()
    with gr.Blocks(title="article-qa", analytics_enabled=False) as app:
        gr.Markdown("## article-qa\nAnswers from your articles; every sentence cites its source.")
        turns = gr.State([])
        saved = gr.State(dict(NEW_CONVERSATION))
        with gr.Tab("Chat"):
            with gr.Row():
                with gr.Column(scale=1, min_width=220):
                    gr.Markdown("### Saved conversations")
                    saved_choice = gr.Dropdown(
                        choices=[], label="Saved conversations", elem_id="qa-saved"
                    )
                    with gr.Row():
                        open_button = gr.Button("Open", size="sm", elem_id="qa-open")
                        delete_button = gr.Button(
                            "Delete", size="sm", variant="stop", elem_id="qa-delete"
                        )
                    new_title = gr.Textbox(label="New name", max_length=200, elem_id="qa-new-title")
                    rename_button = gr.Button("Rename", size="sm", elem_id="qa-rename")
                    with gr.Row():
                        export_md = gr.Button("Export Markdown", size="sm", elem_id="qa-export-md")
                        export_json = gr.Button("Export JSON", size="sm", elem_id="qa-export-json")
                    # Shown once there is a file (an empty File's placeholder has an ARIA label
                    # on a plain div, which axe-core reports as a serious violation).
                    exported = gr.File(
                        label="Exported conversation",
                        interactive=False,
                        visible=False,
                        elem_id="qa-exported",
                    )
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        height=520,
                        elem_id="qa-chat",
                        label="Conversation",
                        placeholder=EMPTY_INDEX if not articles else "Ask about your articles.",
                        sanitize_html=True,
                        feedback_options=None,
                        buttons=["copy"],  # copies the answer with its sources (HEAD's script)
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            placeholder="Ask a question…",
                            label="Question",
                            show_label=False,
                            scale=5,
                            elem_id="qa-question",
                            max_length=1000,
                        )
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask")
                    examples = gr.Examples(
                        example_questions(articles),
                        inputs=question,
                        label="Try",
                        elem_id="qa-examples",
                    )
                    with gr.Row():
                        new_chat = gr.Button("New conversation", size="sm")
                        stop = gr.Button("Stop", size="sm", variant="stop", elem_id="qa-stop")
                with gr.Column(scale=2):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(sources_html([]), elem_id="qa-sources", js_on_load=None)
            with gr.Accordion("Settings", open=False):
                k = gr.Slider(1, 10, value=5, step=1, label="Passages to retrieve")
                title_filter = gr.Dropdown(
                    choices=sorted({a.title for a in articles}),
                    multiselect=True,
                    label="Only these articles",
                )
                with gr.Row():
                    since = gr.Textbox(label="Articles dated from (YYYY-MM-DD)")
                    until = gr.Textbox(label="until (YYYY-MM-DD)")
        with gr.Tab("Articles"):
            uploads = gr.File(
                file_count="multiple",
                file_types=[*SUFFIXES, ".gz"],
                label=f"Add article files (up to {MAX_UPLOAD_MB} MB each)",
                elem_id="qa-upload",
            )
            add = gr.Button("Add to index", variant="primary", elem_id="qa-add")
            with gr.Row():
                address = gr.Textbox(
                    label="Add by address (a web page or an RSS/Atom feed)",
                    placeholder="https://example.org/article or https://example.org/feed.xml",
                    scale=5,
                    elem_id="qa-address",
                    max_length=2000,
                )
                fetch = gr.Button("Fetch and add", scale=1, elem_id="qa-fetch")
            report = gr.Markdown(elem_id="qa-report")
            table = gr.Dataframe(
                value=article_rows(articles),
                headers=["title", "id", "chunks", "date", "source"],
                interactive=False,
                label="Articles in the index",
            )
            with gr.Row():
                choice = gr.Dropdown(
                    choices=[(f"{a.title} ({a.id})", a.id) for a in articles],
                    label="Article to remove",
                )
                remove = gr.Button("Remove", variant="stop")

        def on_ask(
            question: str,
            messages: list[dict[str, Any]],
            turns: list[Answer],
            k: int,
            titles: list[str] | None,
            since: str,
            until: str,
            saved: dict[str, Any],
            request: gr.Request,
        ) -> Iterator[Any]:
            yield from respond_and_save(
                state, user_of(request), saved, question, messages, turns, k, titles, since, until
            )

        chat_inputs = [question, chatbot, turns, k, title_filter, since, until, saved]
        chat_outputs = [question, chatbot, turns, sources, saved, saved_choice]
        asked: list[Any] = [
            send.click(on_ask, chat_inputs, chat_outputs, api_visibility="private"),
            question.submit(on_ask, chat_inputs, chat_outputs, api_visibility="private"),
        ]
        # Never hang on a slow model: Stop cancels the answer being written.
        stop.click(None, None, None, cancels=asked, api_visibility="private")
        new_chat.click(
            lambda: ([], [], sources_html([]), dict(NEW_CONVERSATION)),
            None,
            [chatbot, turns, sources, saved],
            api_visibility="private",
        )

        def on_load(request: gr.Request) -> Any:
            return saved_list(state, user_of(request))

        def on_open(conversation_id: str | None, request: gr.Request) -> Any:
            return open_saved(state, user_of(request), conversation_id)

        def on_rename(conversation_id: str | None, title: str, request: gr.Request) -> Any:
            return rename_saved(state, user_of(request), conversation_id, title)

        def on_delete(conversation_id: str | None, saved: Any, request: gr.Request) -> Any:
            return delete_saved(state, user_of(request), conversation_id, saved)

        def on_export(form: str) -> Callable[..., Any]:
            def export(conversation_id: str | None, request: gr.Request) -> Any:
                path = export_saved(state, user_of(request), conversation_id, form)
                return gr.update(value=path, visible=True)

            return export

        app.load(on_load, None, saved_choice, api_visibility="private")
        open_button.click(
            on_open, [saved_choice], [chatbot, turns, sources, saved], api_visibility="private"
        )
        rename_button.click(
            on_rename, [saved_choice, new_title], saved_choice, api_visibility="private"
        )
        delete_button.click(
            on_delete,
            [saved_choice, saved],
            [saved_choice, saved, chatbot, turns, sources],
            api_visibility="private",
        )
        export_md.click(on_export("md"), [saved_choice], exported, api_visibility="private")
        export_json.click(on_export("json"), [saved_choice], exported, api_visibility="private")

        def on_add(
            files: list[str] | None,
            request: gr.Request,
            progress: gr.Progress = gr.Progress(),  # noqa: B008
        ) -> Any:
            return add_files(state, files, progress, user_of(request))

        add.click(
            on_add, [uploads], [report, table, choice, title_filter], api_visibility="private"
        ).then(lambda: example_samples(state), None, examples.dataset, api_visibility="private")

        def on_address(address: str, progress: gr.Progress = gr.Progress()) -> Any:  # noqa: B008
            return add_address(state, address, progress)

        for added_by_address in (fetch.click, address.submit):
            added_by_address(
                on_address,
                [address],
                [report, table, choice, title_filter],
                api_visibility="private",
            ).then(lambda: example_samples(state), None, examples.dataset, api_visibility="private")
        remove.click(
            lambda article_id: remove_article(state, article_id),
            [choice],
            [report, table, choice, title_filter],
            api_visibility="private",
        ).then(lambda: example_samples(state), None, examples.dataset, api_visibility="private")

        def ask(
            question: str,
            k: int = 5,
            articles: list[str] | None = None,
            since: str = "",
            until: str = "",
        ) -> dict[str, Any]:
            """Answer a question; returns the Answer as a dict (text, found, citations, ...).
            ``k``: passages to keep (1 to 50); ``articles``: only these titles or ids;
            ``since``/``until``: only articles dated in that range."""
            return api_ask(state, question, k, articles, since, until)

        gr.api(ask, api_name="ask")
    return app


def serve(
    index_dir: Path,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: list[tuple[str, str]] | None = None,
    model: str | None = None,
    block: bool = True,
    allow_private_urls: bool = False,
    watch: Sequence[str] = (),
    llm: LLMConfig | None = None,
) -> gr.Blocks:
    """Build and launch the app (blocking unless ``block=False``); ``watch`` keeps the index
    in sync with those files and folders while it runs (qa/watch.py)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    state = AppState(index_dir, model, llm, allow_private_urls=allow_private_urls)
    state.warm_up()
    if watch:
        watcher = Watcher(  # writes as the upload worker does: questions never wait for it
            state.writer.assistant,
            watch,
            log=lambda line: print(line, file=sys.stderr),
            lock=state.writer.lock,
        )
        watch_in_thread(watcher)
    app = build_app(state)
    app.queue(default_concurrency_limit=4)
    app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        share=False,
        max_file_size=f"{MAX_UPLOAD_MB}mb",
        prevent_thread_lock=not block,
        theme=theme(),
        css=CSS,
        head=HEAD,
        footer_links=["api"],
        quiet=not block,
        # Login throttling and owner-only export links (ui/guard.py).
        app_kwargs={"middleware": [guard_middleware(state)]},
    )
    return app
