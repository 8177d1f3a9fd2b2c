"""The Chat tab: the chat, the composer (scope chip, question box, Ask/Stop), the search
settings behind the chip, and the Sources panel.

``respond`` and ``respond_and_save`` are plain generators of the views, and ``scope_view`` and
``index_views`` plain functions (tested without a browser); ``build_chat`` lays the tab out
and wires its events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from qa import Answer, IndexEmptyError, QAError, Turn
from qa.limits import check_k
from qa.pipeline.examples import example_questions
from qa.types import Filters, make_filters
from ui.render import chat_message, escape_markdown, verdict_mark
from ui.saved import NOT_FOUND, save_turns, user_of
from ui.sources import EMPTY, sources_html
from ui.state import AppState

EMPTY_INDEX = (
    "The index has no articles yet. Add some in the **Articles** tab (upload .txt, .md, .html, "
    ".pdf, .docx, .json or .jsonl files, or add a web address), or run `qa ingest PATH` in a "
    "terminal."
)
READY = "Ask about your articles."
DATE_HINT = 'e.g. 2024-03-01, 2024-03, 2024 or "last year"'
# In the browser only (no server call): Ask is enabled while the question box holds a question.
SYNC_ASK = "() => { window.qaSyncAsk && window.qaSyncAsk(); }"


def respond(
    state: AppState,
    question: str,
    messages: list[dict[str, Any]],
    turns: list[Answer],
    k: int,
    titles: list[str] | None,
    since: str,
    until: str,
) -> Iterator[tuple[Any, ...]]:
    """Chat handler: yields (the textbox, messages, answers so far, Sources panel HTML); the
    first view clears the textbox, later ones leave it as the user has it.

    An empty question changes nothing (one view of ``gr.skip()``: a handler that yields
    nothing would blank the chat). A question the filters cannot be asked with (a date that
    is not one, or nothing left to search) gets the reason as a reply that is not saved."""
    question = " ".join((question or "").split())
    if not question:
        yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return
    messages = [*without_notice(messages), {"role": "user", "content": escape_markdown(question)}]
    panel = sources_html(turns)
    yield "", [*messages, {"role": "assistant", "content": "Searching the articles…"}], turns, panel
    # The box was cleared when the question was taken; later views leave it alone, so a next
    # question typed while this answer is written is never wiped by it.
    box = gr.skip()
    history = [Turn.of(t) for t in turns]
    try:
        # Filters that leave no article are refused by the assistant itself (said below).
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
                if isinstance(event, Verdict):  # a finished sentence, checked: ✓, ✗ or ✗!
                    marks += f" {verdict_mark(event)}"  # shown now: the last comes after its text
                else:
                    drafted += event.text
                draft = f"{escape_markdown(drafted)} ▍\n\n*(checking against the sources…{marks})*"
                yield box, [*messages, {"role": "assistant", "content": draft}], turns, panel
    except IndexEmptyError:
        yield box, [*messages, {"role": "assistant", "content": EMPTY_INDEX}], turns, panel
        return
    except QAError as error:  # said in the chat; nothing is saved
        said = f"**Not asked:** {escape_markdown(str(error))}"
        yield box, [*messages, {"role": "assistant", "content": said}], turns, panel
        return
    # Without a model the answer is complete at once: it is shown whole, not replayed.
    turns = [*turns, reply]
    final = chat_message(reply, len(turns) - 1)
    yield box, [*messages, {"role": "assistant", "content": final}], turns, sources_html(turns)


def without_notice(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chat's messages less the "Conversation not found" notice: it said what the address
    held, and a question asked there starts a new conversation (at its own address)."""
    return [m for m in messages if message_text(m) != NOT_FOUND]


