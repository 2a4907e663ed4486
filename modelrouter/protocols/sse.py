"""Incremental Server-Sent Events parsing and writing, shared by the streaming codecs.

The parser follows the WHATWG event-stream rules that the official SDKs implement: lines end
in LF, CRLF or CR; a blank line dispatches the event; `:` starts a comment; several `data:`
lines join with LF; one space after the colon is dropped. It never assumes chunk
boundaries: any split of the bytes yields the same events, because incomplete lines (and a
trailing CR that may be half of a CRLF) stay buffered until more bytes arrive.

Speed: most providers end lines with LF only, so until a CR is seen the parser works on whole
events (split on blank lines, one decode per event), which is several times faster than the
general line-by-line path it switches to, for good, at the first CR. Byte searches use
`find`, not `in`: on Python 3.11 `sub in data` first tries `sub` as an integer and raises
and clears a TypeError inside, several times the cost of the search (bench/instructions.py).
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

__all__ = ["SSEEvent", "SSEParser", "SSEPieces", "encode_event"]


class SSEEvent(NamedTuple):
    """One dispatched event: its `event:` name (None when absent) and joined `data:` text."""

    event: str | None
    data: str
    id: str | None = None


class SSEParser:
    """Feed bytes as they arrive; get back the events they complete."""

    __slots__ = ("_buffer", "_data", "_event", "_has_data", "_id", "_lf_only")

    def __init__(self) -> None:
        self._buffer = b""
        self._event: str | None = None
        self._data: list[str] = []
        self._has_data = False
        self._id: str | None = None
        self._lf_only = True

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume `chunk` and return every event it completes, in order."""
        if self._lf_only:
            if chunk.find(b"\r") < 0:  # not `in`: see the module docstring
                if not self._buffer and chunk.endswith(b"\n\n"):
                    single = _single_event(chunk, self._id)
                    if single is not None:
                        return [single]
                return self._feed_blocks(chunk)
            self._lf_only = False
        return self._feed_lines(chunk)

    # --- LF-only fast path: whole events at a time ---------------------------------------------

    def _feed_blocks(self, chunk: bytes) -> list[SSEEvent]:
        buffer = self._buffer + chunk if self._buffer else chunk
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._buffer = buffer
            return []
        self._buffer = buffer[end + 2 :]
        events = []
        for block in buffer[:end].split(b"\n\n"):
            event = self._block(block)
            if event is not None:
                events.append(event)
        return events

    def _block(self, block: bytes) -> SSEEvent | None:
        if block.startswith(b"data: ") and block.find(b"\n") < 0:  # the usual one-line event
            return SSEEvent(None, block[6:].decode("utf-8", errors="replace"), self._id)
        for line in block.split(b"\n"):
            self._line(line)
        return self._dispatch()

    # --- the general path ------------------------------------------------------------------

    def _feed_lines(self, chunk: bytes) -> list[SSEEvent]:
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
            if line_end == start:
                event = self._dispatch()
                if event is not None:
                    events.append(event)
            else:
                self._line(buffer[start:line_end])
            start = next_start
        self._buffer = buffer[start:]
        return events

    def flush(self) -> list[SSEEvent]:
        """End of stream: a final unterminated line counts, an undispatched event does not."""
        events: list[SSEEvent] = []
        if not self._buffer:
            return events
        rest, self._buffer = self._buffer, b""
        if self._lf_only:  # the buffer holds whole lines of one unfinished event, maybe a last LF
            lines = rest.split(b"\n")
            for line in lines[:-1]:
                if line:
                    self._line(line)
                else:
                    event = self._dispatch()
                    if event is not None:
                        events.append(event)
            rest = lines[-1]
        rest = rest.rstrip(b"\r")
        if rest:
            self._line(rest)
        elif not self._lf_only:
            event = self._dispatch()
            if event is not None:
                events.append(event)
        return events

    def _line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", errors="replace")
        if not line or line[0] == ":":
            return
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

    def _dispatch(self) -> SSEEvent | None:
        if not self._has_data:
            self._event = None
            return None
        event = SSEEvent(self._event, "\n".join(self._data), self._id)
        self._event = None
        self._data = []
        self._has_data = False
        return event


_BLANK_LINE: Final = re.compile(rb"(?>\r\n|\r|\n)(?>\r\n|\r|\n)")
"""A line end followed by an empty line (atomic groups: a CRLF is never read as two line ends)."""


class SSEPieces:
    """Cuts a byte stream into whole events, each as its raw bytes (blank line included).

    Joined, the pieces are exactly the bytes fed, so a relay that forwards them changes nothing;
    it only learns where each event ends, to drop or replace a whole one.
    """

    __slots__ = ("_buffer", "_lf_only")

    def __init__(self) -> None:
        self._buffer = b""
        self._lf_only = True

    def feed(self, chunk: bytes) -> list[bytes]:
        """The whole events `chunk` completes (with any blank lines between them)."""
        buffer = self._buffer + chunk if self._buffer else chunk
        if self._lf_only and chunk.find(b"\r") >= 0:
            self._lf_only = False
        if not self._lf_only:
            return self._cut(buffer)
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._buffer = buffer
            return []
        self._buffer = buffer[end + 2 :]
        if end + 2 == len(buffer) and buffer.find(b"\n\n") == end:
            return [buffer]  # the usual chunk: exactly one event
        return [block + b"\n\n" for block in buffer[:end].split(b"\n\n")]

    def _cut(self, buffer: bytes) -> list[bytes]:
        pieces = []
        start = 0
        for match in _BLANK_LINE.finditer(buffer):
            pieces.append(buffer[start : match.end()])
            start = match.end()
        self._buffer = buffer[start:]
        return pieces

    def flush(self) -> bytes:
        """Bytes after the last whole event (a stream that ended mid-event)."""
        rest, self._buffer = self._buffer, b""
        return rest


def _single_event(chunk: bytes, last_id: str | None) -> SSEEvent | None:
    """The one event a chunk holds when it is exactly an optional event line and one data line."""
    newlines = chunk.count(b"\n")
    if newlines == 2 and chunk.startswith(b"data: "):
        return SSEEvent(None, chunk[6:-2].decode("utf-8", errors="replace"), last_id)
    if newlines == 3 and chunk.startswith(b"event: "):
        split = chunk.index(b"\n")
        if chunk.startswith(b"data: ", split + 1):
            name = chunk[7:split].decode("utf-8", errors="replace")
            return SSEEvent(name, chunk[split + 7 : -2].decode("utf-8", errors="replace"), last_id)
    return None


def encode_event(data: bytes | str, event: str | None = None) -> bytes:
    """Frame one event; `data` must not contain newlines (compact JSON never does)."""
    body = data.encode() if isinstance(data, str) else data
    if event is None:
        return b"data: " + body + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + body + b"\n\n"
