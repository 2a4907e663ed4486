"""Same-protocol streams relayed as the provider wrote them, event by event.

When a request went out as the client's own body (the codecs' `passthrough_request`), the
answer comes back in the client's protocol too, so the gateway forwards the provider's
bytes instead of re-encoding them. It still decodes every event (for usage, the commit
point, the end and in-band errors) and still decides per whole event: an in-band error is
replaced by the gateway's own (its message scrubbed of secrets), and OpenAI's usage-only
chunk, which the gateway asked for on the ledger's behalf, is dropped when the client did
not ask for it.
"""

from __future__ import annotations

import re
from typing import Final, Protocol

from modelrouter import ir
from modelrouter.protocols.sse import SSEPieces

__all__ = ["Piece", "RelayDecoder", "relayed"]

Piece = tuple[bytes, list[ir.StreamEvent]]
"""One whole SSE event as the provider sent it, and what it decodes to."""

_EMPTY_CHOICES: Final = re.compile(rb'"choices"\s*:\s*\[\s*\]')


class _Decoder(Protocol):
    def feed(self, chunk: bytes) -> list[ir.StreamEvent]: ...

    def close(self) -> list[ir.StreamEvent]: ...


class RelayDecoder:
    """A provider's stream decoder that keeps each whole event's raw bytes beside its events."""

    __slots__ = ("_inner", "_pieces", "pending")

    def __init__(self, inner: _Decoder) -> None:
        self._inner = inner
        self._pieces = SSEPieces()
        self.pending: list[Piece] = []
        """Pieces decoded and not yet taken by the relay."""

    def feed(self, chunk: bytes) -> list[ir.StreamEvent]:
        """Events `chunk` completes (its whole events also go to `pending`)."""
        events: list[ir.StreamEvent] = []
        for raw in self._pieces.feed(chunk):
            decoded = self._inner.feed(raw)
            self.pending.append((raw, decoded))
            events.extend(decoded)
        return events

    def close(self) -> list[ir.StreamEvent]:
        """Events left at the end of the body (a cut-off last event included)."""
        rest = self._pieces.flush()
        decoded = (self._inner.feed(rest) if rest else []) + self._inner.close()
        if rest or decoded:
            self.pending.append((rest, decoded))
        return decoded

    def take(self) -> list[Piece]:
        """The pending pieces, in order; the relay sends (or replaces) them."""
        pending, self.pending = self.pending, []
        return pending


def relayed(pieces: list[Piece], *, drop_usage_only: bool) -> tuple[bytes, ir.StreamError | None]:
    """The bytes to forward for `pieces`, up to the first in-band error (returned, not forwarded)."""
    out: list[bytes] = []
    for raw, events in pieces:
        for event in events:
            if isinstance(event, ir.StreamError):
                return b"".join(out), event
        if drop_usage_only and events and _usage_only(raw, events):
            continue
        out.append(raw)
    return b"".join(out), None


def _usage_only(raw: bytes, events: list[ir.StreamEvent]) -> bool:
    """OpenAI's `choices: []` chunk that carries only the usage.

    A loop, not `all(...)` over a generator: this runs for every event, and a generator left
    unfinished is closed by raising GeneratorExit into it, several times the cost of the test.
    """
    for event in events:
        if not isinstance(event, ir.UsageUpdate):
            return False
    return _EMPTY_CHOICES.search(raw) is not None
