"""Graceful shutdown: SIGTERM lets short requests finish, ends long streams honestly, flushes the ledger."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import requests

from tests.fakes import FakeUpstream
from tests.gateway.conftest import gateway_config, ledger_rows
from tests.gateway.harness import start_gateway

HI = [{"role": "user", "content": "hello there"}]


def test_sigterm_finishes_short_streams_and_ends_long_ones_with_an_error(
    tmp_path: Path, fake: FakeUpstream
) -> None:
    gateway = start_gateway(tmp_path, gateway_config(fake.url, server={"shutdown_grace_s": 1}))
    wires: dict[str, str] = {}
    ids: dict[str, str] = {}
    started = threading.Barrier(3)

    def stream(name: str, label: str) -> None:
        with requests.post(
            gateway.url + "/v1/chat/completions",
            json={"model": f"gpt-5.2@{label}", "messages": HI, "stream": True},
            stream=True,
            timeout=20,
        ) as response:
            ids[name] = response.headers["x-request-id"]
            lines = response.iter_lines()
            first = next(lines)
            started.wait()
            wires[name] = b"\n".join([first, *lines]).decode()

    fake.slow_stream(0.1, label="openai", after=2)  # done well within the grace period
    fake.slow_stream(0.6, label="azure", after=2)  # about 5 s: longer than the grace period
    threads = [
        threading.Thread(target=stream, args=("short", "openai")),
        threading.Thread(target=stream, args=("long", "azure")),
    ]
    for thread in threads:
        thread.start()
    started.wait(timeout=10)
    stopping = time.monotonic()
    exit_code = gateway.stop(timeout=15)
    for thread in threads:
        thread.join(10)
    assert exit_code in (0, -15), gateway.log  # uvicorn re-raises SIGTERM once it has shut down
    assert "Exception in ASGI application" not in gateway.log
    assert time.monotonic() - stopping < 4
    assert wires["short"].rstrip().endswith("data: [DONE]")
    assert "gateway_shutdown" in wires["long"] and "[DONE]" not in wires["long"]
    states = dict(ledger_rows(gateway, "SELECT request_id, state FROM requests"))
    assert states == {ids["short"]: "ok", ids["long"]: "interrupted"}
