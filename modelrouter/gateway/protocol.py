"""uvicorn's httptools protocol with a leaner response path: one write per answer.

uvicorn writes the status line and headers as soon as the app sends `http.response.start`,
and the body with the next message: two system calls per answer, and on loopback each one
runs the receiver's TCP path too. `GatewayCycle` holds the head and sends it with the first
body bytes (the gateway sends both in one event-loop step; a head alone leaves when the loop
moves on). It also checks the response headers for bytes that could split the answer with
two `bytes.translate` passes over all names and all values, where uvicorn runs two regular
expressions per header (24 searches for the gateway's dozen headers).

Everything else (parsing, keep-alive, pipelining, flow control, shutdown) is uvicorn's;
`serve` passes `GatewayHttpProtocol` as uvicorn's documented `http=` setting. The subclass
relies on uvicorn's `RequestResponseCycle` attributes, which tests/gateway/test_protocol.py
exercises through a real uvicorn server.
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from typing import Any, cast

import httptools
from typing_extensions import override
from uvicorn._types import ASGISendEvent
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from modelrouter.gateway.asgi import BODY_FOLLOWS
from modelrouter.gateway.outbox import HeldTransport, outbox_of

__all__ = ["GatewayCycle", "GatewayHttpProtocol"]

_CONTENT_LENGTH = b"content-length"
_TRANSFER_ENCODING = b"transfer-encoding"
_CONNECTION = b"connection"
_FRAMING = frozenset({_CONTENT_LENGTH, _TRANSFER_ENCODING, _CONNECTION})


def _refusing(pattern: re.Pattern[bytes]) -> bytes:
    """A `bytes.translate` table that maps each byte `pattern` matches to 0 and every other to 1.

    Translating and finding a 0 is uvicorn's check of a header (the pattern's search) in two
    C passes over all headers at once, where a character class costs a regular expression
    some 25 instructions per byte.
    """
    return bytes(0 if pattern.match(bytes([b])) else 1 for b in range(256))


_NAME_BYTES = _refusing(HEADER_RE)
_VALUE_BYTES = _refusing(HEADER_VALUE_RE)


class GatewayCycle(RequestResponseCycle):
    """uvicorn's request-response cycle whose response head waits for the first body bytes."""

    _head: bytes | None = None
    """The status line and headers, until the first body message (or the loop moving on)."""

    @override
    async def send(self, message: ASGISendEvent) -> None:
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return
        kind = message["type"]
        if not self.response_started:
            self._begin(kind, message)
            return
        if self.response_complete:
            raise RuntimeError(f"Unexpected ASGI message '{kind}' sent, after response already completed.")
        if kind != "http.response.body":
            raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{kind}'.")
        more_body = message.get("more_body", False)
        out = self._framed(message.get("body", b""), more_body)  # type: ignore[arg-type]
        head = self._head
        if head is not None:
            self._head = None
            out = head + out
        if out:
            self.transport.write(out)
        if not more_body:
            self._complete()

    def _begin(self, kind: str, message: ASGISendEvent) -> None:
        if kind != "http.response.start":
            raise RuntimeError(f"Expected ASGI message 'http.response.start', but got '{kind}'.")
        self._start(message["status"], message.get("headers", ()))  # type: ignore[typeddict-item]
        if BODY_FOLLOWS not in message:  # else the body comes in this very step: no flush needed
            asyncio.get_running_loop().call_soon(self._flush_head)

    def _framed(self, body: bytes, more_body: bool) -> bytes:
        """The body bytes as they go on the wire (chunked when no length was declared)."""
        if self.scope["method"] == "HEAD":
            self.expected_content_length = 0
            return b""
        if self.chunked_encoding:
            out = b"%x\r\n%b\r\n" % (len(body), body) if body else b""
            return out if more_body else out + b"0\r\n\r\n"
        if len(body) > self.expected_content_length:
            raise RuntimeError("Response content longer than Content-Length")
        self.expected_content_length -= len(body)
        return body

    def _complete(self) -> None:
        if self.expected_content_length != 0:
            raise RuntimeError("Response content shorter than Content-Length")
        self.response_complete = True
        self.message_event.set()
        if not self.keep_alive:
            self.transport.close()
        self.on_response()

    def _start(self, status: int, extra: Any) -> None:
        """Build the head (as uvicorn does), held until the body's first bytes or the loop's next step."""
        headers = [*self.default_headers, *extra]
        if b"".join([name for name, _ in headers]).translate(_NAME_BYTES).find(0) >= 0:
            raise RuntimeError("Invalid HTTP header name.")
        if b"".join([value for _, value in headers]).translate(_VALUE_BYTES).find(0) >= 0:
            raise RuntimeError("Invalid HTTP header value.")
        self.response_started = True
        self.waiting_for_100_continue = False
        content = [STATUS_LINE[status]]
        has_connection_close = False
        for name, value in headers:
            name = name.lower()
            if name in _FRAMING:
                if name == _CONTENT_LENGTH and self.chunked_encoding is None:
                    self.expected_content_length = int(value.decode())
                    self.chunked_encoding = False
                elif name == _TRANSFER_ENCODING and value.lower() == b"chunked":
                    self.expected_content_length = 0
                    self.chunked_encoding = True
                elif name == _CONNECTION and b"close" in [t.lower().strip() for t in value.split(b",")]:
                    self.keep_alive = False
                    has_connection_close = True
            content += (name, b": ", value, b"\r\n")
        if not self.keep_alive and not has_connection_close:
            content.append(b"connection: close\r\n")
        if self.chunked_encoding is None and self.scope["method"] != "HEAD" and status not in (204, 304):
            self.chunked_encoding = True
            content.append(b"transfer-encoding: chunked\r\n")
        content.append(b"\r\n")
        self._head = b"".join(content)

    def _flush_head(self) -> None:
        """Send a head no body followed in the same loop step (a slow stream's first event)."""
        head = self._head
        if head is not None:
            self._head = None
            if not self.disconnected and not self.transport.is_closing():
                self.transport.write(head)


class GatewayHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol serving each request through a `GatewayCycle`.

    Its transport is a `HeldTransport`: every write waits in the loop's outbox for the end
    of the loop step (see outbox.py).
    """

    @override
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        held = HeldTransport(transport, outbox_of(self.loop))
        super().connection_made(cast(asyncio.Transport, held))

    @override
    def on_headers_complete(self) -> None:
        """The same as uvicorn's (0.55), with `GatewayCycle` as the cycle."""
        parser = self.parser
        http_version = parser.get_http_version()
        scope: Any = self.scope
        scope["method"] = parser.get_method().decode("ascii")
        if http_version != "1.1":
            scope["http_version"] = http_version
        if parser.should_upgrade() and self._should_upgrade():
            return
        parsed_url = httptools.parse_url(self.url)
        raw_path = parsed_url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        scope["path"] = self.root_path + path
        scope["raw_path"] = self.root_path.encode("ascii") + raw_path
        scope["query_string"] = parsed_url.query or b""
        app = self.app
        limit = self.limit_concurrency
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            app = service_unavailable
            self.logger.warning("Exceeded concurrency limit.")
        existing_cycle = self.cycle
        self.cycle = GatewayCycle(
            scope=scope,
            transport=self.transport,
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=self.access_log,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=self.expect_100_continue,
            keep_alive=http_version != "1.0" and parser.should_keep_alive(),
            on_response=self.on_response_complete,
        )
        if existing_cycle is None or existing_cycle.response_complete:
            self._start_asgi_task(self.cycle, app)
        else:  # a pipelined request waits for the one before it
            self.flow.pause_reading()
            self.pipeline.appendleft((self.cycle, app))
