"""A client that leaves cancels its request, once the request has run long enough to be watched."""

from __future__ import annotations

import asyncio
from typing import Any

from modelrouter.gateway.asgi import DisconnectWatch


class Client:
    """An ASGI `receive` whose disconnect message comes when `leave()` is called."""

    def __init__(self) -> None:
        self.left = asyncio.Event()
        self.calls = 0

    def leave(self) -> None:
        self.left.set()

    async def receive(self) -> dict[str, Any]:
        self.calls += 1
        await self.left.wait()
        return {"type": "http.disconnect"}


async def test_a_client_leaving_cancels_the_request_and_says_so() -> None:
    client = Client()
    started = asyncio.Event()

    async def request() -> None:
        task = asyncio.current_task()
        assert task is not None
        watch = DisconnectWatch(client.receive, task, after=0.01)
        started.set()
        try:
            await asyncio.sleep(10)  # waiting on the provider
        except asyncio.CancelledError:
            assert watch.gone, "the watch says the client left before it cancels"
            raise
        finally:
            watch.stop()

    task = asyncio.create_task(request())
    await started.wait()
    await asyncio.sleep(0.05)
    client.leave()
    done, _ = await asyncio.wait([task], timeout=1)
    assert task in done and task.cancelled()


async def test_a_quick_request_is_never_watched() -> None:
    client = Client()
    task = asyncio.current_task()
    assert task is not None
    watch = DisconnectWatch(client.receive, task, after=0.05)
    watch.stop()
    await asyncio.sleep(0.1)
    assert client.calls == 0, "no receive() was started for a request that ended first"
    assert not watch.gone


async def test_a_stopped_watch_cancels_nothing() -> None:
    client = Client()
    task = asyncio.current_task()
    assert task is not None
    watch = DisconnectWatch(client.receive, task, after=0.0)
    await asyncio.sleep(0.01)
    assert client.calls == 1, "the watch is waiting on receive()"
    watch.stop()
    client.leave()
    await asyncio.sleep(0.01)  # this task goes on: the watch was stopped before the client left
    assert not watch.gone
