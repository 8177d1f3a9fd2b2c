"""What the server guards in front of Gradio: login attempts and exported files.

- ``LoginThrottle``: failed logins are counted per client address; after ``FREE_FAILURES`` in a
  row, each further attempt must wait twice as long as the one before (1 s, 2 s, 4 s, ... up to
  ``MAX_WAIT_S``), and is refused with 429 until then, without the password being tried. A
  successful login clears the count; so does ``FORGET_S`` without attempts.
- ``OwnedFiles``: an exported conversation's download link works only for the user who
  exported it (another logged-in user who has the link gets 404).

``Guard`` applies both as ASGI middleware (``launch(app_kwargs={"middleware": [...]})``): it
reads Gradio's own login route and session cookie, so it needs no change to Gradio.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

FREE_FAILURES = 5
FIRST_WAIT_S = 1.0
MAX_WAIT_S = 300.0
FORGET_S = 3600.0
MAX_CLIENTS = 10_000  # addresses remembered at most (the oldest are forgotten first)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class _Record:
    failures: int
    last: float  # when the last attempt failed (clock seconds)


class LoginThrottle:
    """``wait_s(client)`` says how long ``client`` must wait before its next login attempt."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def _record(self, client: str) -> _Record | None:
        record = self._records.get(client)
        if record is not None and self.clock() - record.last > FORGET_S:
            del self._records[client]
            return None
        return record

    def wait_s(self, client: str) -> float:
        with self._lock:
            record = self._record(client)
            if record is None or record.failures < FREE_FAILURES:
                return 0.0
            delay = min(FIRST_WAIT_S * 2 ** (record.failures - FREE_FAILURES), MAX_WAIT_S)
            return max(0.0, record.last + delay - self.clock())

    def failed(self, client: str) -> None:
        with self._lock:
            record = self._record(client) or _Record(0, 0.0)
            record.failures += 1
            record.last = self.clock()
            self._records[client] = record
            self._records.move_to_end(client)
            while len(self._records) > MAX_CLIENTS:
                self._records.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._records.pop(client, None)


class OwnedFiles:
    """File names handed to one user (exports): ``allowed(name, user)`` for anyone else is False."""

    def __init__(self) -> None:
        self._owners: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def add(self, name: str, owner: str | None) -> None:
        with self._lock:
            self._owners[name] = owner

    def allowed(self, name: str, user: str | None) -> bool:
        with self._lock:
            if name not in self._owners:
                return True  # not an export: Gradio's own rules apply
            return self._owners[name] == user


class Guard:
    """ASGI middleware: ``LoginThrottle`` on Gradio's ``POST /login``, ``OwnedFiles`` on its
    ``/file=`` downloads."""

    def __init__(self, app: ASGIApp, throttle: LoginThrottle, files: OwnedFiles) -> None:
        self.app = app
        self.throttle = throttle
        self.files = files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if scope.get("method") == "POST" and path.rstrip("/").endswith("/login"):
            await self._login(scope, receive, send)
            return
        if "/file=" in path:
            name = path.rsplit("/", 1)[-1]
            if not self.files.allowed(name, _user(scope)):
                await _reply(send, 404, {"detail": "Not Found"})
                return
        await self.app(scope, receive, send)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.throttle.wait_s(client)
        if wait > 0:
            detail = f"Too many failed logins from this address: try again in {math.ceil(wait)} s."
            await _reply(send, 429, {"detail": detail}, {"retry-after": str(math.ceil(wait))})
            return
        status: list[int] = []

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, watched)
        if status and status[0] < 300:
            self.throttle.succeeded(client)
        elif status and status[0] in (400, 401, 403):
            self.throttle.failed(client)


def _user(scope: Scope) -> str | None:
    """The logged-in user of a request, from Gradio's session cookie (None without a login)."""
    app = scope.get("app")
    tokens = getattr(app, "tokens", None)
    cookie_id = getattr(app, "cookie_id", None)
    if not isinstance(tokens, dict) or cookie_id is None:
        return None
    headers = dict(scope.get("headers") or [])
    cookies = SimpleCookie()
    try:
        cookies.load(headers.get(b"cookie", b"").decode("latin-1"))
    except Exception:  # a malformed cookie header names nobody
        return None
    for name in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"):
        if name in cookies and cookies[name].value in tokens:
            user = tokens[cookies[name].value]
            return str(user) if user is not None else None
    return None


async def _reply(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    data = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


def guard_middleware(state: Any) -> Any:
    """The ``Guard`` for ``launch(app_kwargs={"middleware": [...]})``, over ``state.exports``."""
    from starlette.middleware import Middleware

    return Middleware(Guard, throttle=LoginThrottle(), files=state.exports)
