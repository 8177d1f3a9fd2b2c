"""The Chat tab: the question box, the chat, the Sources panel and the search settings.

``respond`` and ``respond_and_save`` are plain generators of the views (tested without a
browser); ``build_chat`` lays the tab out and wires its events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from qa import Answer, IndexEmptyError, QAError, Turn
from qa.pipeline.examples import example_questions
from qa.types import make_filters
from ui.render import chat_message, escape_markdown, sources_html
from ui.saved import NEW_CONVERSATION, SavedView, build_saved, save_turns, user_of
from ui.state import AppState

EMPTY_INDEX = (
    "The index has no articles yet. Add some in the **Articles** tab (upload .txt, .md, .html, "
    ".pdf, .docx, .json or .jsonl files, or add a web address), or run `qa ingest PATH` in a "
    "terminal."
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
            reply = state.ask(question, history, int(k), filters)
        else:  # the model's words as they come, then its checked sentences replace them
            from qa.llm import Verdict

            drafted, marks = "", ""
            for event in state.ask_stream(question, history, int(k), filters):
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


@dataclass
class ChatView:
    """The Chat tab's components that other parts of the page update."""

    chatbot: gr.Chatbot
    sources: gr.HTML
    conversations: SavedView
    examples: gr.Dataset  # the "Try" list
    title_filter: gr.Dropdown


def build_chat(state: AppState, turns: gr.State, saved: gr.State) -> ChatView:
    """Lay out the Chat tab (inside ``gr.Tab``) and wire its events."""
    articles = state.articles()
    with gr.Row():
        with gr.Column(scale=1, min_width=220):
            conversations = build_saved()
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                height=520,
                elem_id="qa-chat",
                label="Conversation",
                placeholder=EMPTY_INDEX if not articles else "Ask about your articles.",
                sanitize_html=True,
                feedback_options=None,
                buttons=["copy"],  # copies the answer with its sources (ui/static/qa.js)
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
    chat_outputs = [question, chatbot, turns, sources, saved, conversations.choice]
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
    return ChatView(chatbot, sources, conversations, examples.dataset, title_filter)
