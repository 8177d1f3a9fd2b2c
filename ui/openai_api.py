"""The OpenAI-compatible endpoint of ``qa serve``: any chat client talks to the articles.

``GET /v1/models`` lists the index as one model (``MODEL``); ``POST /v1/chat/completions``
answers the last user message, with the earlier messages as the conversation so far, streamed
(server-sent events) or not. The reply's content is the answer with its sources, as ``qa chat``
prints it; an extra ``citations`` field holds each citation (article, URL, quote, offsets, page)
and the link that opens it at the quote (qa/links.py), and ``article_qa`` says how the answer
was made (``about``). With ``qa serve --llm`` the answer is the
checked generative one: a stream sends its sentences once they are checked, never a sentence
that the check leaves out.

A shell like the CLI and the UI: it calls the ``Assistant`` facade, through the server's shared
``AppState`` (one assistant, one lock), and turns errors into OpenAI-style error objects here,
once (``error_response``). The request parsing and the reply shapes are plain functions,
tested without a server.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse

from qa import Answer, Assistant, QAError, Turn
from qa.conversations import answer_text, cited_titles
from qa.errors import (
    DiskFullError,
    IndexBusyError,
    IndexEmptyError,
    IndexFormatError,
    IndexNotFoundError,
    IndexPermissionError,
    ModelError,
    ModelMismatchError,
    SearchOptionError,
    WorkersError,
)
from qa.limits import check_question
from qa.links import answer_links
from qa.pipeline.answer import offered
from ui.client_tasks import task_reply

if TYPE_CHECKING:
    from ui.state import AppState

MODEL = "article-qa"  # the index, as the one model this endpoint lists
MAX_MESSAGE_BYTES = 32 * 1024  # one message's text, UTF-8
MAX_BODY_BYTES = 4 * 1024 * 1024  # a whole request: a long history of long messages
API_KEY_ENV = "QA_API_KEY"
LOOPBACK_NAMES = ("localhost",)
# The roles OpenAI's chat API knows: system, developer and tool messages are accepted and left
# out of the conversation (``exchanges``); any other role is a client's mistake, said as one.
ROLES = ("system", "developer", "user", "assistant", "tool", "function")
# The routes, for the answer to a path or method this server does not have.
ROUTES = {"/v1/chat/completions": "POST", "/v1/models": "GET"}
# A stream is not cached, nor held back by a proxy (nginx buffers unless told).
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
KEEP_ALIVE_SECONDS = 5.0  # a comment line this often while a model writes keeps proxies patient
INTERNAL_ERROR = {
    "error": {
        "message": "The server failed to answer (see its log).",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}
log = logging.getLogger("article_qa")


class APIRequestError(QAError):
    """A request this endpoint refuses; ``status``, ``code`` and ``param`` as OpenAI's API
    gives them (``str(error)`` is the message)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        code: str | None = None,
        param: str | None = None,
        kind: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.param, self.kind = status, code, param, kind


# Library errors by HTTP status: the server's own state (503, a client may retry later) or its
# failure (500); any other QAError is about the request (400).
_UNAVAILABLE = (IndexEmptyError, IndexNotFoundError, IndexBusyError)
_SERVER = (
    IndexFormatError,
    ModelError,
    ModelMismatchError,
    DiskFullError,
    IndexPermissionError,
    WorkersError,
)


def error_body(error: QAError) -> tuple[int, dict[str, Any]]:
    """The HTTP status and OpenAI-style error object for ``error``."""
    if isinstance(error, APIRequestError):
        status, kind, code, param = error.status, error.kind, error.code, error.param
    elif isinstance(error, _UNAVAILABLE):
        status, kind, code, param = 503, "server_error", "index_unavailable", None
    elif isinstance(error, _SERVER):
        status, kind, code, param = 500, "server_error", None, None
    else:
        status, kind, code, param = 400, "invalid_request_error", None, None
    return status, {"error": {"message": str(error), "type": kind, "param": param, "code": code}}


