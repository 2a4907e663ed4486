"""Two `modelrouter serve` instances sharing the real PostgreSQL (ledger, keys) and Redis (limits)."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakes import FakeUpstream
from tests.gateway.conftest import MASTER, gateway_config
from tests.gateway.harness import RunningGateway, free_port, start_gateway
from tests.gateway.test_keys_e2e import BUDGET_FOR_FIVE, HI, away_from_a_minute_boundary, race

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def pair(
    postgres_url: str, fake: FakeUpstream, tmp_path: Path
) -> Iterator[tuple[RunningGateway, RunningGateway]]:
    config = gateway_config(fake.url, store=postgres_url, state=REDIS, server={"master_key": MASTER})
    first = start_gateway(tmp_path / "a", config)
    second = start_gateway(tmp_path / "b", config)
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def create(gateway: RunningGateway, **fields: Any) -> str:
    response = requests.post(
        gateway.url + "/admin/keys", json=fields, headers={"authorization": f"Bearer {MASTER}"}, timeout=10
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def ask(gateway: RunningGateway, key: str) -> int:
    response = requests.post(
        gateway.url + "/v1/chat/completions",
        json={"model": "gpt-5.2", "messages": HI},
        headers={"authorization": f"Bearer {key}"},
        timeout=10,
    )
    return response.status_code


def test_a_rate_limit_is_shared_not_doubled(pair: tuple[RunningGateway, RunningGateway]) -> None:
    key = create(pair[0], name="shared-rpm", rpm=10)
    away_from_a_minute_boundary()
    statuses = [ask(gateway, key) for _ in range(10) for gateway in pair]
    assert statuses.count(200) == 10 and statuses.count(429) == 10


def test_a_budget_race_across_instances(
    pair: tuple[RunningGateway, RunningGateway], fake: FakeUpstream
) -> None:
    first, second = pair
    key = create(second, name="shared-budget", budget_usd=BUDGET_FOR_FIVE, budget_period="day")
    fake.delay(1.2, label="openai")
    statuses = race([first.url, second.url], key, 50)
    assert statuses.count(200) == 5 and statuses.count(429) == 45


def test_a_key_revoked_on_one_instance_is_refused_by_the_other(
    pair: tuple[RunningGateway, RunningGateway],
) -> None:
    first, second = pair
    key = create(first, name="revoked-elsewhere")
    assert ask(second, key) == 200
    answered = 1
    requests.delete(
        first.url + "/admin/keys/revoked-elsewhere", headers={"authorization": f"Bearer {MASTER}"}, timeout=5
    )
    revoked_at = time.monotonic()
    while ask(second, key) != 401:
        answered += 1
        assert time.monotonic() - revoked_at < 3, "the other instance still accepts the revoked key"
        time.sleep(0.1)
    deadline = time.monotonic() + 5
    groups: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        report = requests.get(
            second.url + "/admin/usage",
            params={"group_by": "key"},
            headers={"authorization": f"Bearer {MASTER}"},
            timeout=5,
        ).json()
        groups = [g for g in report["groups"] if g.get("key_name") == "revoked-elsewhere"]
        if groups and groups[0]["requests"] == answered:
            break
        time.sleep(0.1)
    assert groups and groups[0]["requests"] == answered, "what the key was served is in the shared ledger"


def test_with_redis_down_the_gateway_keeps_serving_and_says_so(fake: FakeUpstream, tmp_path: Path) -> None:
    config = gateway_config(fake.url, state="redis://127.0.0.1:1/0", server={"master_key": MASTER})
    gateway = start_gateway(tmp_path, config)
    try:
        key = create(gateway, name="limited", rpm=2)
        away_from_a_minute_boundary()
        assert [ask(gateway, key) for _ in range(3)] == [200, 200, 429], "limits still hold, per instance"
        health = requests.get(gateway.url + "/healthz", timeout=5).json()
        assert health["status"] == "degraded"
        assert any("Redis unreachable" in line and "per instance" in line for line in health["degraded"])
    finally:
        gateway.stop()


def test_a_conversation_keeps_its_offering_across_instances(
    pair: tuple[RunningGateway, RunningGateway], fake: FakeUpstream
) -> None:
    first, second = pair
    key = create(first, name="agent")
    headers = {"authorization": f"Bearer {key}"}
    turns: list[dict[str, str]] = [{"role": "user", "content": "a long task"}]
    fake.fail_next(1, status=503, label="openai")
    one = requests.post(
        first.url + "/v1/chat/completions",
        json={"model": "gpt-5.2", "messages": turns},
        headers=headers,
        timeout=10,
    )
    assert one.headers["x-modelrouter-provider"] == "azure"
    turns += [{"role": "assistant", "content": "working"}, {"role": "user", "content": "next step"}]
    time.sleep(0.3)  # the first instance shares the conversation's home just after answering
    two = requests.post(
        second.url + "/v1/chat/completions",
        json={"model": "gpt-5.2", "messages": turns},
        headers=headers,
        timeout=10,
    )
    assert (two.headers["x-modelrouter-provider"], two.headers["x-modelrouter-affinity"]) == ("azure", "kept")


def _redis_server(port: int, directory: Path) -> subprocess.Popen[bytes]:
    """A redis-server of the test's own on `port`, once it answers."""
    options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(directory)]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), *options],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            break
        time.sleep(0.05)
    return server


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A redis-server of this test's own, so freezing or killing it disturbs nothing else."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = _redis_server(port, tmp_path)
    try:
        yield server, f"redis://127.0.0.1:{port}/0"
    finally:
        server.send_signal(signal.SIGCONT)
        server.kill()
        server.wait(10)


