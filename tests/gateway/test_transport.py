"""The transport's read deadlines: one lazily re-armed timer per response, checked against a real server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from modelrouter.errors import UpstreamProtocolError, UpstreamTimeout
from modelrouter.gateway.transport import Deadlines, Transport
from modelrouter.providers import UpstreamCall


async def _slow_body(request: web.Request) -> web.StreamResponse:
    """`?pieces=N&gap=S`: N pieces, S seconds apart."""
    pieces, gap = int(request.query["pieces"]), float(request.query["gap"])
    response = web.StreamResponse()
    await response.prepare(request)
    with contextlib.suppress(ConnectionResetError):  # the client gave up: that is the test
        for i in range(pieces):
            if i:
                await asyncio.sleep(gap)
            await response.write(f"piece {i}\n".encode())
        await response.write_eof()
    return response


async def _set_cookie(request: web.Request) -> web.Response:
    response = web.Response(text=request.headers.get("cookie", "no cookie"))
    response.set_cookie("session", "from-the-provider")
    return response


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/body", _slow_body)
    app.router.add_post("/cookie", _set_cookie)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def _read(
    base: str, pieces: int, gap: float, *, idle: float, total: float, pause: float = 0
) -> list[bytes]:
    transport = Transport()
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(connect=1, first_byte=2, idle=idle, total_at=loop.time() + total)
    call = UpstreamCall("POST", f"{base}/body?pieces={pieces}&gap={gap}", {}, b"")
    upstream = await transport.open(call, deadlines, "fake")
    try:
        got = []
        async for chunk in upstream.chunks():
            got.append(chunk)
            await asyncio.sleep(pause)  # the caller busy elsewhere (a slow client)
        return got
    finally:
        upstream.close()
        await transport.aclose()


async def test_a_gap_longer_than_the_idle_deadline_is_an_idle_timeout(server: str) -> None:
    with pytest.raises(UpstreamTimeout, match=r"sent nothing for 0\.3s \(idle deadline\)"):
        await _read(server, 3, 1.0, idle=0.3, total=10)


async def test_gaps_within_the_idle_deadline_never_time_out(server: str) -> None:
    got = await _read(server, 6, 0.1, idle=0.25, total=10)
    assert b"".join(got) == b"".join(f"piece {i}\n".encode() for i in range(6))


async def test_time_the_caller_spends_between_reads_is_not_idle(server: str) -> None:
    """Everything is buffered while the caller sleeps 0.4 s per chunk against a 0.2 s idle deadline."""
    got = await _read(server, 3, 0.0, idle=0.2, total=10, pause=0.4)
    assert b"".join(got).count(b"piece") == 3


async def test_the_total_deadline_ends_reads_and_says_so(server: str) -> None:
    with pytest.raises(UpstreamTimeout, match=r"\(total deadline\)"):
        await _read(server, 20, 0.1, idle=5, total=0.5)


async def test_a_cancellation_from_elsewhere_stays_a_cancellation(server: str) -> None:
    reader = asyncio.ensure_future(_read(server, 3, 1.0, idle=5, total=10))
    await asyncio.sleep(0.3)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader


async def test_a_providers_cookies_never_ride_on_later_calls(server: str) -> None:
    """Cookies one caller's answer set must not reach the provider with the next caller's request."""
    transport = Transport()
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(connect=1, first_byte=2, idle=2, total_at=loop.time() + 10)
    try:
        seen = []
        for _ in range(2):
            # by name: aiohttp's default jar keeps no cookies of bare IP addresses
            url = server.replace("127.0.0.1", "localhost") + "/cookie"
            upstream = await transport.open(UpstreamCall("POST", url, {}, b""), deadlines, "fake")
            seen.append(await upstream.read())
        assert seen == [b"no cookie", b"no cookie"]
    finally:
        await transport.aclose()


@pytest.mark.parametrize(("pieces", "gap"), [(1, 0.0), (3, 0.05)])
async def test_read_takes_a_body_whole_or_in_pieces_and_bounds_it(
    server: str, pieces: int, gap: float
) -> None:
    """A small answer is usually whole when its headers arrive; either way `read` is the same."""
    transport = Transport()
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(connect=1, first_byte=2, idle=2, total_at=loop.time() + 10)
    expected = b"".join(f"piece {i}\n".encode() for i in range(pieces))
    call = UpstreamCall("POST", f"{server}/body?pieces={pieces}&gap={gap}", {}, b"")
    try:
        upstream = await transport.open(call, deadlines, "fake")
        await asyncio.sleep(0.02 + pieces * gap)  # the whole body has arrived
        assert await upstream.read() == expected
        upstream = await transport.open(call, deadlines, "fake")
        await asyncio.sleep(0.02 + pieces * gap)
        with pytest.raises(UpstreamProtocolError, match="over 5 bytes"):
            await upstream.read(limit=5)
        upstream.close()
        upstream = await transport.open(call, deadlines, "fake")  # read as it arrives
        assert await upstream.read() == expected
    finally:
        await transport.aclose()


async def _no_answer(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(30)  # the headers never come within any test's deadline
    return web.Response()


@pytest.fixture
async def silent() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/silent", _no_answer)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/silent"
    await runner.cleanup()


@pytest.mark.parametrize(("first_byte", "total", "which"), [(0.3, 10, "first-byte"), (5, 0.3, "total")])
async def test_headers_that_never_come_time_out_at_the_nearer_deadline(
    silent: str, first_byte: float, total: float, which: str
) -> None:
    transport = Transport()
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(connect=1, first_byte=first_byte, idle=5, total_at=loop.time() + total)
    started = loop.time()
    try:
        with pytest.raises(UpstreamTimeout, match=f"within 0.3s \\({which} deadline\\)"):
            await transport.open(UpstreamCall("POST", silent, {}, b""), deadlines, "fake")
        assert 0.25 <= loop.time() - started < 2
    finally:
        await transport.aclose()


async def test_a_cancellation_while_waiting_for_headers_stays_a_cancellation(silent: str) -> None:
    transport = Transport()
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(connect=1, first_byte=0.5, idle=5, total_at=loop.time() + 10)
    opening = asyncio.create_task(transport.open(UpstreamCall("POST", silent, {}, b""), deadlines, "fake"))
    await asyncio.sleep(0.1)
    opening.cancel()
    try:
        with pytest.raises(asyncio.CancelledError):  # not an UpstreamTimeout
            await opening
    finally:
        await transport.aclose()