def error_response(error: QAError) -> JSONResponse:
    status, body = error_body(error)
    return JSONResponse(body, status_code=status)


# -- requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatRequest:
    """What a chat completion request asks: the question, the turns before it, streamed?"""

    question: str
    history: tuple[Turn, ...]
    stream: bool
    # The title each earlier answer's first source line names (None: none), for the article a
    # follow-up may be about: a client sends back the text alone.
    cited: tuple[str | None, ...] = ()
    # A chat app's chore rather than a question (ui/client_tasks.py): the reply's content.
    chore: str | None = None


def parse_chat(body: bytes) -> ChatRequest:
    """The question (the last user message) and the history (the user and assistant messages
    before it) of a ``/v1/chat/completions`` body; ``APIRequestError`` when it is malformed,
    names another model, has no user message, a message over ``MAX_MESSAGE_BYTES`` (an earlier
    answer may be long), or a question over ``MAX_QUESTION_CHARS`` (as ``qa ask`` and the UI)."""
    if len(body) > MAX_BODY_BYTES:
        raise APIRequestError(
            f"The request is over {MAX_BODY_BYTES // 2**20} MB.", status=413, code="too_large"
        )
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise APIRequestError(
            f"We could not parse the JSON body of your request ({error}).", code="invalid_json"
        ) from None
    if not isinstance(data, dict):
        raise APIRequestError("The request body must be a JSON object.", code="invalid_json")
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise APIRequestError(
            f"Name the model: {MODEL!r}.", param="model", code="missing_required_parameter"
        )
    if model != MODEL:
        raise APIRequestError(
            f"The model {model!r} does not exist. This server has one: {MODEL!r}.",
            status=404,
            param="model",
            code="model_not_found",
        )
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise APIRequestError(
            "'messages' must be a non-empty list.", param="messages", code="invalid_type"
        )
    said: list[tuple[str, str]] = []
    for number, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise APIRequestError(
                "Each message must be an object with a 'role'.",
                param=f"messages[{number}]",
                code="invalid_type",
            )
        text = message_text(message.get("content"), f"messages[{number}].content")
        if len(text.encode("utf-8")) > MAX_MESSAGE_BYTES:
            raise APIRequestError(
                f"messages[{number}] is over {MAX_MESSAGE_BYTES // 1024} kB: ask a shorter "
                "question.",
                param=f"messages[{number}].content",
                code="string_above_max_length",
            )
        if message["role"] not in ROLES:
            raise APIRequestError(
                f"messages[{number}] has the role {message['role'][:40]!r}; a message's role "
                f"is one of {', '.join(ROLES)}.",
                param=f"messages[{number}].role",
                code="invalid_value",
            )
        said.append((message["role"], text))
    asked = [n for n, (role, _) in enumerate(said) if role == "user"]
    if not asked:
        raise APIRequestError(
            "There is no user message to answer: the last message with role 'user' is the "
            "question.",
            param="messages",
            code="no_user_message",
        )
    if not said[asked[-1]][1].strip():  # not an earlier question answered again
        raise APIRequestError(
            f"The question, messages[{asked[-1]}] (the last message with role 'user'), is "
            "empty: put the question in its content.",
            param=f"messages[{asked[-1]}].content",
            code="empty_question",
        )
    stream = data.get("stream", False)
    if not isinstance(stream, bool):
        raise APIRequestError("'stream' must be true or false.", param="stream")
    last = asked[-1]
    chore = task_reply(said[last][1])
    if chore is not None:  # answered as asked, not searched (and past the question's bound)
        return ChatRequest(said[last][1], (), stream, chore=chore)
    try:  # the question's bound is the CLI's and the web UI's (qa/limits.py)
        question = check_question(said[last][1])
    except SearchOptionError as error:
        raise APIRequestError(
            str(error), param=f"messages[{last}].content", code="string_above_max_length"
        ) from None
    earlier = exchanges(said[:last])
    return ChatRequest(question, tuple(t for t, _ in earlier), stream, tuple(c for _, c in earlier))