def message_text(message: dict[str, Any]) -> str:
    """A chat message's text: ours are strings; the browser sends them back as a list of parts
    ({"type": "text", "text": ...})."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else []
    return "".join(p.get("text", "") for p in parts if isinstance(p, dict))


def respond_and_save(
    state: AppState, user: str | None, saved: dict[str, Any], *asked: Any
) -> Iterator[tuple[Any, ...]]:
    """``respond``, saving the answer before it is shown (a reload right after an answer
    finds it); yields respond's views plus (saved, the sidebar's list, its menu)."""
    turns = asked[2]
    for view in respond(state, *asked):
        if isinstance(view[2], list) and len(view[2]) > len(turns):  # the answer is complete
            yield (*view, *save_turns(state, user, view[2], saved))
        else:
            yield (*view, gr.skip(), gr.skip(), gr.skip())


def scope_view(
    state: AppState, titles: list[str] | None, since: str, until: str
) -> tuple[Any, str]:
    """The scope chip's label ("All articles", "3 articles since 2024-01-01") and the note
    under the settings: why a date is refused, or why nothing is left to search."""
    try:
        filters: Filters | None = make_filters(titles=titles or (), since=since, until=until)
    except QAError as error:
        return gr.update(value="Check the dates"), f"**{escape_markdown(str(error))}**"
    scope = state.scope(filters)
    note = ""
    if scope.narrowed and scope.total and not scope.articles:
        note = f"**{escape_markdown(scope.nothing_left())}**"
    return gr.update(value=scope.label()), note


def index_views(state: AppState) -> tuple[Any, Any, Any, Any]:
    """What follows the index, read on every page load and after every change to the articles:
    the chat's placeholder, the "Try" examples, the article filter's choices, and the empty
    state's button to the Articles tab (shown while the index has no articles)."""
    articles = state.articles()
    return (
        gr.update(placeholder=READY if articles else EMPTY_INDEX),
        gr.update(samples=[[q] for q in example_questions(articles)]),
        gr.update(choices=sorted({a.title for a in articles})),
        gr.update(visible=not articles),
    )


@dataclass
class ChatView:
    """The Chat tab's components that the rest of the page wires or updates."""

    chatbot: gr.Chatbot
    sources: gr.HTML
    examples: gr.Dataset  # the "Try" list
    title_filter: gr.Dropdown
    add_articles: gr.Button  # the empty state's way to the Articles tab
    question: gr.Textbox
    send: gr.Button
    stop: gr.Button
    k: gr.Slider
    since: gr.Textbox
    until: gr.Textbox

    def index_outputs(self) -> list[Any]:
        """The outputs of ``index_views``, in its order."""
        return [self.chatbot, self.examples, self.title_filter, self.add_articles]


