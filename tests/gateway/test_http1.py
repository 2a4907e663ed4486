"""The upstream HTTP/1.1 client against scripted servers: framing, keep-alive, and what it refuses.

Each server here is a raw asyncio listener that writes exactly the bytes a test scripts, so
the framing cases real servers rarely produce on demand (interim answers, stray bytes, a body
cut short, a close-delimited body) are exercised byte for byte.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import DefaultResolver
from hypothesis import given
from hypothesis import strategies as st
from typing_extensions import override

from modelrouter.gateway import http1

Handler = Callable[[bytes, asyncio.StreamWriter, int], Awaitable[bool]]
"""Given a request (head and body), the writer, and the request's number on its connection:
answer, and say whether to keep the connection open."""


@dataclass
class Scripted:
    """A listener that reads whole requests and lets a handler answer each."""

    handler: Handler
    port: int = 0
    connections: int = 0
    ended: int = 0
    """Connections the client closed (or that ended)."""
    requests: list[bytes] = field(default_factory=list)
    server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                if not await self.handler(request, writer, number):
                    break
                number += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.ended += 1
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/chat?x=1"


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[Handler], Awaitable[Scripted]]]:
    servers: list[Scripted] = []

    async def start(handler: Handler) -> Scripted:
        listener = Scripted(handler)
        listener.server = await asyncio.start_server(listener._serve, "127.0.0.1", 0)
        listener.port = listener.server.sockets[0].getsockname()[1]
        servers.append(listener)
        return listener

    yield start
    for listener in servers:
        assert listener.server is not None
        listener.server.close()


def plain_socket(info: tuple[Any, ...]) -> socket.socket:
    return socket.socket(info[0], info[1], info[2])


@pytest.fixture
async def pool() -> AsyncIterator[http1.Pool]:
    made = http1.Pool(DefaultResolver(), plain_socket)
    yield made
    await made.aclose()


def answer(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    lines = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 {status}\r\ncontent-length: {len(body)}\r\n{lines}\r\n".encode() + body


async def keep_alive(request: bytes, writer: asyncio.StreamWriter, number: int) -> bool:
    writer.write(answer(b'{"n": %d}' % number, "content-type: application/json"))
    return True


async def call(pool: http1.Pool, url: str, body: bytes = b"{}", **headers: str) -> tuple[int, bytes]:
    async with asyncio.timeout(5):  # a hang is a failure, not a stuck suite
        response = await pool.request("POST", url, headers, body, connect_timeout=2)
        chunks = []
        while chunk := await response.readany():
            chunks.append(chunk)
    response.close()
    return response.status, b"".join(chunks)


async def test_answers_reuse_one_connection_and_the_request_is_framed_once(
    scripted: Callable[[Handler], Awaitable[Scripted]], pool: http1.Pool
) -> None:
    server = await scripted(keep_alive)
    assert await call(pool, server.url, b'{"a": 1}', authorization="Bearer k") == (200, b'{"n": 0}')
    assert await call(pool, server.url) == (200, b'{"n": 1}')
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /v1/chat?x=1 HTTP/1.1\r\n")
    assert f"host: 127.0.0.1:{server.port}\r\n".encode() in first
    assert b"content-length: 8\r\n" in first and first.endswith(b'\r\n\r\n{"a": 1}')
    assert b"authorization: Bearer k\r\n" in first
    assert b"accept-encoding" not in first.lower() and b"user-agent" not in first.lower()


async def test_short_answers_that_end_before_their_task_resumes_reach_the_right_caller(
    scripted: Callable[[Handler], Awaitable[Scripted]], pool: http1.Pool
) -> None:
    """Each caller gets its own answer, however short.

    An answer can end, and free its connection for the next request, before its own task
    resumes (a slot shared by the connection's requests lost answers that way once).
    """

    async def echo(request: bytes, writer: asyncio.StreamWriter, number: int) -> bool:
        writer.write(answer(request.rsplit(b"\r\n\r\n", 1)[1]))
        return True

    server = await scripted(echo)
    gate = asyncio.Semaphore(4)

    async def one(i: int) -> bytes:
        async with gate:
            return (await asyncio.wait_for(call(pool, server.url, b"%d" % i), 2))[1]

    got = await asyncio.gather(*(one(i) for i in range(300)))
    assert got == [b"%d" % i for i in range(300)]
    assert server.connections <= 4


async def test_a_chunked_body_arrives_piece_by_piece(
    scripted: Callable[[Handler], Awaitable[Scripted]], pool: http1.Pool
) -> None:
    async def chunked(request: bytes, writer: asyncio.StreamWriter, number: int) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        for piece in (b"data: one\n\n", b"data: two\n\n"):
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
            await asyncio.sleep(0.02)
        writer.write(b"0\r\n\r\n")
        return True

    server = await scripted(chunked)
    response = await pool.request("POST", server.url, {}, b"", connect_timeout=2)
    pieces = []
    while piece := await response.readany():
        pieces.append(piece)
    assert pieces == [b"data: one\n\n", b"data: two\n\n"]
    assert await call(pool, server.url) == (200, b"data: one\n\ndata: two\n\n")
    assert server.connections == 1


async def test_a_body_ended_by_the_close_is_whole_and_the_connection_is_not_reused(
    scripted: Callable[[Handler], Awaitable[Scripted]], pool: http1.Pool
) -> None:
    async def until_close(request: bytes, writer: asyncio.StreamWriter, number: int) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nthe whole body")
        return False

    server = await scripted(until_close)
    assert await call(pool, server.url) == (200, b"the whole body")
    assert await call(pool, server.url) == (200, b"the whole body")
    assert server.connections == 2


async def test_connection_close_and_http_1_0_answers_are_not_reused(
    scripted: Callable[[Handler], Awaitable[Scripted]], pool: http1.Pool
) -> None:
    async def closing(request: bytes, writer: asyncio.StreamWriter, number: int) -> bool:
        if len(scripted_server.requests) % 2:
            writer.write(answer(b"ok", "connection: close"))
        else:
            writer.write(answer(b"ok").replace(b"HTTP/1.1", b"HTTP/1.0"))
        return True

    scripted_server = await scripted(closing)
    for _ in range(4):
        assert await call(pool, scripted_server.url) == (200, b"ok")
    assert scripted_server.connections == 4


async def test_a_connection_the_server_closed_while_idle_is_not_used_again(
    scripted: Callable[[Handler], Awaitable[Scripted]], pool: http1.Pool
) -> None:
    async def one_then_close(request: bytes, writer: asyncio.StreamWriter, number: int) -> bool:
        writer.write(answer(b"ok"))
        await writer.drain()
        return False  # closes, without having said so

    server = await scripted(one_then_close)
    assert await call(pool, server.url) == (200, b"ok")
    await asyncio.sleep(0.05)
    assert await call(pool, server.url) == (200, b"ok")
    assert server.connections == 2


async def test_an_idle_connection_past_its_keepalive_is_closed_and_replaced(
    scripted: Callable[[Handler], Awaitable[Scripted]],
) -> None:
    server = await scripted(keep_alive)
    pool = http1.Pool(DefaultResolver(), plain_socket, keepalive_s=0.1)
    try:
        await call(pool, server.url)
        await call(pool, server.url)
        assert (server.connections, server.ended) == (1, 0)
        await asyncio.sleep(0.3)
        assert server.ended == 1, "closed by the client while idle, not left to the server"
        await call(pool, server.url)
        assert server.connections == 2
    finally:
        await pool.aclose()


async def test_an_interim_answer_is_skipped(
    scripted: Callable[[Handler], Awaitable[Scripted]], pool: http1.Pool
) -> None:
    async def early_hints(request: bytes, writer: asyncio.StreamWriter, number: int) -> bool:
        writer.write(b"HTTP/1.1 103 Early Hints\r\nlink: </a>; rel=preload\r\n\r\n")
        writer.write(answer(b"final", "x-final: yes"))
        return True

    server = await scripted(early_hints)
    response = await pool.request("POST", server.url, {}, b"", connect_timeout=2)
    assert response.status == 200
    assert response.headers["X-Final"] == "yes" and "link" not in response.headers
    assert await response.readany() == b"final"
    assert await call(pool, server.url) == (200, b"final")


async def test_a_gzip_body_is_decoded_and_an_unasked_encoding_is_refused(
    scripted: Callable[[Handler], Awaitable[Scripted]], pool: http1.Pool
) -> None:
    async def encoded(request: bytes, writer: asyncio.StreamWriter, number: int) -> bool:
        seen = len(server.requests)  # the bomb costs its connection: count across connections
        if seen == 1:
            writer.write(answer(gzip.compress(b'{"ok": true}'), "content-encoding: gzip"))
        elif seen == 2:
            writer.write(answer(bomb, "content-encoding: gzip"))
        else:
            writer.write(answer(b"\x00\x01", "content-encoding: br"))
        return True

    bomb = gzip.compress(bytes(http1.MAX_DECODED + 1))
    server = await scripted(encoded)
    assert await call(pool, server.url) == (200, b'{"ok": true}')
    with pytest.raises(http1.BadResponse, match="expands past"):
        await call(pool, server.url)
    with pytest.raises(http1.BadResponse, match="'br' was not asked for"):
        await call(pool, server.url)


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("x-beta", "a\r\nx-injected: 1", "cannot be sent"),
        ("x-beta", "a\nb", "cannot be sent"),
        ("x-beta", "nul\x00", "cannot be sent"),
        ("x bad", "v", "cannot be sent"),
        ("x-name", "caf\u00e9 \u2603", "not latin-1"),
    ],
)
async def test_a_header_that_could_split_the_request_is_refused_unsent(
    scripted: Callable[[Handler], Awaitable[Scripted]], pool: http1.Pool, name: str, value: str, match: str
) -> None:
    server = await scripted(keep_alive)
    with pytest.raises(ValueError, match=match):
        await pool.request("POST", server.url, {name: value}, b"{}", connect_timeout=2)
    assert server.connections == 0


async def test_stray_bytes_after_an_answer_cost_the_connection(
    scripted: Callable[[Handler], Awaitable[Scripted]], pool: http1.Pool
) -> None:
    async def two_answers(request: bytes, writer: asyncio.StreamWriter, number: int) -> bool:
        writer.write(answer(b"first") + answer(b"smuggled"))
        return True

    server = await scripted(two_answers)
    assert await call(pool, server.url) == (200, b"first")
    await asyncio.sleep(0.02)
    assert await call(pool, server.url) == (200, b"first"), "never the smuggled answer"
    assert server.connections == 2


async def test_disconnects_and_garbage_are_client_errors(
    scripted: Callable[[Handler], Awaitable[Scripted]], pool: http1.Pool
) -> None:
    async def misbehave(request: bytes, writer: asyncio.StreamWriter, number: int) -> bool:
        kind = request.split(b" ")[1]
        if kind == b"/garbage":
            writer.write(b"<html>not http</html>\r\n\r\n")
        elif kind == b"/endless-head":
            writer.write(b"HTTP/1.1 200 OK\r\n")
            for i in range(10_000):
                writer.write(b"x-filler-%d: %s\r\n" % (i, b"v" * 64))
                await writer.drain()
        elif kind == b"/cut":
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b")
            await writer.drain()
        return False

    server = await scripted(misbehave)
    base = f"http://127.0.0.1:{server.port}"
    with pytest.raises(http1.Disconnected, match="before answering"):
        await pool.request("POST", base + "/silent", {}, b"", connect_timeout=2)
    with pytest.raises(http1.BadResponse, match="malformed"):
        await pool.request("POST", base + "/garbage", {}, b"", connect_timeout=2)
    with pytest.raises(http1.BadResponse, match="run past 65536 bytes"):
        await pool.request("POST", base + "/endless-head", {}, b"", connect_timeout=2)
    with pytest.raises(http1.Disconnected, match="before the body was complete"):
        await call(pool, base + "/cut")


async def test_a_refused_connection_names_the_address(pool: http1.Pool) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(http1.ConnectFailed, match=rf"connection to 127\.0\.0\.1:{port} failed"):
        await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"", connect_timeout=2)


async def test_a_caller_that_stops_waiting_costs_the_connection(
    scripted: Callable[[Handler], Awaitable[Scripted]], pool: http1.Pool
) -> None:
    """Its late answer must never be read as the next request's."""

    async def slow_first(request: bytes, writer: asyncio.StreamWriter, number: int) -> bool:
        if number == 0 and len(scripted_server.requests) == 1:
            await asyncio.sleep(0.3)
        writer.write(answer(b"answer %d" % len(scripted_server.requests)))
        return True

    scripted_server = await scripted(slow_first)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await pool.request("POST", scripted_server.url, {}, b"", connect_timeout=2)
    assert await call(pool, scripted_server.url) == (200, b"answer 2")
    assert scripted_server.connections == 2


async def test_a_large_body_pauses_reading_and_arrives_whole(
    scripted: Callable[[Handler], Awaitable[Scripted]], pool: http1.Pool
) -> None:
    body = bytes(range(256)) * (8 << 10)  # 2 MiB

    async def large(request: bytes, writer: asyncio.StreamWriter, number: int) -> bool:
        writer.write(answer(body))
        await writer.drain()
        return True

    server = await scripted(large)
    response = await pool.request("POST", server.url, {}, b"", connect_timeout=2)
    await asyncio.sleep(0.2)  # the consumer is slow: the buffer stops at the high-water mark
    assert response._size <= http1.HIGH_WATER + (1 << 20)
    chunks = []
    while chunk := await response.readany():
        chunks.append(chunk)
    assert b"".join(chunks) == body
    assert await call(pool, server.url) == (200, body)
    assert server.connections == 1


def test_urls_are_parsed_once_into_what_is_sent() -> None:
    origin = http1.origin_of("https://[::1]:8443/v1/x?api-version=2024")
    assert (origin.host, origin.port, origin.host_header, origin.target) == (
        "::1",
        8443,
        "[::1]:8443",
        "/v1/x?api-version=2024",
    )
    assert http1.origin_of("https://api.example.com/v1").host_header == "api.example.com"
    assert http1.origin_of("http://api.example.com:80").target == "/"
    head = http1.request_head(
        "POST",
        http1.origin_of("https://bedrock.example.com/model"),
        {"Host": "signed.example.com", "Content-Length": "999", "x-amz-date": "20261207T000000Z"},
        3,
    )
    assert head.startswith(b"POST /model HTTP/1.1\r\nhost: signed.example.com\r\ncontent-length: 3\r\n")
    assert b"999" not in head and b"x-amz-date: 20261207T000000Z\r\n" in head
    origin = http1.origin_of("https://example.com/models")
    assert b"content-length" not in http1.request_head("GET", origin, {}, 0)
    assert b"content-length: 0\r\n" in http1.request_head("POST", origin, {}, 0)
    with pytest.raises(ValueError, match="HEAD"):
        http1.request_head("HEAD", origin, {}, 0)
    for bad, match in [
        ("ftp://example.com/", "scheme"),
        ("https://user:secret@example.com/", "credentials"),
        ("https:///path", "no host"),
        ("https://example.com/a b", "spaces"),
    ]:
        with pytest.raises(ValueError, match=match):
            http1.origin_of(bad)


class _Wire(asyncio.Transport):
    """A transport that only records: the test plays the server by feeding the protocol."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False
        self.reading = True

    @override
    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    @override
    def is_closing(self) -> bool:
        return self.closed

    @override
    def close(self) -> None:
        self.closed = True

    @override
    def abort(self) -> None:
        self.closed = True

    @override
    def pause_reading(self) -> None:
        self.reading = False

    @override
    def resume_reading(self) -> None:
        self.reading = True


VALID = [
    answer(b'{"id": "x"}', "content-type: application/json"),
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    b"HTTP/1.1 103 Early Hints\r\n\r\n" + answer(b"after hints"),
    answer(gzip.compress(b"zipped body"), "content-encoding: gzip"),
]


async def _play(pieces: list[bytes], end: bool) -> tuple[int, bytes] | http1.ClientError:
    """Feed `pieces` as the server's bytes (then its close, if `end`); what the caller gets."""
    pool = http1.Pool(DefaultResolver(), plain_socket)
    connection = http1.Connection(pool, ("http", "h", 80, 0))
    connection.connection_made(_Wire())
    head = connection.send(b"POST / HTTP/1.1\r\n\r\n")
    for piece in pieces:
        connection.data_received(piece)
    if end:
        connection.connection_lost(None)
    if not head.done():
        return http1.Disconnected("no head yet")  # the caller would wait on (a deadline ends it)
    try:
        response = head.result()
    except http1.ClientError as exc:
        return exc
    body = []
    try:
        while not response._complete or response._chunks:
            if not response._chunks and response._error is None and not response._complete:
                break  # would wait for more bytes
            chunk = await response.readany()
            if not chunk:
                break
            body.append(chunk)
    except http1.ClientError as exc:
        return exc
    return response.status, b"".join(body)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@given(valid=st.sampled_from(VALID), cuts=st.lists(st.integers(min_value=0), max_size=8))
def test_an_answer_reads_the_same_however_its_bytes_are_split(valid: bytes, cuts: list[int]) -> None:
    whole = asyncio.run(_play([valid], end=False))
    assert not isinstance(whole, http1.ClientError)
    assert asyncio.run(_play(_split(valid, cuts), end=False)) == whole


@given(
    prefix=st.sampled_from(
        [b"", *VALID, b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n"]
    ),
    noise=st.binary(max_size=300),
    cuts=st.lists(st.integers(min_value=0), max_size=6),
    end=st.booleans(),
)
def test_whatever_a_server_sends_is_an_answer_or_a_client_error(
    prefix: bytes, noise: bytes, cuts: list[int], end: bool
) -> None:
    """Never another exception: the transport turns a ClientError into the provider's failure."""
    result = asyncio.run(_play(_split(prefix + noise, cuts), end))
    assert isinstance(result, http1.ClientError | tuple)


def test_a_compressed_body_never_expands_past_its_bound_however_it_arrives() -> None:
    """Past the bound, no more is decompressed (zlib's max_length 0 would mean no bound at all)."""
    bomb = gzip.compress(bytes(3 * http1.MAX_DECODED))
    framed = b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: %d\r\n\r\n" % len(bomb)

    async def play() -> tuple[http1.Response, _Wire]:
        pool = http1.Pool(DefaultResolver(), plain_socket)
        connection = http1.Connection(pool, ("http", "h", 80, 0))
        wire = _Wire()
        connection.connection_made(wire)
        head = connection.send(b"POST / HTTP/1.1\r\n\r\n")
        data = framed + bomb
        for start in range(0, len(data), 16 << 10):
            connection.data_received(data[start : start + (16 << 10)])
        return head.result(), wire

    response, wire = asyncio.run(play())
    assert isinstance(response._error, http1.BadResponse) and "expands past" in str(response._error)
    assert response._decoded <= http1.MAX_DECODED + 1
    assert response._size <= http1.MAX_DECODED
    assert wire.closed, "the connection is dropped"