def message_text(content: object, param: str) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise APIRequestError(
                    "Only text content is supported.", param=param, code="invalid_content"
                )
            texts.append(str(part.get("text", "")))
        return "\n".join(texts)
    raise APIRequestError("A message's content must be text.", param=param, code="invalid_type")


def history(said: list[tuple[str, str]]) -> list[Turn]:
    """Each user message with the assistant message after it (system and tool messages are
    left out). An answer this server wrote counts without its sources list, as ``qa chat``
    passes its own answers on."""
    return [turn for turn, _ in exchanges(said)]


def exchanges(said: list[tuple[str, str]]) -> list[tuple[Turn, str | None]]:
    """``history``'s turns, each with the title its answer's first source line names."""
    turns: list[tuple[Turn, str | None]] = []
    for role, text in said:
        if role == "user" and text.strip():
            turns.append((Turn(text), None))
        elif role == "assistant" and turns and not turns[-1][0].answer:
            turn = Turn(turns[-1][0].question, answer_only(text), suggested=offered(text))
            turns[-1] = (turn, cited_title(text) if turn.answer else None)
    return turns


def cited_title(content: str) -> str | None:
    """The title in the first source line of an answer this server wrote (``[1] Title — "the
    quote"``, ``qa.conversations.answer_text``), or None."""
    titles = cited_titles(content)
    return titles[0] if titles else None


def with_articles(
    turns: Sequence[Turn], cited: Sequence[str | None], assistant: Assistant
) -> list[Turn]:
    """The turns, each with the article its answer quoted first where its title names exactly
    one article of the index (a follow-up is also searched there, as in ``qa chat``)."""
    if not any(cited):
        return list(turns)
    by_title = {title: assistant.titled(title) for title in set(cited) if title}
    return [
        replace(turn, article_id=by_title[title][0].id)
        if title and len(by_title[title]) == 1
        else turn
        for turn, title in zip(turns, cited, strict=True)
    ]


def answer_only(content: str) -> str:
    """The answer of a reply's content, without the sources lines ``answer_text`` adds; ""
    for a "not found" reply (its possibly related passages follow it), as ``qa chat`` passes
    such a turn on."""
    if "\n\nPossibly related:" in content:
        return ""
    return content.split("\n\n[1] ", 1)[0].strip()


# -- replies --------------------------------------------------------------------------------


def citations(reply: Answer, server: str) -> list[dict[str, Any]]:
    """The ``citations`` field: each citation, with the link that opens it at the quote."""
    links = answer_links(reply, server)
    return [{**c.to_dict(), "link": links.get(c.number)} for c in reply.citations]


def about(reply: Answer) -> dict[str, Any]:
    """The ``article_qa`` field: how the answer was made (``mode`` "extractive" or
    "generative", the language model, and why a generative answer fell back, if it did)."""
    return {"found": reply.found, "mode": reply.mode, "llm": reply.model, "notice": reply.notice}


def completion(reply: Answer, completion_id: str, created: int, server: str) -> dict[str, Any]:
    """A ``chat.completion`` object for ``reply``."""
    return {
        **completion_body(answer_text(reply), completion_id, created),
        "citations": citations(reply, server),
        "article_qa": about(reply),
    }


