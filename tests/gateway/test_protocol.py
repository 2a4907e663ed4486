"""The server protocol's transport: a response head leaves with the body, never reordered or lost."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
import uvicorn

from modelrouter.gateway.protocol import CoalescingTransport, GatewayHttpProtocol
from tests.gateway.harness import free_port

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"


class Recorder:
    """A transport that keeps what was written, one entry per write call."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> Any:
        return f"info:{name}"


def _wrapped() -> tuple[Recorder, CoalescingTransport]:
    recorder = Recorder()
    return recorder, CoalescingTransport(recorder, asyncio.get_running_loop())  # type: ignore[arg-type]


async def test_head_and_body_of_one_step_leave_in_one_write() -> None:
    recorder, transport = _wrapped()
    transport.write(HEAD)
    assert recorder.writes == []
    transport.write(b"hello")
    assert recorder.writes == [HEAD + b"hello"]
    await asyncio.sleep(0)  # the scheduled flush finds nothing left
    assert recorder.writes == [HEAD + b"hello"]


async def test_a_head_alone_leaves_when_the_loop_moves_on() -> None:
    recorder, transport = _wrapped()
    transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    await asyncio.sleep(0)
    assert recorder.writes == [b"HTTP/1.1 204 No Content\r\n\r\n"]


async def test_stream_chunks_after_the_first_go_out_at_once_in_order() -> None:
    recorder, transport = _wrapped()
    transport.write(HEAD)
    transport.write(b"data: 1\n\n")
    transport.write(b"data: 2\n\n")
    assert recorder.writes == [HEAD + b"data: 1\n\n", b"data: 2\n\n"]


async def test_close_sends_what_is_held_first() -> None:
    recorder, transport = _wrapped()
    transport.write(HEAD)
    transport.close()
    assert recorder.writes == [HEAD] and recorder.closed
    assert transport.is_closing()
    assert transport.get_extra_info("peername") == "info:peername"


async def test_nothing_is_written_to_a_closed_transport() -> None:
    recorder, transport = _wrapped()
    transport.write(HEAD)
    recorder.closed = True  # the peer went away before the loop moved on
    await asyncio.sleep(0)
    assert recorder.writes == []


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_uvicorn_serves_through_it(method: str) -> None:
    """Keep-alive answers with and without a body, and a streamed one, over a real socket."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        stream = scope["path"] == "/stream"
        headers = [(b"content-type", b"text/plain")] + ([] if stream else [(b"content-length", b"5")])
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if stream:
            for part in (b"a", b"b", b"c"):
                await send({"type": "http.response.body", "body": part, "more_body": True})
                await asyncio.sleep(0.01)
            await send({"type": "http.response.body", "body": b""})
        else:
            await send({"type": "http.response.body", "body": b"hello"})

    port = free_port()
    config = uvicorn.Config(app, port=port, http=GatewayHttpProtocol, lifespan="off", log_level="error")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        base = f"http://127.0.0.1:{port}"
        connector = aiohttp.TCPConnector(limit=1)  # one connection, kept alive between requests
        async with aiohttp.ClientSession(connector=connector) as client:
            for _ in range(3):
                async with client.request(method, base + "/") as answer:
                    assert answer.status == 200
                    assert await answer.read() == (b"hello" if method == "GET" else b"")
            async with client.request(method, base + "/stream") as streamed:
                assert await streamed.read() == (b"abc" if method == "GET" else b"")
    finally:
        server.should_exit = True
        await task
