"""uvicorn's httptools protocol, with a response's head and first body bytes in one write.

uvicorn writes the status line and headers as soon as the app sends `http.response.start`,
and the body with the next message: two system calls per answer, and on loopback each one
runs the receiver's TCP path too. The gateway sends both messages in one event-loop step,
so holding the head until the body arrives costs no time and saves a write per request
(wrk, 16 connections, interleaved: 5 to 9% less CPU per request; bench/peers).
"""

from __future__ import annotations

import asyncio
from typing import Any

from typing_extensions import override
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["CoalescingTransport", "GatewayHttpProtocol"]

_HEAD = b"HTTP/1."


class CoalescingTransport:
    """A transport whose response heads wait for the next write of the same loop step.

    A write that starts a response (`HTTP/1.x ...`) is held; the next write goes out with
    it in one call, and if none comes before the event loop moves on (a response without
    body, a `100 Continue`), the head leaves alone then. Nothing is reordered or dropped:
    closing writes what is held first. Everything else is the wrapped transport's.
    """

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        """Send `data`, joined to a held head if there is one."""
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif data.startswith(_HEAD):
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def flush(self) -> None:
        """Send a held head now."""
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        """Close after sending what is held."""
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        """Whether the wrapped transport is closing."""
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GatewayHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a `CoalescingTransport` (`serve` passes it as `http=`)."""

    @override
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        wrapped: Any = CoalescingTransport(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        super().connection_made(wrapped)
