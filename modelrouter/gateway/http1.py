"""HTTP/1.1 to providers: pooled keep-alive connections, responses parsed by httptools (llhttp).

Why not aiohttp's client: profiled under load (py-spy, 16 connections), aiohttp's client was
28% of the gateway's CPU, three times uvicorn's server. It builds, per call, a request
object with its own header multidicts, payload registry lookup, cookie and proxy checks,
trace hooks and timers, and sends the body from a task of its own. A gateway's upstream
calls are one shape (a POST of bytes already encoded, to a handful of origins), so this
client does only that: one write per request (bodies under 64 KiB), llhttp (the parser
behind Node.js and uvicorn) for the answer, a LIFO pool per origin whose idle connections
close after KEEPALIVE_S. Switching cut the gateway's instructions per answer by 22%
(bench/instructions.py, mr-full: 1,164k -> 911k). Everything that is not HTTP framing stays
with the libraries that do it well: DNS through an aiohttp resolver (guarded by the
transport), connecting through aiohappyeyeballs (RFC 8305), TLS through `ssl` and asyncio.

Deliberately not here: redirects (never followed), cookies (never kept), proxies, HTTP/2,
HEAD, request bodies that are not bytes. No `accept-encoding` is sent; a body a server
compresses anyway (gzip or deflate) is decompressed, up to MAX_DECODED.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import re
import socket
import ssl
import time
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import aiohappyeyeballs
import httptools
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, CIMultiDictProxy
from typing_extensions import override

from modelrouter.gateway.outbox import outbox_of

__all__ = [
    "BadResponse",
    "ClientError",
    "ConnectFailed",
    "ConnectTimeout",
    "Disconnected",
    "Origin",
    "Pool",
    "Response",
    "verifying_context",
]

KEEPALIVE_S = 15.0
"""An idle pooled connection older than this is closed, not reused (servers drop idle ones)."""
HIGH_WATER = 256 << 10
"""Body bytes buffered before reading from the socket pauses (a slow consumer is not a leak)."""
DNS_TTL_S = 300.0
MAX_HEAD = 64 << 10
"""The most bytes a status line and headers may take (what arrives first cannot grow without end)."""
MAX_DECODED = 64 << 20
"""The most a compressed body may expand to (a small body must not become gigabytes in memory)."""
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding"})
"""Headers the client writes itself (a `host` given, as SigV4 signs one, replaces the URL's)."""
_NO_CONTENT = frozenset({"GET", "DELETE", "OPTIONS"})
"""Methods whose empty request carries no content-length (RFC 9110 section 8.6)."""
_BAD_VALUE = re.compile(r"[\r\n\x00]")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class ClientError(Exception):
    """An upstream call failed below HTTP semantics (connecting, framing, a cut connection)."""


class ConnectFailed(ClientError):
    """No connection could be opened; `os_error` says why."""

    def __init__(self, host: str, port: int, os_error: OSError) -> None:
        reason = os_error.strerror or str(os_error) or type(os_error).__name__
        super().__init__(f"connection to {host}:{port} failed ({reason})")
        self.os_error = os_error


class ConnectTimeout(ClientError):
    """No connection within the connect deadline."""


class Disconnected(ClientError):
    """The server closed the connection before its answer was complete."""


class BadResponse(ClientError):
    """What the server sent is not HTTP/1.1 this client can read."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a URL's requests go, and what its request line and host header say."""

    scheme: str
    host: str
    port: int
    host_header: str
    target: str
    """The request target: path and query."""

    @property
    def tls(self) -> bool:
        """Whether the connection is TLS."""
        return self.scheme == "https"


@functools.lru_cache(maxsize=1024)
def origin_of(url: str) -> Origin:
    """Parse `url` once (providers' URLs repeat); raises ValueError for what cannot be called."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {scheme!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in a URL are not sent; use the provider's api_key")
    host = parts.hostname
    if not host:
        raise ValueError("the URL has no host")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    default_port = 443 if scheme == "https" else 80
    port = parts.port or default_port
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == default_port else f"{shown}:{port}"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if _BAD_VALUE.search(target) or " " in target:
        raise ValueError("the URL's path may not contain spaces or control characters")
    return Origin(scheme, host, port, host_header, target)


def request_head(method: str, origin: Origin, headers: Mapping[str, str], length: int) -> bytes:
    """The request line and headers; a name or value that could split the request is refused.

    HEAD is refused: its answer's length describes a body that never comes, which the
    response parser would wait for (the gateway never sends one).
    """
    if method == "HEAD":
        raise ValueError("HEAD requests are not supported")
    host = origin.host_header
    lines = [f"{method} {origin.target} HTTP/1.1\r\n"]
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in _OWN_HEADERS:
            if lowered == "host":  # a signed request (SigV4) names its own host
                host = value
            continue
        lines.append(f"{name}: {value}\r\n")
    checked = "".join(headers.values())
    if _BAD_VALUE.search(checked) or not all(_valid_name(n) for n in headers):
        bad = [n for n, v in headers.items() if not _valid_name(n) or _BAD_VALUE.search(v)]
        raise ValueError(f"header {bad[0][:40]!r} has a character that cannot be sent")
    framing = f"content-length: {length}\r\n" if length or method not in _NO_CONTENT else ""
    lines[0] += f"host: {host}\r\n{framing}"
    lines.append("\r\n")
    try:
        return "".join(lines).encode("latin-1")
    except UnicodeEncodeError:
        bad = [n for n, v in headers.items() if not (n + v).isascii()]
        raise ValueError(f"header {bad[0][:40]!r} is not latin-1 and cannot be sent") from None


@functools.lru_cache(maxsize=256)
def _valid_name(name: str) -> bool:
    return _TOKEN.fullmatch(name) is not None


class Response:
    """One answer: status and headers at once, the body as it arrives."""

    __slots__ = (
        "_chunks",
        "_complete",
        "_connection",
        "_decoded",
        "_decoder",
        "_error",
        "_size",
        "headers",
        "status",
    )

    def __init__(self, connection: Connection, status: int, headers: CIMultiDictProxy[str]) -> None:
        self._connection: Connection | None = connection
        self.status = status
        self.headers = headers
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._complete = False
        self._error: ClientError | None = None
        self._decoder = _decoder(headers.get("content-encoding"))
        self._decoded = 0

    def whole(self) -> bytes | None:
        """The body when all of it has arrived (no waiting), else None."""
        if not self._complete or self._error is not None:
            return None
        body = b"".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        return body

    async def readany(self) -> bytes:
        """The body bytes that arrived since the last read, waiting for some; b"" at the end."""
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self._size -= len(chunk)
                connection = self._connection
                if connection is not None and connection.paused and self._size < HIGH_WATER // 2:
                    connection.resume()
                return chunk
            if self._error is not None:
                raise self._error
            if self._complete:
                return b""
            connection = self._connection
            if connection is None:
                raise Disconnected("the response was closed")
            await connection.wait()

    def close(self) -> None:
        """Done with this response: an unfinished body costs its connection."""
        connection, self._connection = self._connection, None
        if connection is not None and not self._complete:
            connection.abort()

    # --- fed by the connection ---------------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        if self._error is not None:
            return  # a refused body is read no further (and `max_length` 0 would mean no bound)
        if self._decoder is not None:
            try:
                data = self._decoder.decompress(data, MAX_DECODED + 1 - self._decoded)
            except zlib.error as exc:
                self._refuse(BadResponse(f"the compressed body cannot be decoded: {exc}"))
                return
            self._decoded += len(data)
            if self._decoded > MAX_DECODED:
                self._refuse(BadResponse(f"the compressed body expands past {MAX_DECODED} bytes"))
                return
        if data:
            self._chunks.append(data)
            self._size += len(data)

    def _finish(self) -> None:
        if self._decoder is not None and self._error is None:  # no error: no input held back
            with contextlib.suppress(zlib.error):
                tail = self._decoder.flush()
                if tail:
                    self._chunks.append(tail)
                    self._size += len(tail)
        self._complete = True
        self._connection = None

    def _fail(self, error: ClientError) -> None:
        if not self._complete and self._error is None:
            self._error = error

    def _refuse(self, error: ClientError) -> None:
        """A body that cannot be read on: the error, and its connection dropped."""
        self._fail(error)
        if self._connection is not None:
            self._connection.abort()


def _decoder(encoding: str | None) -> Any:
    kind = (encoding or "").strip().lower()
    if kind in ("", "identity"):
        return None
    if kind in ("gzip", "x-gzip"):
        return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    if kind == "deflate":
        return zlib.decompressobj(wbits=zlib.MAX_WBITS)
    return _Unsupported(kind)


class _Unsupported:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        raise zlib.error(f"content-encoding {self.kind!r} was not asked for and is not supported")

    def flush(self) -> bytes:
        return b""


class Connection(asyncio.Protocol):
    """One keep-alive connection to an origin; one request at a time."""

    def __init__(self, pool: Pool, key: tuple[Any, ...]) -> None:
        self._pool = pool
        self._key = key
        self._loop = asyncio.get_running_loop()
        self._outbox = outbox_of(self._loop)
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._busy = False
        self._raw_headers: list[tuple[str, str]] = []
        self._response: Response | None = None
        self._head: asyncio.Future[Response] | None = None
        self._until_close = False
        self._stray = False
        self._head_bytes = 0
        self.closed = False
        self.paused = False
        self.idle_since = 0.0

    # --- used by the pool and the response ---------------------------------------------------

    def send(self, data: bytes, more: bytes | None = None) -> asyncio.Future[Response]:
        """Write one request; its answer's status and headers resolve the future returned.

        The connection is busy until the answer is read to the end. The future is the
        request's own: a short answer can end, and free the connection for the next request,
        before the task that sent it resumes to take its headers.
        """
        transport = self._transport
        assert transport is not None
        self._busy = True
        self._raw_headers = []
        self._response = None
        self._head_bytes = 0
        head = self._head = self._loop.create_future()
        self._outbox.write(transport, data)  # out with the loop step's other writes
        if more is not None:
            self._outbox.write(transport, more)
        return head

    async def wait(self) -> None:
        """Until the protocol has news (data, the end, an error)."""
        waiter = self._waiter = self._loop.create_future()
        try:
            await waiter
        finally:
            # only its own: a reader woken by the last answer's end may resume after the
            # connection already waits for the next request's answer
            if self._waiter is waiter:
                self._waiter = None

    def resume(self) -> None:
        """Read from the socket again (the reader drained the buffer below half the high-water mark)."""
        if self.paused and self._transport is not None:
            self.paused = False
            self._transport.resume_reading()

    def abort(self) -> None:
        """Drop the connection (a body left unread, a failure)."""
        self.closed = True
        if self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        """Close gracefully (an idle or finished connection)."""
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    @property
    def usable(self) -> bool:
        """Whether a new request may be sent on it (not closed, not closing)."""
        return not self.closed and self._transport is not None and not self._transport.is_closing()

    # --- asyncio protocol --------------------------------------------------------------------

    @override
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is one, but not a subclass

    @override
    def data_received(self, data: bytes) -> None:
        if not self._busy:  # nothing asked: a server talking out of turn is not to be trusted
            self.abort()
            return
        try:
            self._parser.feed_data(data)
            if self._stray:  # bytes after the answer, as if a second one: not to be trusted
                self.abort()
            elif self._response is None and self._busy:
                self._head_bytes += len(data)
                if self._head_bytes > MAX_HEAD:
                    self._failed(BadResponse(f"the status line and headers run past {MAX_HEAD} bytes"))
        except httptools.HttpParserUpgrade:
            self._failed(BadResponse("the server switched protocols, which was not asked for"))
        except httptools.HttpParserError as exc:
            self._failed(BadResponse(f"malformed HTTP response ({exc})"))
        response = self._response
        if response is not None and response._size > HIGH_WATER and not self.paused:
            self.paused = True
            assert self._transport is not None
            self._transport.pause_reading()
        self._wake()

    @override
    def eof_received(self) -> bool | None:
        return False  # closes the transport; connection_lost says what it meant

    @override
    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pool.forget(self)
        response = self._response
        if response is not None and not response._complete:
            if self._until_close and response._error is None:
                response._finish()  # a body delimited by the close: this is its end
            else:
                response._fail(Disconnected("the connection closed before the body was complete"))
        elif self._busy and response is None:
            reason = f" ({exc})" if exc else ""
            self._head_failed(Disconnected(f"server disconnected before answering{reason}"))
        self._busy = False
        self._wake()

    # --- httptools callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if not self._busy:
            self._stray = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._stray:
            return
        self._raw_headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        if self._stray:
            return
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # interim (103 Early Hints): the real answer follows
            self._raw_headers = []
            return
        headers = CIMultiDictProxy(CIMultiDict(self._raw_headers))
        self._until_close = (
            "content-length" not in headers
            and "transfer-encoding" not in headers
            and status not in (204, 304)
        )
        response = self._response = Response(self, status, headers)
        head = self._head
        if head is not None and not head.done():
            head.set_result(response)

    def on_body(self, body: bytes) -> None:
        if self._response is not None and not self._stray:
            self._response._feed(body)

    def on_message_complete(self) -> None:
        if self._stray:
            return
        response = self._response
        if response is None:  # the end of an interim answer
            return
        response._finish()
        self._busy = False
        self._response = None
        if response._error is not None or not self._parser.should_keep_alive():
            self.close()
            return
        self._pool.release(self._key, self)

    # --- internals ---------------------------------------------------------------------------

    def _failed(self, error: ClientError) -> None:
        if self._response is not None:
            self._response._fail(error)
        else:
            self._head_failed(error)
        self.abort()

    def _head_failed(self, error: ClientError) -> None:
        head = self._head
        if head is not None and not head.done():
            head.set_exception(error)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class Pool:
    """Keep-alive connections per origin (and TLS context), opened through a guarded path.

    `resolver` answers DNS (cached for DNS_TTL_S; literal IPs skip it) and `socket_factory`
    makes each socket, so both can refuse an address (transport.py uses them against DNS
    rebinding). No cap on connections: the gateway's admission bounds its callers.
    """

    def __init__(
        self,
        resolver: AbstractResolver,
        socket_factory: Callable[[Any], socket.socket],
        *,
        keepalive_s: float = KEEPALIVE_S,
    ) -> None:
        self._resolver = resolver
        self._socket_factory = socket_factory
        self._keepalive_s = keepalive_s
        self._idle: dict[tuple[Any, ...], list[Connection]] = {}
        self._dns: dict[tuple[str, int], tuple[float, list[ResolveResult]]] = {}
        self._default_tls: ssl.SSLContext | None = None
        self._open: set[Connection] = set()
        self._sweep: asyncio.TimerHandle | None = None

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        tls: ssl.SSLContext | None = None,
        connect_timeout: float,
    ) -> Response:
        """Send one request and wait for its status and headers (the caller bounds the wait)."""
        origin = origin_of(url)
        head = request_head(method, origin, headers, len(body))
        context = (tls or self._verified()) if origin.tls else None
        key = (origin.scheme, origin.host, origin.port, id(context))
        connection = self._reuse(key)
        if connection is None:
            try:
                async with asyncio.timeout(connect_timeout):
                    connection = await self._connect(key, origin, context)
            except TimeoutError:
                raise ConnectTimeout(
                    f"no connection to {origin.host}:{origin.port} within {connect_timeout}s"
                ) from None
        try:
            small = len(body) < 65536
            return await connection.send(head + body if small else head, None if small else body)
        except BaseException:  # a deadline, a cancellation: the connection's state is unknown
            connection.abort()
            raise

    def release(self, key: tuple[Any, ...], connection: Connection) -> None:
        """A connection whose answer was read to the end goes back for the next request."""
        if not connection.usable:
            return
        connection.idle_since = time.monotonic()
        self._idle.setdefault(key, []).append(connection)
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(self._keepalive_s, self._close_expired)

    def forget(self, connection: Connection) -> None:
        """A closed connection is no longer counted open."""
        self._open.discard(connection)

    def _close_expired(self) -> None:
        """Close idle connections past their keep-alive (a quiet gateway holds no sockets open)."""
        self._sweep = None
        now = time.monotonic()
        for key, idle in list(self._idle.items()):
            kept = []
            for connection in idle:
                if self._fresh(connection, now):
                    kept.append(connection)
                else:
                    connection.close()
            if kept:
                self._idle[key] = kept
            else:
                del self._idle[key]
        if self._idle:
            self._sweep = asyncio.get_running_loop().call_later(self._keepalive_s / 2, self._close_expired)

    async def aclose(self) -> None:
        """Close every connection, idle or busy."""
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for connection in list(self._open):
            connection.close()
        self._idle.clear()
        self._open.clear()
        await asyncio.sleep(0)  # let the transports' closes run

    def _reuse(self, key: tuple[Any, ...]) -> Connection | None:
        idle = self._idle.get(key)
        if not idle:
            return None
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if self._fresh(connection, now):
                return connection
            connection.close()
        return None

    def _fresh(self, connection: Connection, now: float) -> bool:
        """Whether an idle connection may take a request (open, and idle less than the keep-alive)."""
        return connection.usable and now - connection.idle_since < self._keepalive_s

    async def _connect(
        self, key: tuple[Any, ...], origin: Origin, context: ssl.SSLContext | None
    ) -> Connection:
        loop = asyncio.get_running_loop()
        infos = await self._addresses(origin.host, origin.port)
        try:
            sock = await aiohappyeyeballs.start_connection(
                infos, happy_eyeballs_delay=0.25, socket_factory=self._socket_factory
            )
        except OSError as exc:
            raise ConnectFailed(origin.host, origin.port, exc) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = Connection(self, key)
        try:
            await loop.create_connection(
                lambda: connection,
                sock=sock,
                ssl=context,
                server_hostname=origin.host.rstrip(".") if context is not None else None,
            )
        except OSError as exc:  # ssl.SSLError (a failed handshake) among them
            sock.close()
            raise ConnectFailed(origin.host, origin.port, exc) from exc
        except BaseException:  # the deadline passed during the TLS handshake
            sock.close()
            raise
        self._open.add(connection)
        return connection

    async def _addresses(self, host: str, port: int) -> list[Any]:
        """Address infos to connect to: a literal IP as is, a name through the (cached) resolver."""
        addresses = [(host, port)] if _is_ip(host) else await self._resolved(host, port)
        infos: list[Any] = []
        for address, at in addresses:
            if ":" in address:
                infos.append(
                    (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, at, 0, 0))
                )
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, at)))
        return infos

    async def _resolved(self, host: str, port: int) -> list[tuple[str, int]]:
        cached = self._dns.get((host, port))
        if cached is not None and cached[0] > time.monotonic():
            results = cached[1]
        else:
            try:
                results = await self._resolver.resolve(host, port, socket.AF_UNSPEC)
            except OSError as exc:
                raise ConnectFailed(host, port, exc) from exc
            self._dns[(host, port)] = (time.monotonic() + DNS_TTL_S, results)
        return [(result["host"], result["port"]) for result in results]

    def _verified(self) -> ssl.SSLContext:
        if self._default_tls is None:
            self._default_tls = verifying_context()
        return self._default_tls


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def verifying_context(cafile: str | None = None) -> ssl.SSLContext:
    """TLS that verifies against `cafile`, or the system store (which honours SSL_CERT_FILE/DIR)."""
    context = ssl.create_default_context(cafile=cafile)
    context.set_alpn_protocols(("http/1.1",))  # the only protocol this client speaks
    return context
