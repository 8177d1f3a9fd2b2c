"""Server-sent events (the ``text/event-stream`` format that streamed chat completions use).

Bytes arrive in arbitrary pieces: an event may be split across reads, lines may end in CRLF,
LF or CR, and a server may send comments (``: ping``) between events. ``SSEParser.feed`` takes
whatever bytes came and returns the events completed so far; the rest waits for the next read.
Follows the WHATWG rules for the fields we need (``data``, ``event``); ``id`` and ``retry`` are
ignored because a chat completion is never resumed.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One dispatched event: ``data`` joins the event's ``data:`` lines with newlines."""

    data: str
    event: str = "message"


class SSEParser:
    def __init__(self) -> None:
        # Incremental decoding: a multi-byte UTF-8 character may be split across reads too.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []
        self._event = ""

    def feed(self, chunk: bytes) -> list[Event]:
        self._buffer += self._decoder.decode(chunk)
        return self._lines()

    def close(self) -> list[Event]:
        """End of stream: a final event without its blank line is still dispatched."""
        self._buffer += self._decoder.decode(b"", final=True)
        events = self._lines()
        if self._buffer:
            self._line(self._buffer.removesuffix("\r"))
            self._buffer = ""
        dispatched = self._dispatch()
        return [*events, dispatched] if dispatched else events

    def _lines(self) -> list[Event]:
        events: list[Event] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                return events
            end, after = cut
            line, self._buffer = self._buffer[:end], self._buffer[after:]
            if line:
                self._line(line)
            else:
                dispatched = self._dispatch()
                if dispatched:
                    events.append(dispatched)

    def _line(self, line: str) -> None:
        if line.startswith(":"):
            return  # a comment (keep-alive)
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value

    def _dispatch(self) -> Event | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return Event("\n".join(data), event or "message")


def _line_end(buffer: str) -> tuple[int, int] | None:
    """(end of the first line, start of the next) or None when no line is complete yet.

    A CR at the very end of the buffer may be the first half of a CRLF split across reads, so it
    waits for the next byte.
    """
    for i, char in enumerate(buffer):
        if char == "\n":
            return i, i + 1
        if char == "\r":
            if i + 1 == len(buffer):
                return None
            return i, i + 2 if buffer[i + 1] == "\n" else i + 1
    return None
