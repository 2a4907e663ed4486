"""Load held and overload shed (reliability.md section 4, short versions for CI).

A burst of plain and streamed requests gets zero errors, and leaves the gateway's memory and
open sockets where they were; more requests than `limits.max_concurrent` are shed at once
with 503 and Retry-After instead of queueing behind the ones in flight. The long soak is
bench/peers/run.py (2,000 concurrent streams).
"""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import requests

from tests.fakes import FakeUpstream
from tests.gateway.conftest import gateway_config
from tests.gateway.harness import RunningGateway, start_gateway

BODY: dict[str, Any] = {"model": "gpt-5.2@openai", "messages": [{"role": "user", "content": "hello there"}]}


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _sockets(pid: int) -> int:
    fds = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            continue
    return count


async def _burst(url: str, total: int, connections: int) -> list[int]:
    statuses: list[int] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(total):
        queue.put_nowait(number)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:

        async def worker() -> None:
            while not queue.empty():
                number = queue.get_nowait()
                body = {**BODY, "stream": number % 2 == 0}
                async with session.post(url, json=body) as response:
                    text = await response.text()
                    ok = response.status == 200 and ("[DONE]" in text or '"choices"' in text)
                    statuses.append(response.status if ok else -response.status)

        await asyncio.gather(*(worker() for _ in range(connections)))
    return statuses


def _load(gateway: RunningGateway) -> dict[str, Any]:
    """The worker's requests in flight and asyncio tasks, from /healthz."""
    load: dict[str, Any] = requests.get(gateway.url + "/healthz", timeout=5).json()["load"]
    return load


def test_a_burst_is_served_without_errors_and_leaves_nothing_behind(
    fake: FakeUpstream, tmp_path: Path
) -> None:
    gateway = start_gateway(tmp_path, gateway_config(fake.url))
    try:
        pid = gateway.process.pid
        url = gateway.url + "/v1/chat/completions"
        asyncio.run(_burst(url, 100, 8))  # warm: pools, caches, first allocations
        time.sleep(0.5)
        rss, sockets, tasks = _rss_mb(pid), _sockets(pid), _load(gateway)["tasks"]
        statuses = asyncio.run(_burst(url, 800, 32))
        assert statuses == [200] * 800
        time.sleep(1.0)
        assert _rss_mb(pid) - rss < 40, "memory comes back near where it was"
        # the 32 callers' sockets are closed; the upstream pool keeps at most one idle
        # keep-alive connection per request it held at once
        assert _sockets(pid) <= sockets + 32 + 2
        load = _load(gateway)
        assert load["in_flight"] == 0 and load["tasks"] <= tasks + 2, (load, tasks)
    finally:
        gateway.stop()


def test_beyond_max_concurrent_requests_are_shed_at_once_with_retry_after(
    fake: FakeUpstream, tmp_path: Path
) -> None:
    gateway: RunningGateway = start_gateway(tmp_path, gateway_config(fake.url, limits={"max_concurrent": 4}))
    try:
        fake.delay(1.0, label="openai", n=4)

        def one(_: int) -> tuple[int, float, str | None, str]:
            started = time.monotonic()
            response = requests.post(gateway.url + "/v1/chat/completions", json=BODY, timeout=10)
            return (
                response.status_code,
                time.monotonic() - started,
                response.headers.get("retry-after"),
                response.text,
            )

        with ThreadPoolExecutor(10) as pool:
            first = [pool.submit(one, i) for i in range(4)]
            time.sleep(0.3)  # the four are in flight, waiting on the slow provider
            rest = list(pool.map(one, range(6)))
            held = [f.result() for f in first]
        assert [status for status, *_ in held] == [200] * 4
        for status, seconds, retry_after, text in rest:
            assert (status, retry_after) == (503, "1") and seconds < 0.5, (status, seconds, text)
            assert "limits.max_concurrent" in text
        assert len(fake.requests) == 4, "shed requests never reach a provider"
        assert requests.post(gateway.url + "/v1/chat/completions", json=BODY, timeout=10).status_code == 200
    finally:
        gateway.stop()
