"""F15d: the default SQLite ledger's disk fills up mid-run, then space returns.

A full disk is made two ways. Everywhere: the file-size limit (RLIMIT_FSIZE) of the running
processes is lowered with `prlimit` (Python ignores SIGXFSZ, so writes fail with EFBIG instead
of killing the process): first the ingester's alone, to 0, so SQLite cannot write while the
journal still can; then the gateway's, to a few bytes past the journal's end, so its next write
is torn and the ones after it fail. As root (CI): a 5 MiB tmpfs holding the ledger and its
journal is filled to the last byte by another file, and later emptied.

With only the database full, requests are answered and journaled and /healthz says ingestion is
stalled. With the journal full, every new billable request is refused with 503
`ledger_unavailable` in the caller's dialect and reaches no provider, a stream already under way
finishes, and /healthz answers 503 `down`. Once space returns the gateway answers again with no
restart, and the ledger is whole: `PRAGMA integrity_check` is ok, every answered request has its
final row (the stream's too), every refused one a `rejected` row, and there is exactly one
attempt row per request a provider received.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
import requests

from tests.fakes import FakeUpstream
from tests.gateway.conftest import gateway_config
from tests.gateway.harness import RunningGateway, start_gateway

HI: Any = [{"role": "user", "content": "hello there"}]


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def ask(gateway: RunningGateway, door: str, stream: bool) -> requests.Response:
    """One chat request in either dialect, read to the end."""
    if door == "openai":
        path, body = "/v1/chat/completions", {"model": "gpt-5.2", "messages": HI, "stream": stream}
    else:
        path = "/v1/messages"
        body = {"model": "claude-sonnet-5.5", "max_tokens": 64, "messages": HI, "stream": stream}
    return requests.post(gateway.url + path, json=body, timeout=30)


KINDS = [("openai", False), ("openai", True), ("anthropic", False), ("anthropic", True)]


def refusal(response: requests.Response, door: str) -> str:
    """The request id of a 503 `ledger_unavailable` in the door's dialect."""
    assert response.status_code == 503, (response.status_code, response.text)
    error = response.json()
    if door == "openai":
        assert error["error"]["code"] == "ledger_unavailable", error
    else:
        assert error["type"] == "error" and "ledger" in error["error"]["message"], error
    return response.headers["x-request-id"]


def healthz(gateway: RunningGateway) -> tuple[int, dict[str, Any]]:
    response = requests.get(gateway.url + "/healthz", timeout=10)
    return response.status_code, response.json()


def wait_health(
    gateway: RunningGateway, wanted: Callable[[dict[str, Any]], Any], timeout: float = 15
) -> dict[str, Any]:
    """/healthz once `wanted` holds of it."""
    deadline = time.monotonic() + timeout
    while True:
        _, health = healthz(gateway)
        if wanted(health):
            return health
        if time.monotonic() > deadline:
            raise AssertionError(f"/healthz never got there: {health}")
        time.sleep(0.1)


class Disk(Protocol):
    """A way to fill the ledger's disk and give the space back."""

    slack: int

    def fill(self) -> None: ...

    def free(self) -> None: ...


class FsizeDisk:
    """'Full' by file-size limits on the gateway (a few bytes left) and its ingester (none)."""

    slack = 0
    """Requests that may still be answered after `fill` (none: the next journal write is torn)."""

    def __init__(self, gateway: RunningGateway, store: Path) -> None:
        self.gateway = gateway
        self.store = store
        self.saved: dict[int, tuple[int, int]] = {}

    def fill_store(self) -> None:
        """Only the database is full: the ingester (its own process) may write nothing."""
        (ingester,) = children(self.gateway.process.pid)
        self._limit(ingester, 0)

    def fill(self) -> None:
        """The journal too: room for part of one more line (the next write is torn, the rest refused)."""
        (segment,) = self.store.parent.glob(self.store.name + ".journal/*/*.jsonl")
        self._limit(self.gateway.process.pid, segment.stat().st_size + 40)

    def _limit(self, pid: int, size: int) -> None:
        self.saved.setdefault(pid, resource.prlimit(pid, resource.RLIMIT_FSIZE))
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (size, self.saved[pid][1]))

    def free(self) -> None:
        for process, limit in self.saved.items():
            resource.prlimit(process, resource.RLIMIT_FSIZE, limit)