def completion_body(content: str, completion_id: str, created: int) -> dict[str, Any]:
    """A ``chat.completion`` object whose message is ``content``, without our fields."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
    }


def chore_response(content: str, streamed: bool) -> Response:
    """The reply to a chat app's chore (``ui.client_tasks``): its content, streamed or not,
    with no citations (nothing was searched)."""
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if not streamed:
        return JSONResponse(completion_body(content, completion_id, created))
    events = [
        event(chunk(completion_id, created, {"role": "assistant", "content": content})),
        event(chunk(completion_id, created, {}, "stop")),
        event("[DONE]"),
    ]
    return StreamingResponse(iter(events), media_type="text/event-stream", headers=STREAM_HEADERS)


def chunk(
    completion_id: str, created: int, delta: dict[str, Any], finish: str | None = None
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def content_pieces(reply: Answer) -> list[str]:
    """The content in the pieces a stream sends (the answer, then a source a line); joined,
    they are the content of the reply that is not streamed."""
    lines = answer_text(reply).split("\n")
    return [lines[0], *("\n" + line for line in lines[1:])]


def event(data: dict[str, Any] | str) -> str:
    """One server-sent event."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {text}\n\n"


# -- the server's side ----------------------------------------------------------------------


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refusal(host: str, api_key: str | None) -> str | None:
    """Why ``qa serve --host HOST`` must not start the API, or None when it may."""
    if api_key or is_loopback(host):
        return None
    return (
        f"The OpenAI-compatible API (/v1) is off: on {host} anyone who can reach it could read "
        f"the index. Set a key with --api-key or ${API_KEY_ENV} (clients send it as a bearer "
        "token) to turn it on."
    )


def authorized(request: Request, api_key: str | None) -> bool:
    """With a key, every request must bear it. Without one (the server listens on loopback
    only), only requests from this machine to a loopback name are answered: a web page whose
    domain resolves to 127.0.0.1 (DNS rebinding) cannot read the index through a browser."""
    if not api_key:
        client = request.client.host if request.client else None
        return is_loopback(client) and is_loopback(request.url.hostname)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), api_key)


Events = Iterator[Any]  # the facade's stream: Token, Verdict, then the Answer


class Answering:
    """One request's answer from the shared assistant: every step of the facade runs under
    the server's lock (a step at a time, so a model writing a long answer does not hold the
    index from the UI's questions, and a stream may resume on another thread)."""

    def __init__(self, state: AppState, request: ChatRequest) -> None:
        self.state, self.request = state, request
        self.events: Events | None = None
        self._first: Any = None

    def start(self) -> Answer | None:
        """The extractive answer, or (with ``--llm``) None after the stream's first step:
        either way the index was read and its errors are raised here, before any reply."""
        question = self.request.question
        with self.state.lock:
            assistant = self.state.assistant
            turns = with_articles(self.request.history, self.request.cited, assistant)
            if self.state.llm is None:
                return assistant.ask(question, turns)
            self.events = assistant.ask_stream(question, turns, llm=self.state.llm)
            self._first = next(self.events)
        return None

    def rest(self) -> Iterator[Any]:
        """The stream's events, the first included; the last is the Answer."""
        assert self.events is not None
        yield self._first
        while True:
            with self.state.lock:
                step = next(self.events, None)
            if step is None:
                return
            yield step

    def close(self) -> None:
        close = getattr(self.events, "close", None)  # a generator's: ends the model's request
        if close is not None:
            close()

    def final(self) -> Answer:
        reply = self.start()
        if reply is not None:
            return reply
        try:
            for step in self.rest():
                if isinstance(step, Answer):
                    return step
        finally:
            self.close()
        raise QAError("The answer stream ended without an answer.")


def stream(answering: Answering, first: Answer | None, server: str) -> Iterator[str]:
    """The server-sent events of a streamed reply (``first``: the extractive answer, if
    that is the answer). While a model writes, a comment line a step keeps the connection
    alive; the checked sentences follow, then the sources, the citations and ``[DONE]``."""
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    yield event(chunk(completion_id, created, {"role": "assistant", "content": ""}))
    reply, alive = first, time.monotonic()
    try:
        if reply is None:
            for step in answering.rest():
                if isinstance(step, Answer):
                    reply = step
                    break
                if time.monotonic() - alive > KEEP_ALIVE_SECONDS:
                    alive = time.monotonic()
                    yield ": checking the model's sentences\n\n"
    except QAError as error:
        yield event(error_body(error)[1])
        return
    except Exception:  # a bug: logged here; the client gets an error event, not a hang
        log.exception("The OpenAI-compatible API failed while streaming")
        yield event(INTERNAL_ERROR)
        return
    finally:
        answering.close()
    if reply is None:
        yield event(error_body(QAError("The answer stream ended without an answer."))[1])
        return
    for piece in content_pieces(reply):
        yield event(chunk(completion_id, created, {"content": piece}))
    last = chunk(completion_id, created, {}, "stop")
    last["citations"] = citations(reply, server)
    last["article_qa"] = about(reply)
    yield event(last)
    yield event("[DONE]")