def _back_to_ok(gateway: RunningGateway, key: str, what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert ask(gateway, key) == 200
        if requests.get(gateway.url + "/healthz", timeout=5).json()["status"] == "ok":
            return
        time.sleep(0.5)
    raise AssertionError(f"the gateway did not go back to Redis after {what}")


def test_a_redis_killed_under_load_degrades_then_comes_back(
    fake: FakeUpstream, tmp_path: Path, private_redis: tuple[subprocess.Popen[bytes], str]
) -> None:
    """Redis killed mid-load (reliability.md F14a): no request fails, /healthz says degraded.

    A Redis back on the same address is used again without restarting the gateway.
    """
    server, url = private_redis
    gateway = start_gateway(
        tmp_path / "gw", gateway_config(fake.url, state=url, server={"master_key": MASTER})
    )
    try:
        key = create(gateway, name="killed", rpm=1000)

        def timed_ask() -> tuple[int, float]:
            return ask(gateway, key), time.monotonic()

        with ThreadPoolExecutor(4) as pool:
            answers = [pool.submit(timed_ask) for _ in range(300)]
            time.sleep(0.1)
            server.kill()
            killed = time.monotonic()
            server.wait(5)
            results = [answer.result() for answer in answers]
        assert [status for status, _ in results] == [200] * 300
        assert sum(done > killed for _, done in results) > 50, "the kill fell in the middle of the load"
        assert ask(gateway, key) == 200
        health = requests.get(gateway.url + "/healthz", timeout=5).json()
        assert health["status"] == "degraded" and any("Redis" in line for line in health["degraded"])
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        restarted = _redis_server(port, tmp_path)
        try:
            _back_to_ok(gateway, key, "a restart")
        finally:
            restarted.kill()
            restarted.wait(10)
    finally:
        gateway.stop()


def test_a_frozen_redis_never_holds_a_request_longer_than_its_timeout(
    fake: FakeUpstream, tmp_path: Path, private_redis: tuple[subprocess.Popen[bytes], str]
) -> None:
    """Redis stopped with SIGSTOP accepts connections and answers nothing (reliability.md F14b).

    Requests go on with limits held per instance, each waiting at most the Redis timeout
    (0.5 s) on the way; /healthz says degraded; after SIGCONT the shared limits come back.
    """
    server, url = private_redis
    config = gateway_config(fake.url, state=url, server={"master_key": MASTER})
    gateway = start_gateway(tmp_path / "gw", config)
    try:
        key = create(gateway, name="frozen", rpm=1000)
        assert ask(gateway, key) == 200
        server.send_signal(signal.SIGSTOP)
        timings = []
        for _ in range(6):
            started = time.monotonic()
            assert ask(gateway, key) == 200
            timings.append(time.monotonic() - started)
        assert max(timings) < 0.5 + 0.4, timings
        health = requests.get(gateway.url + "/healthz", timeout=5).json()
        assert health["status"] == "degraded" and any("Redis" in line for line in health["degraded"])
        server.send_signal(signal.SIGCONT)
        _back_to_ok(gateway, key, "SIGCONT")
    finally:
        gateway.stop()
