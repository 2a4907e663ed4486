"""What the connect-time address guard (reliability.md B7) costs on the hot path.

The guard runs in two places of the transport's pool: the resolver wrapper (once per DNS
lookup; the pool caches answers for five minutes) and the socket factory (once per new
connection; pooled keep-alive calls pay nothing). This measures:

* the check itself, per address;
* requests over keep-alive to a local aiohttp server, by literal IP and by `localhost`, through
  the gateway's `Transport` with and without the guard (the same pool otherwise);
* the same with a new connection per request (`connection: close`), where the factory runs
  every time.

Run: .venv/bin/python bench/connect_guard.py [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import time
import timeit

import aiohttp
from aiohappyeyeballs import AddrInfoType
from aiohttp import web

from modelrouter.gateway import http1
from modelrouter.gateway.transport import Deadlines, Transport
from modelrouter.providers import UpstreamCall
from modelrouter.urlguard import forbidden_address


async def _serve() -> tuple[web.AppRunner, int]:
    async def ok(request: web.Request) -> web.Response:
        await request.read()
        close = request.headers.get("connection") == "close"
        return web.Response(body=b"{}", headers={"connection": "close"} if close else {})

    app = web.Application()
    app.router.add_post("/v1/chat", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server)
    return runner, server.sockets[0].getsockname()[1]


def _plain_socket(info: AddrInfoType) -> socket.socket:
    return socket.socket(info[0], info[1], info[2])


def _transport(guarded: bool) -> Transport:
    """The gateway's transport; unguarded, the same pool without the resolver wrapper or factory."""
    transport = Transport()
    if not guarded:
        transport._pool = http1.Pool(aiohttp.DefaultResolver(), _plain_socket)
    return transport


async def _per_request(guarded: bool, url: str, n: int, headers: dict[str, str]) -> float:
    transport = _transport(guarded)
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    for _ in range(n):
        deadlines = Deadlines(connect=5, first_byte=5, idle=5, total_at=loop.time() + 30)
        upstream = await transport.open(UpstreamCall("POST", url, dict(headers), b"{}"), deadlines, "bench")
        await upstream.read()
    elapsed = time.perf_counter() - started
    await transport.aclose()
    return elapsed / n


async def main(n: int, rounds: int) -> None:
    per_check = min(timeit.repeat(lambda: forbidden_address("127.0.0.1"), number=100_000, repeat=5)) / 100_000
    print(f"forbidden_address(): {per_check * 1e6:.2f} µs per address")
    runner, port = await _serve()
    try:
        for close in (False, True):
            headers = {"connection": "close"} if close else {}
            for host in ("127.0.0.1", "localhost"):
                url = f"http://{host}:{port}/v1/chat"
                guarded: list[float] = []
                bare: list[float] = []
                for round_no in range(rounds):  # interleaved, each first in turn: drift hits both alike
                    for guard in (True, False) if round_no % 2 else (False, True):
                        result = await _per_request(guard, url, n, headers)
                        (guarded if guard else bare).append(result)
                g, b = statistics.median(guarded), statistics.median(bare)
                kind = "new connection each" if close else "keep-alive"
                print(
                    f"{kind:>20} {host:>9}: guarded {g * 1e6:7.1f} µs/request, "
                    f"unguarded {b * 1e6:7.1f} µs/request ({(g - b) * 1e6:+.1f} µs)"
                )
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
