"""Stream probe: time to first token, total time and gaps between tokens, for N streams at once.

A bare asyncio protocol (no HTTP client library, no SSE parsing) timestamps every arrival and
counts the mock's `tok<N>` markers in it, so that thousands of open streams cost the probe
little and the figures are the gateway's. Prints one JSON object.

    python bench/peers/probe.py URL BODY_FILE [--headers "K: v|K2: v2"] [--n 40] [--concurrency 1]
                                [--ramp-per-s 1000] [--timeout 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from urllib.parse import urlsplit

import uvloop
from typing_extensions import override


class Stream(asyncio.Protocol):
    """One request on its own connection; records when each token marker arrives."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.sent = 0.0
        self.token_times: list[float] = []
        self.status = 0
        self.buffer = b""
        self.done = asyncio.get_running_loop().create_future()

    @override
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send the request at once."""
        self.sent = time.perf_counter()
        transport.write(self.request)  # type: ignore[attr-defined]  # uvloop's is no asyncio.Transport

    @override
    def data_received(self, data: bytes) -> None:
        """Timestamp the tokens in this arrival."""
        now = time.perf_counter()
        if not self.status:
            self.buffer += data
            if b"\r\n" not in self.buffer:
                return
            self.status = int(self.buffer.split(b" ", 2)[1])
            data, self.buffer = self.buffer, b""
        # the mock's tokens are JSON strings "tok<N> ": a quote before "tok" tells them from "total_tokens"
        self.token_times.extend([now] * data.count(b'"tok'))
        # the stream's own end, for a server that keeps the connection open despite `Connection: close`
        if (b"[DONE]" in data or b"message_stop" in data) and not self.done.done():
            self.done.set_result(now)

    @override
    def connection_lost(self, exc: Exception | None) -> None:
        """The stream is over (the request asked for `Connection: close`)."""
        if not self.done.done():
            self.done.set_result(time.perf_counter())


async def one(host: str, port: int, request: bytes, timeout: float) -> tuple[Stream, float] | None:
    loop = asyncio.get_running_loop()
    try:
        transport, stream = await loop.create_connection(lambda: Stream(request), host, port)
        ended = await asyncio.wait_for(stream.done, timeout)
    except (TimeoutError, OSError):
        return None
    transport.close()
    return stream, ended


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("body")
    parser.add_argument("--headers", default="")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--ramp-per-s", type=float, default=1000)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    url = urlsplit(args.url)
    with open(args.body, "rb") as handle:
        body = handle.read()
    head = [f"POST {url.path} HTTP/1.1", f"Host: {url.netloc}", "Content-Type: application/json"]
    head += [h.strip() for h in args.headers.split("|") if h.strip()]
    head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    request = "\r\n".join(head).encode() + body
    host, port = url.hostname or "127.0.0.1", url.port or 80
    gate = asyncio.Semaphore(args.concurrency)

    async def paced(number: int) -> tuple[Stream, float] | None:
        await asyncio.sleep(number / args.ramp_per_s if args.concurrency > 1 else 0)
        async with gate:
            return await one(host, port, request, args.timeout)

    started = time.perf_counter()
    results = await asyncio.gather(*(paced(i) for i in range(args.n)))
    elapsed = time.perf_counter() - started
    ok = [(s, end) for r in results if r is not None for s, end in [r] if s.status == 200 and s.token_times]
    ttft = [(s.token_times[0] - s.sent) * 1000 for s, _ in ok]
    total = [(end - s.sent) * 1000 for s, end in ok]
    gaps = [(b - a) * 1000 for s, _ in ok for a, b in zip(s.token_times, s.token_times[1:], strict=False)]
    # once every stream is open (its first token arrived): relaying alone, no new requests to set up
    all_open = max((s.token_times[0] for s, _ in ok), default=0.0)
    steady = [
        (b - a) * 1000
        for s, _ in ok
        for a, b in zip(s.token_times, s.token_times[1:], strict=False)
        if a >= all_open
    ]

    def cut(values: list[float], q: int) -> float | None:
        if len(values) < 2:
            return values[0] if values else None
        return statistics.quantiles(values, n=100)[q - 1]

    print(
        json.dumps(
            {
                "streams": args.n,
                "ok": len(ok),
                "errors": args.n - len(ok),
                "seconds": round(elapsed, 3),
                "ttft_p50_ms": cut(ttft, 50),
                "ttft_p99_ms": cut(ttft, 99),
                "total_p50_ms": cut(total, 50),
                "gap_p50_ms": cut(gaps, 50),
                "gap_p99_ms": cut(gaps, 99),
                "gap_max_ms": max(gaps) if gaps else None,
                "steady_gaps": len(steady),
                "steady_gap_p50_ms": cut(steady, 50),
                "steady_gap_p99_ms": cut(steady, 99),
            }
        )
    )


if __name__ == "__main__":
    uvloop.run(main())