def build_chat(state: AppState) -> ChatView:
    """Lay out the Chat tab (inside ``gr.Tab``); ``wire_chat`` connects it to the sidebar."""
    with gr.Row(elem_id="qa-main"):
        with gr.Column(scale=3, elem_id="qa-chat-column"):
            chatbot = gr.Chatbot(
                elem_id="qa-chat",
                label="Conversation",
                show_label=False,
                placeholder=READY,
                sanitize_html=True,
                feedback_options=None,
                buttons=["copy"],  # copies the answer with its sources (ui/static/qa.js)
                height=None,  # ui/static/qa.css sizes it to the window
            )
            add_articles = gr.Button(
                "Add articles", variant="primary", visible=False, elem_id="qa-add-articles"
            )
            examples = gr.Dataset(
                components=["textbox"],
                samples=[],
                label="Try",
                elem_id="qa-examples",
            )
            # The id on a Column around the Group (Gradio 6.31 writes a Group's elem_id twice).
            with gr.Column(visible=False, elem_id="qa-settings") as settings, gr.Group():
                k = gr.Slider(
                    1, 10, value=5, step=1, label="Passages to read for each answer",
                    info="More can find more, a little more slowly.",
                )  # fmt: skip
                title_filter = gr.Dropdown(
                    choices=[], multiselect=True, label="Only these articles"
                )
                with gr.Row():
                    since = gr.Textbox(label="Dated from", placeholder=DATE_HINT, max_length=40)
                    until = gr.Textbox(label="Dated until", placeholder=DATE_HINT, max_length=40)
                note = gr.Markdown(elem_id="qa-scope-note")
            with gr.Row(elem_id="qa-composer", equal_height=True):
                scope = gr.Button(
                    "All articles", size="sm", scale=0, min_width=120, elem_id="qa-scope"
                )
                question = gr.Textbox(
                    placeholder="Ask a question…",
                    label="Question",
                    show_label=False,
                    scale=5,
                    elem_id="qa-question",
                    max_length=1000,
                )
                send = gr.Button("Ask", variant="primary", scale=0, min_width=80, elem_id="qa-ask")
                stop = gr.Button(
                    "Stop", variant="stop", scale=0, min_width=80, visible=False, elem_id="qa-stop"
                )
        with gr.Column(scale=2, elem_id="qa-sources-column"):
            sources = gr.HTML(EMPTY, elem_id="qa-sources", js_on_load=None)

    private: dict[str, Any] = {"api_visibility": "private"}
    settings_open = gr.State(False)
    examples.click(lambda sample: sample[0], examples, question, **private)
    question.change(None, [question], None, js=SYNC_ASK, **private)
    scope.click(
        lambda shown: (gr.update(visible=not shown), not shown),
        [settings_open],
        [settings, settings_open],
        **private,
    )

    def on_scope(titles: list[str] | None, since: str, until: str) -> tuple[Any, str]:
        return scope_view(state, titles, since, until)

    for changed in (title_filter.change, since.blur, since.submit, until.blur, until.submit):
        changed(on_scope, [title_filter, since, until], [scope, note], **private)

    return ChatView(
        chatbot, sources, examples, title_filter, add_articles, question, send, stop, k, since,
        until,
    )  # fmt: skip


def wire_chat(
    state: AppState,
    view: ChatView,
    turns: gr.State,
    saved: gr.State,
    listing: gr.HTML,
    menu: gr.Accordion,
) -> None:
    """Asking: Enter or Ask sends (an empty question does nothing), Stop shows in place of Ask
    while the answer is written and cancels it, and the answer is saved before it is shown."""
    question, send, stop = view.question, view.send, view.stop
    private: dict[str, Any] = {"api_visibility": "private"}

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
        """The answer's views, the first of a real question also putting Stop in Ask's place.
        One step, not a quick step and then the answer: a step chained after another reads
        the question box when it starts, by then maybe holding the next question (asked
        twice, under Gradio 6.31, when Enter in an empty box was followed by another)."""
        buttons: tuple[Any, Any] = (gr.update(visible=False), gr.update(visible=True))
        asked = respond_and_save(
            state, user_of(request), saved, question, messages, turns, k, titles, since, until
        )
        for view in asked:
            if view[1] == gr.skip():  # an empty question: nothing changes, the buttons neither
                buttons = (gr.skip(), gr.skip())
            yield (*view, *buttons)
            buttons = (gr.skip(), gr.skip())

    def written() -> tuple[Any, Any]:
        return gr.update(visible=True), gr.update(visible=False)

    inputs = [
        question,
        view.chatbot,
        turns,
        view.k,
        view.title_filter,
        view.since,
        view.until,
        saved,
    ]
    outputs = [question, view.chatbot, turns, view.sources, saved, listing, menu, send, stop]
    asked: list[Any] = []  # the answers Stop cancels
    for sent in (send.click, question.submit):
        answer = sent(on_ask, inputs, outputs, **private)
        answer.then(written, None, [send, stop], **private).then(
            None, [question], None, js=SYNC_ASK, **private
        )
        asked.append(answer)
    # Never hang on a slow model: Stop cancels the answer being written.
    stop.click(written, None, [send, stop], cancels=asked, **private)
