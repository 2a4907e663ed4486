"""Ledger throughput: rows per second into SQLite and PostgreSQL, and the gateway with it on and off.

Part 1 records N requests (a `started` and a final row each, plus one attempt row) through
`Ledger` as the gateway does, and times until every row is in the database (batched group
commits from the journal). Part 2 runs the gateway twice against a minimal upstream, once
as shipped and once with a no-op ledger swapped in (bench-only), and prints requests per
second at 16 connections and CPU per request for both (wrk drives the load when installed).

    python bench/ledger_throughput.py [N, default 20000] [postgresql://… to include PostgreSQL]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from gateway_overhead import UPSTREAM, cell, free_port, wait_for
from peers.run import HZ, cpu_ticks

from modelrouter.ledger import Ledger, attempt_row, now_iso, request_row

PG = "postgresql://postgres@127.0.0.1:5432/postgres"
ROUNDS = 3


def record(store: str, n: int) -> float:
    """Seconds to make n requests' rows durable in `store` (journal, then database)."""
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(store, journal_root=Path(tmp) / "journal")
        ledger.flush(30)
        started = time.perf_counter()
        for i in range(n):
            at = now_iso()
            request_id = f"bench-{os.getpid()}-{i}"
            ledger.record_request(
                request_row(request_id=request_id, created_at=at, updated_at=at, state="started", version=1)
            )
            ledger.record_attempt(
                attempt_row(
                    request_id=request_id,
                    attempt_no=1,
                    provider="p",
                    offering="m@p",
                    state="ok",
                    started_at=at,
                    input_tokens=10,
                    output_tokens=5,
                    cost_micro_usd=7,
                    version=2,
                )
            )
            ledger.record_request(
                request_row(
                    request_id=request_id,
                    created_at=at,
                    updated_at=at,
                    state="ok",
                    version=2,
                    input_tokens=10,
                    output_tokens=5,
                    cost_micro_usd=7,
                )
            )
        assert ledger.flush(120), "the ledger did not catch up"
        elapsed = time.perf_counter() - started
        ledger.close()
        return elapsed


VARIANT = textwrap.dedent(
    """
    import sys, uvicorn
    from modelrouter.config import load_config
    from modelrouter.gateway.app import build_gateway

    class NoLedger:
        def record_request(self, row): pass
        def record_attempt(self, row): pass
        def record(self, rows): pass

    app = build_gateway(load_config(sys.argv[1]))
    if sys.argv[2] == "off":
        app.chat.ledger = NoLedger()
    elif sys.argv[2] == "thread":  # the ingester as a thread of the gateway, for comparison
        from modelrouter.ledger import Ledger
        app.ledger.close()
        app.ledger = app.chat.ledger = Ledger(app.engine.config.store, ingest_in="thread")
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), loop="uvloop", http="httptools",
                log_level="warning", access_log=False)
    """
)


def load(url: str, seconds: float) -> int:
    """Requests completed at 16 connections.

    wrk when installed (it leaves the CPU to the gateway), else the aiohttp client of
    gateway_overhead.py.
    """
    body: dict[str, object] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    if shutil.which("wrk") is None:
        return round(cell(url, body, 16, seconds)[2] * seconds)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(body, handle)
    env = {**os.environ, "BENCH_BODY": handle.name, "BENCH_HEADERS": ""}
    script = str(Path(__file__).with_name("peers") / "post.lua")
    command = ["wrk", "-t1", "-c16", f"-d{round(seconds)}s", "-s", script, url]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    match = re.search(r"RESULT requests=(\d+) .* errors=(\d+)", out)
    assert match is not None and match.group(2) == "0", out
    return int(match.group(1))


def gateway_figures(workdir: Path, upstream_port: int, ledger: str, seconds: float) -> tuple[float, float]:
    """Requests per second at 16 connections, and CPU ms per request of the gateway's processes."""
    port = free_port()
    config = {
        "store": f"sqlite:///{workdir}/ledger-{ledger}.db",
        "providers": {
            "bench": {
                "kind": "openai-compatible",
                "base_url": f"http://127.0.0.1:{upstream_port}/v1",
                "api_key": "k",
                "models": ["gpt-4o-mini"],
            }
        },
    }
    path = workdir / f"bench-{ledger}.yaml"
    path.write_text(yaml.safe_dump(config))
    process = subprocess.Popen(
        [sys.executable, "-c", VARIANT, str(path), ledger, str(port)], cwd=workdir, start_new_session=True
    )
    try:
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        load(url, 1)  # warm-up
        cpu = cpu_ticks(process.pid) / HZ
        done = load(url, seconds)
        cpu = cpu_ticks(process.pid) / HZ - cpu
        return done / seconds, cpu * 1000 / done
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    admin_url = sys.argv[2] if len(sys.argv) > 2 else PG
    print(f"{n:,} requests = {3 * n:,} rows (started, attempt, final) through the journal into the database")
    with tempfile.TemporaryDirectory() as tmp:
        elapsed = record(f"sqlite:///{tmp}/bench.db", n)
    print(f"  SQLite     {n / elapsed:>9,.0f} requests/s  {3 * n / elapsed:>9,.0f} rows/s")
    import psycopg

    name = f"mr_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        elapsed = record(admin_url.rsplit("/", 1)[0] + f"/{name}", n)
        print(f"  PostgreSQL {n / elapsed:>9,.0f} requests/s  {3 * n / elapsed:>9,.0f} rows/s")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
    workdir = Path(tempfile.mkdtemp(prefix="mr-ledger-bench-"))
    upstream_port = free_port()
    upstream = subprocess.Popen([sys.executable, str(UPSTREAM), str(upstream_port)], start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{upstream_port}/", upstream)
        figures: dict[str, list[tuple[float, float]]] = {"on": [], "thread": [], "off": []}
        for _ in range(ROUNDS):  # interleaved, because this machine's figures drift between runs
            for variant in figures:
                figures[variant].append(gateway_figures(workdir, upstream_port, variant, 5))
    finally:
        os.killpg(upstream.pid, signal.SIGTERM)
        upstream.wait(10)
    off = statistics.median(rps for rps, _ in figures["off"])
    print(f"gateway, 16 connections ({'wrk' if shutil.which('wrk') else 'aiohttp client'}), SQLite ledger,")
    print(f"5 s a run, {ROUNDS} runs interleaved, medians; CPU counts the gateway and its ingester")
    for variant, label in (
        ("on", "ledger on (ingester process)"),
        ("thread", "ledger on (ingester thread)"),
        ("off", "ledger off"),
    ):
        rps = statistics.median(r for r, _ in figures[variant])
        cpu = statistics.median(c for _, c in figures[variant])
        runs = ", ".join(f"{r:,.0f}" for r, _ in figures[variant])
        print(
            f"  {label:<30} {rps:>7,.0f} req/s ({rps / off:.1%} of off)  {cpu:.3f} ms CPU/req  (runs {runs})"
        )


if __name__ == "__main__":
    main()