class TmpfsDisk:
    """A real full filesystem: the ledger's tmpfs filled to its last byte by another file."""

    slack = 10
    """The journal's last page (4 KiB) may still take a few requests' rows."""

    def __init__(self, mount: Path) -> None:
        self.filler = mount / "filler"

    def fill(self) -> None:
        block = b"\0" * 4096
        with self.filler.open("wb", buffering=0) as handle:
            while True:
                try:
                    handle.write(block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break

    def free(self) -> None:
        self.filler.unlink()


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 5 MiB tmpfs (root only), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the RLIMIT_FSIZE case runs everywhere)")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=5m", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def run_disk_full(
    fake: FakeUpstream, directory: Path, store: Path, disk: Callable[[RunningGateway], Disk]
) -> None:
    config = gateway_config(fake.url, store=f"sqlite:///{store}")
    gateway = start_gateway(directory, config)
    answered: list[str] = []
    refused: list[str] = []
    try:
        for door, stream in KINDS:
            response = ask(gateway, door, stream)
            assert response.status_code == 200, response.text
            answered.append(response.headers["x-request-id"])
        full = disk(gateway)
        if isinstance(full, FsizeDisk):  # first the database alone: the journal takes the rows
            full.fill_store()
            for door, stream in KINDS:
                response = ask(gateway, door, stream)
                assert response.status_code == 200, response.text
                answered.append(response.headers["x-request-id"])
            health = wait_health(gateway, lambda h: h["ledger"]["depth_bytes"] > 0 and h["ledger"]["error"])
            assert health["status"] == "degraded" and "ingester" in health["ledger"]["error"], health

        # A stream under way when the disk fills finishes; its last rows wait for space.
        fake.slow_stream(0.3, label="openai", n=1, after=1)
        in_flight: list[requests.Response] = []
        reader = threading.Thread(target=lambda: in_flight.append(ask(gateway, "openai", True)))
        before, deadline = len(fake.requests), time.monotonic() + 10
        reader.start()
        while len(fake.requests) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        full.fill()
        reader.join(30)
        (streamed,) = in_flight
        assert streamed.status_code == 200 and "data: [DONE]" in streamed.text
        answered.append(streamed.headers["x-request-id"])

        # A journal page may still hold a few rows (tmpfs): those requests are answered and
        # recorded; from the first refusal on, every new request is refused.
        for _ in range(full.slack):
            response = ask(gateway, "openai", False)
            if response.status_code != 200:
                refused.append(refusal(response, "openai"))
                break
            answered.append(response.headers["x-request-id"])
        upstream_before = len(fake.requests)
        refused += [refusal(ask(gateway, door, stream), door) for door, stream in KINDS * 2]
        assert len(fake.requests) == upstream_before, "a refused request reached a provider"
        status, health = healthz(gateway)
        assert status == 503 and health["status"] == "down", health
        assert any("journal" in line for line in health["degraded"]), health

        full.free()
        wait_health(gateway, lambda h: h["status"] == "ok" and h["ledger"]["depth_bytes"] == 0)
        for door, stream in KINDS:
            response = ask(gateway, door, stream)
            assert response.status_code == 200, response.text
            answered.append(response.headers["x-request-id"])
        upstream = len(fake.requests)
    finally:
        code = gateway.stop()
    assert code in (0, -15), gateway.log  # uvicorn re-raises SIGTERM once it has shut down
    check_ledger(store, answered, refused, upstream)


def check_ledger(store: Path, answered: list[str], refused: list[str], upstream: int) -> None:
    """The SQLite file is sound and holds every answered request once, finished, and nothing more."""
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        states = dict(db.execute("SELECT request_id, state FROM requests").fetchall())
        attempts = db.execute("SELECT request_id, state FROM attempts").fetchall()
    assert {i: states.get(i) for i in answered} == dict.fromkeys(answered, "ok")
    assert {i: states.get(i) for i in refused} == dict.fromkeys(refused, "rejected")
    assert set(states) == set(answered) | set(refused)
    assert len(attempts) == upstream == len(answered), (upstream, attempts)
    assert {request_id for request_id, _ in attempts} == set(answered)
    assert {state for _, state in attempts} == {"ok"}


def test_a_full_disk_by_file_size_limit_fails_closed_then_recovers(
    fake: FakeUpstream, tmp_path: Path
) -> None:
    store = tmp_path / "data" / "ledger.db"
    run_disk_full(fake, tmp_path, store, lambda gateway: FsizeDisk(gateway, store))


def test_a_full_tmpfs_fails_closed_then_recovers(fake: FakeUpstream, tmp_path: Path, tmpfs: Path) -> None:
    store = tmpfs / "ledger.db"
    run_disk_full(fake, tmp_path / "gateway", store, lambda gateway: TmpfsDisk(tmpfs))
