"""Small ASGI helpers: read a bounded body, send a response, watch for a client going away.

The gateway is a bare ASGI application (no framework on the hot path); these are the few
pieces of HTTP plumbing it needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from modelrouter.errors import PayloadTooLarge

__all__ = [
    "DisconnectWatch",
    "Receive",
    "Scope",
    "Send",
    "header",
    "read_body",
    "refuse_declared_oversize",
    "respond",
    "start",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ClientGone(Exception):
    """The client disconnected before the request body was complete."""


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (name in lower case), decoded leniently."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def refuse_declared_oversize(scope: Scope, limit: int) -> None:
    """`PayloadTooLarge` before reading, when the declared Content-Length is over `limit`."""
    declared = header(scope, b"content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(limit, f" of {int(declared)} bytes")


def _too_large(limit: int, size: str = "") -> PayloadTooLarge:
    return PayloadTooLarge(
        f"request body{size} is over the {limit // (1 << 20)} MB limit (limits.max_body_mb)"
    )


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body; `PayloadTooLarge` as soon as it passes `limit` bytes."""
    parts = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _raw(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]


async def start(send: Send, status: int, headers: Iterable[tuple[str, str]]) -> None:
    """Send the status line and headers."""
    await send({"type": "http.response.start", "status": status, "headers": _raw(headers)})


BODY_FOLLOWS = "modelrouter.body_follows"
"""A key of our `http.response.start` messages: the whole body is sent next, without waiting.

`GatewayCycle` then holds the head for it instead of scheduling a flush (a callback per
answer); any other ASGI server ignores the key."""


async def respond(send: Send, status: int, body: bytes, headers: Iterable[tuple[str, str]]) -> None:
    """Send a complete response."""
    raw = _raw(headers)
    raw.append((b"content-length", b"%d" % len(body)))
    await send({"type": "http.response.start", "status": status, "headers": raw, BODY_FOLLOWS: True})
    await send({"type": "http.response.body", "body": body})


class DisconnectWatch:
    """Cancels `task` when the client disconnects (so its upstream request is cancelled too).

    Watching takes a task per request that waits on `receive` (about 2.5% of a fast answer's
    instructions, bench/instructions.py), so it starts only once the request has run for
    `after` seconds: model answers take longer, and a client that leaves sooner is noticed
    then. `gone` is set before the cancellation, so the cancelled task can tell a client
    that left from a server shutting down (which cancels it too, once its grace is over).
    """

    __slots__ = ("_receive", "_task", "_timer", "_watcher", "gone")

    def __init__(self, receive: Receive, task: asyncio.Task[Any], after: float) -> None:
        self._receive = receive
        self._task = task
        self._watcher: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = task.get_loop().call_later(after, self._start)
        self.gone = False

    def _start(self) -> None:
        self._timer = None
        self._watcher = self._task.get_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.gone = True
                self._task.cancel()
                return

    def stop(self) -> None:
        """The request is over: watch no more."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
