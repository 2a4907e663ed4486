"""Incremental Server-Sent Events parsing and writing, shared by the streaming codecs.

The parser follows the WHATWG event-stream rules that the official SDKs implement: lines end
in LF, CRLF or CR; a blank line dispatches the event; `:` starts a comment; several `data:`
lines join with LF; one space after the colon is dropped. It never assumes chunk
boundaries: any split of the bytes yields the same events, because incomplete lines (and a
trailing CR that may be half of a CRLF) stay buffered until more bytes arrive.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SSEEvent", "SSEParser", "encode_event"]


@dataclass(slots=True, frozen=True)
class SSEEvent:
    """One dispatched event: its `event:` name (None when absent) and joined `data:` text."""

    event: str | None
    data: str
    id: str | None = None


class SSEParser:
    """Feed bytes as they arrive; get back the events they complete."""

    __slots__ = ("_buffer", "_data", "_event", "_has_data", "_id")

    def __init__(self) -> None:
        self._buffer = b""
        self._event: str | None = None
        self._data: list[str] = []
        self._has_data = False
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume `chunk` and return every event it completes, in order."""
        buffer = self._buffer + chunk if self._buffer else chunk
        events: list[SSEEvent] = []
        start = 0
        end = len(buffer)
        while start < end:
            lf = buffer.find(b"\n", start)
            cr = buffer.find(b"\r", start, lf if lf >= 0 else end)
            if cr >= 0:
                if cr + 1 == end:  # a CR at the very end may be half of a CRLF: wait
                    break
                line_end, next_start = cr, cr + 2 if buffer[cr + 1] == 0x0A else cr + 1
            elif lf >= 0:
                line_end, next_start = lf, lf + 1
            else:
                break
            event = self._line(buffer[start:line_end])
            if event is not None:
                events.append(event)
            start = next_start
        self._buffer = buffer[start:]
        return events

    def flush(self) -> list[SSEEvent]:
        """End of stream: a final unterminated line counts, an undispatched event does not."""
        events: list[SSEEvent] = []
        if self._buffer:
            rest, self._buffer = self._buffer.rstrip(b"\r"), b""
            event = self._line(rest)
            if event is not None:
                events.append(event)
        return events

    def _line(self, raw: bytes) -> SSEEvent | None:
        if not raw:
            return self._dispatch()
        line = raw.decode("utf-8", errors="replace")
        if line[0] == ":":
            return None
        name, sep, value = line.partition(":")
        if sep and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._has_data = True
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> SSEEvent | None:
        if not self._has_data:
            self._event = None
            return None
        event = SSEEvent(self._event, "\n".join(self._data), self._id)
        self._event = None
        self._data = []
        self._has_data = False
        return event


def encode_event(data: bytes | str, event: str | None = None) -> bytes:
    """Frame one event; `data` must not contain newlines (compact JSON never does)."""
    body = data.encode() if isinstance(data, str) else data
    if event is None:
        return b"data: " + body + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + body + b"\n\n"
