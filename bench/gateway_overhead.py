"""What the gateway adds to a request: latency at one connection, throughput at sixteen.

Starts a minimal upstream (aiohttp answering a fixed OpenAI chat completion, plain and as an
SSE stream) and `modelrouter serve` in front of it (embedded defaults: SQLite ledger, metrics,
the full translation path), then drives both with an aiohttp client: `direct` is the upstream
alone, `gateway` the same requests through modelrouter. Prints p50/p99 latency, requests per
second and the difference. Traffic stays on 127.0.0.1. On this 2-core machine the load
generator shares the CPU, so compare rows of one run, and see ../shared/bench-peers for the
side-by-side with LiteLLM and Portkey (nginx upstream, wrk load).

    python bench/gateway_overhead.py [seconds per cell, default 5]
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml

UPSTREAM = Path(__file__).with_name("fake_openai_upstream.py")

REQUEST: dict[str, object] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    import requests

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the process exited with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not answer")


async def drive(url: str, body: dict[str, object], connections: int, seconds: float) -> list[float]:
    """Closed-loop load: `connections` clients sending back to back for `seconds`; latencies in ms."""
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                async with session.post(url, json=body) as response:
                    await response.read()
                    assert response.status == 200, await response.text()
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(client() for _ in range(connections)))
    return latencies


def cell(url: str, body: dict[str, object], connections: int, seconds: float) -> tuple[float, float, float]:
    asyncio.run(drive(url, body, connections, 0.5))  # warm-up
    latencies = asyncio.run(drive(url, body, connections, seconds))
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49], cuts[98], len(latencies) / seconds


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    workdir = Path(tempfile.mkdtemp(prefix="mr-bench-"))
    upstream_port, gateway_port = free_port(), free_port()
    upstream = subprocess.Popen([sys.executable, str(UPSTREAM), str(upstream_port)], start_new_session=True)
    config = {
        "server": {"port": gateway_port},
        "store": f"sqlite:///{workdir}/ledger.db",
        "providers": {
            "bench": {
                "kind": "openai-compatible",
                "base_url": f"http://127.0.0.1:{upstream_port}/v1",
                "api_key": "bench-key",
                "models": ["gpt-4o-mini"],
            }
        },
    }
    (workdir / "bench.yaml").write_text(yaml.safe_dump(config))
    gateway = subprocess.Popen(
        [sys.executable, "-m", "modelrouter", "serve", "--config", str(workdir / "bench.yaml")],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        direct = f"http://127.0.0.1:{upstream_port}/v1/chat/completions"
        through = f"http://127.0.0.1:{gateway_port}/v1/chat/completions"
        wait_for(f"http://127.0.0.1:{gateway_port}/healthz", gateway)
        print(f"{seconds:g} s per cell; aiohttp upstream; load generator on the same 2 cores\n")
        print(f"{'cell':<34}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}")
        for name, body in (("chat", REQUEST), ("chat stream (22 chunks)", {**REQUEST, "stream": True})):
            for connections in (1, 16):
                d50, d99, drps = cell(direct, body, connections, seconds)
                g50, g99, grps = cell(through, body, connections, seconds)
                print(f"{name + f' c={connections} direct':<34}{d50:>9.2f}{d99:>9.2f}{drps:>9.0f}")
                print(f"{name + f' c={connections} gateway':<34}{g50:>9.2f}{g99:>9.2f}{grps:>9.0f}")
                print(f"{'  added by the gateway':<34}{g50 - d50:>9.2f}{g99 - d99:>9.2f}")
    finally:
        for process in (gateway, upstream):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(10)


if __name__ == "__main__":
    main()
