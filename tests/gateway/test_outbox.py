"""Writes held for the loop's next step: made back to back, in order, never after a close."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from typing_extensions import override

from modelrouter.gateway.outbox import HeldTransport, Outbox, outbox_of
from modelrouter.gateway.protocol import GatewayHttpProtocol
from tests.gateway.harness import free_port


class Recorder:
    """A transport that keeps its writes, here and in a log shared with other transports."""

    def __init__(self, name: str, log: list[tuple[str, bytes]]) -> None:
        self.name = name
        self.log = log
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(data)
        self.log.append((self.name, data))

    def close(self) -> None:
        self.closed = True
        self.log.append((self.name, b"<close>"))

    def abort(self) -> None:
        self.aborted = self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class Broken(Recorder):
    @override
    def write(self, data: bytes) -> None:
        raise RuntimeError("the socket's buffer is gone")


async def test_writes_wait_for_the_loops_next_step_then_go_out_in_order() -> None:
    log: list[tuple[str, bytes]] = []
    a, b = Recorder("a", log), Recorder("b", log)
    outbox = Outbox(asyncio.get_running_loop())
    outbox.write(a, b"a1")  # type: ignore[arg-type]
    outbox.write(b, b"b1")  # type: ignore[arg-type]
    outbox.write(a, b"a2")  # type: ignore[arg-type]
    assert log == []  # nothing leaves within the step that wrote it
    await asyncio.sleep(0)
    assert log == [("a", b"a1"), ("b", b"b1"), ("a", b"a2")]
    outbox.write(b, b"b2")  # type: ignore[arg-type]  # a later step's writes get their own flush
    await asyncio.sleep(0)
    assert b.writes == [b"b1", b"b2"]


async def test_a_close_waits_behind_the_writes_queued_before_it() -> None:
    log: list[tuple[str, bytes]] = []
    real = Recorder("a", log)
    held = HeldTransport(real, outbox_of(asyncio.get_running_loop()))  # type: ignore[arg-type]
    held.write(b"the answer")
    held.close()
    held.close()  # uvicorn may close twice; the transport is closed once
    assert held.is_closing()  # at once, so uvicorn starts nothing more on it
    assert not real.closed
    await asyncio.sleep(0)
    assert log == [("a", b"the answer"), ("a", b"<close>")]


async def test_a_transport_closed_meanwhile_gets_nothing_and_the_others_get_theirs() -> None:
    log: list[tuple[str, bytes]] = []
    gone, broken, fine = Recorder("gone", log), Broken("broken", log), Recorder("fine", log)
    outbox = Outbox(asyncio.get_running_loop())
    outbox.write(gone, b"late")  # type: ignore[arg-type]
    outbox.write(broken, b"lost")  # type: ignore[arg-type]
    outbox.write(fine, b"kept")  # type: ignore[arg-type]
    gone.abort()  # the client went away before the loop's next step
    await asyncio.sleep(0)
    assert gone.writes == []
    assert broken.aborted  # a write that raised drops its own connection only
    assert fine.writes == [b"kept"]


async def test_an_early_flush_writes_now_and_the_scheduled_one_finds_nothing_twice() -> None:
    log: list[tuple[str, bytes]] = []
    a = Recorder("a", log)
    outbox = Outbox(asyncio.get_running_loop())
    outbox.write(a, b"1")  # type: ignore[arg-type]
    outbox.flush()
    assert a.writes == [b"1"]
    outbox.write(a, b"2")  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert a.writes == [b"1", b"2"]


def test_each_loop_has_its_own_outbox() -> None:
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        assert outbox_of(first) is outbox_of(first)
        assert outbox_of(first) is not outbox_of(second)
    finally:
        first.close()
        second.close()


async def _serve(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    port = free_port()
    config = uvicorn.Config(app, port=port, http=GatewayHttpProtocol, lifespan="off", log_level="error")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    return server, task, port


async def _hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = scope["path"].encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize(
    "ask",
    [
        b"GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /first HTTP/1.0\r\n\r\n",
    ],
    ids=["pipelined-then-close", "http-1.0"],
)
async def test_answers_leave_whole_and_in_order_before_the_connection_closes(ask: bytes) -> None:
    server, task, port = await _serve(_hello)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(ask)
        received = await asyncio.wait_for(reader.read(), 10)  # to the server's close
        writer.close()
    finally:
        server.should_exit = True
        await task
    answers = received.split(b"HTTP/1.1 200 OK\r\n")[1:]
    expected = [b"/first", b"/second"] if b"/second" in ask else [b"/first"]
    assert [answer.rsplit(b"\r\n\r\n", 1)[1] for answer in answers] == expected