def models_body() -> dict[str, Any]:
    return {"object": "list", "data": [model_body()]}


def model_body() -> dict[str, Any]:
    return {"id": MODEL, "object": "model", "created": 0, "owned_by": "article-qa"}


def api_router(state: AppState, api_key: str | None) -> APIRouter:
    """The ``/v1`` routes, answering from ``state`` (the server's one assistant)."""
    router = APIRouter(prefix="/v1")

    def guarded(
        handler: Callable[[Request], Any],
    ) -> Callable[[Request], Any]:
        """Check the key, then run the handler; its errors become OpenAI error objects here."""

        async def run(request: Request) -> Response:
            if not authorized(request, api_key):
                return error_response(
                    APIRequestError(
                        "Send the server's API key as 'Authorization: Bearer KEY' (qa serve "
                        f"--api-key or ${API_KEY_ENV}).",
                        status=401,
                        code="invalid_api_key",
                    )
                )
            try:
                response: Response = await handler(request)
                return response
            except QAError as error:
                return error_response(error)
            except Exception:  # a bug: its traceback goes to the server's log, not the client
                log.exception("The OpenAI-compatible API failed on %s", request.url.path)
                return JSONResponse(INTERNAL_ERROR, status_code=500)

        return run

    @guarded
    async def list_models(request: Request) -> Response:
        return JSONResponse(models_body())

    @guarded
    async def get_model(request: Request) -> Response:
        if request.path_params["model"] != MODEL:
            raise APIRequestError(
                f"The model {request.path_params['model']!r} does not exist.",
                status=404,
                param="model",
                code="model_not_found",
            )
        return JSONResponse(model_body())

    @guarded
    async def chat_completions(request: Request) -> Response:
        asked = parse_chat(await request.body())
        if asked.chore is not None:
            return chore_response(asked.chore, asked.stream)
        server = str(request.base_url).rstrip("/")
        answering = Answering(state, asked)
        if not asked.stream:
            reply = await run_in_threadpool(answering.final)
            created = int(time.time())
            return JSONResponse(completion(reply, f"chatcmpl-{uuid.uuid4().hex}", created, server))
        first = await run_in_threadpool(answering.start)
        return StreamingResponse(
            stream(answering, first, server), media_type="text/event-stream", headers=STREAM_HEADERS
        )

    @guarded
    async def elsewhere(request: Request) -> Response:
        """Any other path or method under /v1, as an OpenAI error object (not FastAPI's
        ``{"detail": "Not Found"}``, which clients cannot show)."""
        path = request.url.path.rstrip("/")
        method = ROUTES.get(path) or ("GET" if path.startswith("/v1/models/") else None)
        if method is not None:
            raise APIRequestError(
                f"{path} answers {method} requests, not {request.method}.",
                status=405,
                code="method_not_allowed",
            )
        raise APIRequestError(
            f"This server has no {path}: it answers POST /v1/chat/completions and GET /v1/models.",
            status=404,
            code="unknown_url",
        )

    router.add_api_route("/models", list_models, methods=["GET"])
    router.add_api_route("/models/{model}", get_model, methods=["GET"])
    router.add_api_route("/chat/completions", chat_completions, methods=["POST"])
    # Last: the routes above match first, and this one takes what none of them does.
    everything = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    router.add_api_route("/{rest:path}", elsewhere, methods=everything)
    return router
