"""Failure handling end to end, each test with a gateway of its own.

Connection refused, the total deadline across retries, the circuit breaker, OpenRouter's
`models` list, and context fit.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import requests

from tests.fakes import FakeUpstream
from tests.gateway.conftest import final_request_row, gateway_config, ledger_rows
from tests.gateway.harness import RunningGateway, free_port, start_gateway

HI: Any = [{"role": "user", "content": "hello there"}]


def client(gateway: RunningGateway) -> openai.OpenAI:
    return gateway.openai()


def run(tmp_path: Path, fake: FakeUpstream, **extra: Any) -> RunningGateway:
    config = gateway_config(fake.url)
    for key, value in extra.items():
        config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    return start_gateway(tmp_path, config)


def test_a_provider_that_refuses_connections_is_skipped(tmp_path: Path, fake: FakeUpstream) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    gateway = run(
        tmp_path,
        fake,
        providers={**gateway_config(fake.url)["providers"], "xai": {"api_key": "k", "base_url": dead}},
    )
    try:
        with client(gateway) as c:
            raw = c.chat.completions.with_raw_response.create(model="grok-4.3", messages=HI)
        assert raw.headers["x-modelrouter-provider"] == "openrouter"
        assert raw.headers["x-modelrouter-attempts"] == "2"
        assert fake.labels() == ["openrouter"]
    finally:
        gateway.stop()


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A port whose connects hang: it listens, never accepts, and its accept queue is full."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    fillers = [socket.socket() for _ in range(3)]
    for filler in fillers:
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(server.getsockname())
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    for sock in (*fillers, server):
        sock.close()


def test_a_provider_that_takes_no_connections_is_left_at_the_connect_deadline(
    tmp_path: Path, fake: FakeUpstream, blackhole: str
) -> None:
    gateway = run(
        tmp_path,
        fake,
        providers={**gateway_config(fake.url)["providers"], "xai": {"api_key": "k", "base_url": blackhole}},
        timeouts={"connect": 0.5, "first_byte": 5, "idle": 5, "total": 10},
    )
    try:
        started = time.monotonic()
        with client(gateway) as c:
            raw = c.chat.completions.with_raw_response.create(model="grok-4.3", messages=HI)
        assert 0.5 <= time.monotonic() - started < 2.5, "the connect deadline, not the first-byte one"
        assert (raw.headers["x-modelrouter-provider"], raw.headers["x-modelrouter-attempts"]) == (
            "openrouter",
            "2",
        )
        request_id = raw.headers["x-request-id"]
        final_request_row(gateway, request_id, "attempts")  # the ledger trails by milliseconds
        [(error,)] = ledger_rows(
            gateway, "SELECT error FROM attempts WHERE request_id = ? AND provider = 'xai'", (request_id,)
        )
        assert "connect deadline" in error
    finally:
        gateway.stop()


def test_the_total_deadline_covers_every_attempt(tmp_path: Path, fake: FakeUpstream) -> None:
    gateway = run(tmp_path, fake, timeouts={"connect": 1, "first_byte": 2, "idle": 2, "total": 3})
    try:
        fake.delay(5, label="openai", n=1)
        fake.delay(5, label="azure", n=1)
        started = time.monotonic()
        with client(gateway) as c, pytest.raises(openai.APIStatusError) as caught:
            c.chat.completions.create(model="gpt-5.2", messages=HI)
        elapsed = time.monotonic() - started
        assert caught.value.status_code == 504
        assert 2.9 < elapsed < 4.0, elapsed
        assert fake.labels() == ["openai", "azure"]
    finally:
        gateway.stop()


def test_the_breaker_ejects_a_failing_offering_and_says_so(tmp_path: Path, fake: FakeUpstream) -> None:
    gateway = run(tmp_path, fake)
    try:
        fake.fail_next(5, status=500, label="openai")
        with client(gateway) as c:
            for _ in range(5):
                assert (
                    c.chat.completions.with_raw_response.create(model="gpt-5.2", messages=HI).headers[
                        "x-modelrouter-provider"
                    ]
                    == "azure"
                )
            fake.reset()
            raw = c.chat.completions.with_raw_response.create(model="gpt-5.2", messages=HI)
        assert (
            raw.headers["x-modelrouter-provider"] == "azure" and raw.headers["x-modelrouter-attempts"] == "1"
        )
        assert fake.labels() == ["azure"], "the ejected offering is not tried"
        status = requests.get(gateway.url + "/healthz", timeout=5).json()
        assert (
            status["breakers"]["gpt-5.2@openai"] == "open"
            and "breaker open: gpt-5.2@openai" in status["degraded"]
        )
        metrics = requests.get(gateway.url + "/metrics", timeout=5).text
        assert 'modelrouter_breaker_state{offering="gpt-5.2@openai"} 2.0' in metrics
    finally:
        gateway.stop()


RETIRED = "deepseek-v3.2"
"""A model the catalog lists as retired (its maker names a replacement)."""


def test_openrouter_models_list_is_a_fallback_chain(tmp_path: Path, fake: FakeUpstream) -> None:
    gateway = run(tmp_path, fake)
    try:
        fake.fail_next(10, status=503, label="xai")
        fake.fail_next(10, status=503, label="openrouter")
        with client(gateway) as c:
            raw = c.chat.completions.with_raw_response.create(
                model="grok-4.3",
                messages=HI,
                extra_body={"models": ["gpt-5.2"], "provider": {"ignore": ["azure"]}},
            )
        assert raw.headers["x-modelrouter-offering"] == "gpt-5.2@openai"
        assert fake.labels() == ["xai", "openrouter", "openai"]

        # fallbacks that cannot serve (unknown, retired with substitution off) are skipped, not fatal
        fake.reset()
        with client(gateway) as c:
            raw = c.chat.completions.with_raw_response.create(
                model="gpt-5.2@openai",
                messages=HI,
                extra_body={"models": ["no-such-model", RETIRED], "route": {"allow_substitution": False}},
            )
        assert raw.headers["x-modelrouter-offering"] == "gpt-5.2@openai"
    finally:
        gateway.stop()


def test_a_prompt_no_offering_can_hold_is_refused_before_sending(tmp_path: Path, fake: FakeUpstream) -> None:
    gateway = run(tmp_path, fake)
    try:
        huge = "lorem ipsum dolor sit amet " * 300_000  # about 1.5 million tokens by any count
        with client(gateway) as c, pytest.raises(openai.APIStatusError) as caught:
            c.chat.completions.create(model="gpt-5.2", messages=[{"role": "user", "content": huge}])
        assert caught.value.status_code in (400, 413, 422)
        assert "context" in caught.value.message
        assert fake.requests == []
    finally:
        gateway.stop()


def test_two_workers_share_a_port_and_say_that_memory_limits_are_per_worker(
    tmp_path: Path, fake: FakeUpstream
) -> None:
    gateway = run(tmp_path, fake, server={"workers": 2})
    try:
        with client(gateway) as c:
            answers = [c.chat.completions.create(model="gpt-5.2@openai", messages=HI) for _ in range(6)]
        assert all(a.choices[0].message.content == "fake openai answer to: hello there" for a in answers)
        assert "rate limits and budgets hold per worker" in gateway.log
    finally:
        assert gateway.stop() in (0, -15)
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        assert db.execute("SELECT count(*), count(DISTINCT instance_id) FROM requests").fetchone()[0] == 6
