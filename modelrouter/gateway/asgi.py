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
    "Receive",
    "Scope",
    "Send",
    "header",
    "read_body",
    "refuse_declared_oversize",
    "respond",
    "start",
    "watch_disconnect",
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


async def respond(send: Send, status: int, body: bytes, headers: Iterable[tuple[str, str]]) -> None:
    """Send a complete response."""
    await start(send, status, [*headers, ("content-length", str(len(body)))])
    await send({"type": "http.response.body", "body": body})


async def watch_disconnect(receive: Receive, task: asyncio.Task[Any], gone: asyncio.Event) -> None:
    """Cancel `task` when the client disconnects (so the upstream request is cancelled too).

    `gone` is set first, so the cancelled task can tell a client that left from a server that
    is shutting down (which cancels it too, once its grace period is over).
    """
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            task.cancel()
            return
