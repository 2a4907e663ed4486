"""The ledger under faults, end to end: a PostgreSQL outage under load, and kill -9 mid-stream."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.fakes import FakeUpstream
from tests.gateway.conftest import gateway_config
from tests.gateway.harness import free_port, start_gateway
from tests.tcp_proxy import TcpProxy

HI: Any = [{"role": "user", "content": "hello there"}]


def chat(url: str, stream: bool = False) -> str:
    response = requests.post(
        url + "/v1/chat/completions", json={"model": "gpt-5.2", "messages": HI, "stream": stream}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.headers["x-request-id"]


def test_a_postgres_outage_under_load_loses_nothing(
    postgres_url: str, fake: FakeUpstream, tmp_path: Path
) -> None:
    with TcpProxy("127.0.0.1", 5432) as proxy:
        proxied = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        gateway = start_gateway(tmp_path, gateway_config(fake.url, store=proxied))
        try:
            ids: list[str] = []
            with ThreadPoolExecutor(max_workers=4) as pool:
                ids += pool.map(lambda _: chat(gateway.url), range(20))
                proxy.down()
                ids += pool.map(lambda i: chat(gateway.url, stream=i % 2 == 0), range(40))
                time.sleep(1.0)
                health = requests.get(gateway.url + "/healthz", timeout=5).json()
                assert health["status"] == "degraded" and health["ledger"]["depth_bytes"] > 0
                proxy.up()
                ids += pool.map(lambda _: chat(gateway.url), range(20))
            assert_recorded_once(postgres_url, ids)
        finally:
            gateway.stop()


def assert_recorded_once(url: str, ids: list[str], wait_s: float = 30) -> None:
    """Every request in PostgreSQL exactly once, answered, with its one attempt (waits for the ledger)."""
    deadline = time.monotonic() + wait_s
    rows: list[tuple[Any, ...]] = []
    with psycopg.connect(url) as db:
        while time.monotonic() < deadline:
            rows = db.execute("SELECT request_id, state, attempts FROM requests").fetchall()
            if len(rows) == len(ids) and all(state == "ok" for _, state, _ in rows):
                break
            time.sleep(0.2)
        attempts = db.execute("SELECT count(*) FROM attempts").fetchone()
    assert sorted(r[0] for r in rows) == sorted(ids), "every request is recorded exactly once"
    assert all(state == "ok" and n == 1 for _, state, n in rows)
    assert attempts == (len(ids),)


def test_kill_9_mid_stream_then_restart(fake: FakeUpstream, tmp_path: Path) -> None:
    config = gateway_config(fake.url, timeouts={"connect": 2, "first_byte": 2, "idle": 5, "total": 3})
    gateway = start_gateway(tmp_path, config)
    done = [chat(gateway.url) for _ in range(5)]
    fake.slow_stream(0.5, label="openai", after=2)
    started = threading.Event()
    cut_id: list[str] = []

    def stream() -> None:
        try:
            with requests.post(
                gateway.url + "/v1/chat/completions",
                json={"model": "gpt-5.2@openai", "messages": HI, "stream": True},
                stream=True,
                timeout=10,
            ) as response:
                cut_id.append(response.headers["x-request-id"])
                for _ in response.iter_lines():
                    started.set()
        except requests.RequestException:
            pass

    reader = threading.Thread(target=stream)
    reader.start()
    assert started.wait(10)
    os.kill(gateway.process.pid, signal.SIGKILL)
    gateway.process.wait(10)
    reader.join(10)
    time.sleep(3.2)  # older than the total deadline: a restarted gateway may call it interrupted
    restarted = start_gateway(tmp_path, config)
    try:
        deadline = time.monotonic() + 10
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            with sqlite3.connect(tmp_path / "ledger.db") as db:
                states = dict(db.execute("SELECT request_id, state FROM requests").fetchall())
            if states.get(cut_id[0]) == "interrupted" and all(states.get(i) == "ok" for i in done):
                break
            time.sleep(0.1)
    finally:
        restarted.stop()
    assert {i: states.get(i) for i in done} == dict.fromkeys(done, "ok")
    assert states.get(cut_id[0]) == "interrupted"
    assert len(states) == 6


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


@pytest.fixture
def private_postgres() -> Iterator[tuple[Path, Path, str]]:
    """A PostgreSQL cluster of this test's own (the machine's server stays untouched)."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    base = Path(tempfile.mkdtemp(prefix="mr-pg-"))  # not under pytest's root-only tmp directories
    base.chmod(0o755)
    data = base / "pgdata"
    owner: dict[str, Any] = {}
    if os.getuid() == 0:  # PostgreSQL refuses to run as root: run it as the postgres user
        import pwd

        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run a cluster as")
        owner = {"user": account.pw_uid, "group": account.pw_gid}
        data.mkdir()
        os.chown(data, account.pw_uid, account.pw_gid)
    port = free_port()
    subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
        **owner,
    )
    ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-w"]
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = [*ctl, "-o", options, "start"]
    subprocess.run(start, check=True, capture_output=True, **owner)
    try:
        yield bin_dir, data, f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True, **owner)
        shutil.rmtree(base, ignore_errors=True)


def test_postgres_stopped_and_restarted_under_load_loses_nothing(
    private_postgres: tuple[Path, Path, str], fake: FakeUpstream, tmp_path: Path
) -> None:
    """reliability.md F15a with a real server: `pg_ctl stop -m immediate`, load goes on, restart."""
    bin_dir, data, url = private_postgres
    owner: dict[str, Any] = {}
    if os.getuid() == 0:
        stat = data.stat()
        owner = {"user": stat.st_uid, "group": stat.st_gid}
    ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-w"]
    port = url.rsplit(":", 1)[1].split("/")[0]
    gateway = start_gateway(tmp_path / "gw", gateway_config(fake.url, store=url))
    try:
        ids: list[str] = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            ids += pool.map(lambda _: chat(gateway.url), range(20))
            subprocess.run([*ctl, "-m", "immediate", "stop"], check=True, capture_output=True, **owner)
            ids += pool.map(lambda i: chat(gateway.url, stream=i % 2 == 0), range(40))
            time.sleep(1.0)
            health = requests.get(gateway.url + "/healthz", timeout=5).json()
            assert health["status"] == "degraded" and health["ledger"]["depth_bytes"] > 0
            options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
            subprocess.run([*ctl, "-o", options, "start"], check=True, capture_output=True, **owner)
            ids += pool.map(lambda _: chat(gateway.url), range(20))
        assert_recorded_once(url, ids)
        assert requests.get(gateway.url + "/healthz", timeout=5).json()["status"] == "ok"
    finally:
        gateway.stop()
