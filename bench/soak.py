"""The long soak: modelrouter under steady mixed load for an hour, watched for leaks.

Starts nginx as a fake upstream that is never the bottleneck (bench/peers/mock.py) and a real
`modelrouter serve` in front of it (embedded defaults: SQLite ledger), then for `--minutes`
drives it, on 127.0.0.1 only, well below saturation (about 3,400 requests/s here):

    wrk -t1 -c8 -s soak.lua   non-streamed chat completions; Debian's wrk 4.1 has no -R, so each
                              connection pauses a random 0..2x(connections/rate) s before each
                              request: about `--rate` requests/s in all. It stops sending at the
                              end and idles until wrk exits, so no request is cut off in flight.
    --streams SSE streams     held open at once by an asyncio generator here, each 50 chunks
                              `--pace-ms` apart from the mock (about 5 s), re-opened as they end
                              (about 10 streams/s); one connection each (`Connection: close`).

Every `--sample-s` it records the RSS of the gateway's session (the gateway and its ledger
ingester), the gateway's open fds, sockets and threads (and the ingester's), and the ledger's
journal depth and health from `/healthz`. After the load, once the journal is drained and a
settle longer than the upstream client's 15 s keep-alive, it checks: no errors; RSS slope after the warm-up
under `--max-slope` MB/h and peak within 40 MB of the warm-up (reliability.md section 4);
fds, sockets and threads back within 5 of the pre-load baseline; and the SQLite ledger holding
exactly one `ok` row per answered request and stream, none left `started`. The table goes to
stdout and to bench/reports/<date>-soak.md with the command line and the machine.

    python bench/soak.py [--minutes 60] [--rate 200] [--connections 8] [--streams 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import math
import os
import re
import shlex
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests
import uvloop
from typing_extensions import override

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers.mock import SLOW_CHUNKS  # noqa: E402
from peers.probe import Stream  # noqa: E402
from peers.run import (  # noqa: E402
    HZ,
    Target,
    body_file,
    cpu_ticks,
    install,
    machine,
    make_target,
    nginx_mock,
    rss_mb,
    session_pids,
    start,
    stop,
    versions,
    wait_ready,
)

MARGIN = 5
"""How far above the pre-load baseline fds, sockets and threads may end (reliability.md section 4)."""
PEAK_OVER_WARM_MB = 40
WRK_IDLE_S = 2
"""How long wrk runs on after it stops sending, for the last responses to arrive: under uvicorn's
5 s keep-alive, which would close the idle connections (wrk counts that as read errors)."""


# --- sampling ---------------------------------------------------------------------------------


@dataclass
class Sample:
    """The gateway at one moment; `t` is seconds since the load began (negative: before it)."""

    t: float
    rss_mb: float
    rss_gateway_mb: float
    fds: int
    sockets: int
    threads: int
    ingester_fds: int
    ingester_threads: int
    depth_bytes: int
    waiting_rows: int
    health: str
    journal_mb: float


def proc_counts(pid: int) -> tuple[int, int, int, float]:
    """Open fds, of which sockets, threads and RSS MB of one process (zeros once it is gone)."""
    fds = sockets = threads = 0
    rss = 0.0
    with contextlib.suppress(OSError):
        for entry in os.scandir(f"/proc/{pid}/fd"):
            fds += 1
            with contextlib.suppress(OSError):
                sockets += os.readlink(entry.path).startswith("socket:")
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                threads = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
    return fds, sockets, threads, rss


def healthz(url: str) -> dict[str, Any]:
    """The gateway's /healthz, or a status naming why it could not be read."""
    try:
        health: dict[str, Any] = requests.get(url + "/healthz", timeout=5).json()
    except (requests.RequestException, ValueError) as exc:
        return {"status": f"unreachable: {exc}", "ledger": {}}
    return health


def take_sample(target: Target, journal: Path, t: float) -> Sample:
    assert target.process is not None
    pid = target.process.pid
    fds, sockets, threads, rss_gateway = proc_counts(pid)
    others = [proc_counts(p) for p in session_pids(pid) if p != pid]
    health = healthz(target.url)
    ledger = health.get("ledger", {})
    problems = [str(ledger[k]) for k in ("error", "journal_error") if ledger.get(k)]
    journal_bytes = sum(p.stat().st_size for p in journal.rglob("*") if p.is_file())
    return Sample(
        t=round(t, 1),
        rss_mb=rss_mb(pid),
        rss_gateway_mb=rss_gateway,
        fds=fds,
        sockets=sockets,
        threads=threads,
        ingester_fds=sum(o[0] for o in others),
        ingester_threads=sum(o[2] for o in others),
        depth_bytes=int(ledger.get("depth_bytes", -1)),
        waiting_rows=int(ledger.get("waiting_rows", -1)),
        health=" ".join([str(health.get("status")), *problems]),
        journal_mb=journal_bytes / 1e6,
    )


# --- the load ---------------------------------------------------------------------------------


class SoakStream(Stream):
    """A probe stream that also notes the stream's own terminator and the connection's end."""

    def __init__(self, request: bytes) -> None:
        super().__init__(request)
        self.finished = False
        self.tail = b""
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @override
    def data_received(self, data: bytes) -> None:
        """Look for `[DONE]`, even split across two arrivals."""
        seen = self.tail + data
        self.finished = self.finished or b"data: [DONE]" in seen
        self.tail = seen[-16:]
        super().data_received(data)

    @override
    def connection_lost(self, exc: Exception | None) -> None:
        """The server ended the response (the request asked for `Connection: close`)."""
        super().connection_lost(exc)
        if not self.closed.done():
            self.closed.set_result(None)


@dataclass
class Streams:
    """What the stream generator did."""

    opened: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)


async def one_stream(host: str, port: int, request: bytes, timeout: float) -> str:
    """Read one stream to the server's close; '' when it was whole, else what was wrong."""
    loop = asyncio.get_running_loop()
    try:
        transport, stream = await loop.create_connection(lambda: SoakStream(request), host, port)
    except OSError as exc:
        return f"connect: {exc.strerror}"
    try:
        await asyncio.wait_for(stream.closed, timeout)
    except TimeoutError:
        return "timed out"
    finally:
        transport.close()
    if stream.status != 200:
        return f"status {stream.status}"
    if not stream.finished or len(stream.token_times) != SLOW_CHUNKS:
        return f"broken after {len(stream.token_times)} chunks"
    return ""


async def drive_streams(
    target: Target, work: Path, concurrency: int, stop_at: float, spread_s: float, streams: Streams
) -> None:
    """`concurrency` streams open at once until `stop_at` (monotonic), each re-opened as it ends."""
    mode = target.modes["slow"]
    body = body_file(work, mode).read_bytes()
    host, port = target.url.removeprefix("http://").split(":")
    head = [f"POST {mode.path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json"]
    head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    request = "\r\n".join(head).encode() + body

    async def worker(number: int) -> None:
        await asyncio.sleep(number * spread_s / concurrency)  # spread the ends over a stream's length
        while time.monotonic() < stop_at:
            streams.opened += 1
            why = await one_stream(host, int(port), request, spread_s * 4 + 30)
            if why:
                streams.errors[why] += 1
            else:
                streams.ok += 1

    await asyncio.gather(*(worker(i) for i in range(concurrency)))


async def drive_wrk(
    target: Target, work: Path, connections: int, rate: float, stop_epoch: int
) -> dict[str, float]:
    """Run wrk's paced non-streamed load until `stop_epoch`; its RESULT figures."""
    mode = target.modes["chat"]
    env = {
        **os.environ,
        "BENCH_BODY": str(body_file(work, mode)),
        "SOAK_PAUSE_MS": f"{connections * 1000 / rate:.3f}",
        "SOAK_STOP_AT": str(stop_epoch),
    }
    seconds = math.ceil(stop_epoch - time.time()) + WRK_IDLE_S
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    command += ["-s", str(HERE / "soak.lua"), target.url + mode.path]
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out = (await process.communicate())[0].decode()
    (work / "wrk.out").write_text(out)
    match = re.search(r"RESULT (.*)", out)
    if match is None:
        raise RuntimeError(f"wrk gave no result: {out}")
    return {k: float(v) for k, v in (item.split("=") for item in match.group(1).split())}


# --- the ledger -------------------------------------------------------------------------------


def ledger_rows(database: Path) -> Counter[tuple[int, str]]:
    """Request rows by (stream, state), read-only beside the running gateway."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        found = db.execute("SELECT stream, state, count(*) FROM requests GROUP BY stream, state").fetchall()
    return Counter({(int(s), str(state)): int(n) for s, state, n in found})


async def drained(target: Target, seconds: float = 120) -> bool:
    """Wait until the journal is in the database and no row waits in memory."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ledger = (await asyncio.to_thread(healthz, target.url)).get("ledger", {})
        if ledger.get("depth_bytes") == 0 and ledger.get("waiting_rows") == 0:
            return True
        await asyncio.sleep(0.5)
    return False


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Soak:
    """Everything one soak measured."""

    load_s: float = 0.0
    sending_s: float = 0.0
    settle_s: float = 0.0
    warmup_s: float = 0.0
    cpu_pct: float = 0.0
    baseline: Sample | None = None
    after: Sample | None = None
    samples: list[Sample] = field(default_factory=list)
    wrk: dict[str, float] = field(default_factory=dict)
    streams: Streams = field(default_factory=Streams)
    rows: Counter[tuple[int, str]] = field(default_factory=Counter)
    drained: bool = False
    log_errors: int = 0


async def soak(args: argparse.Namespace, target: Target, work: Path, journal: Path) -> Soak:
    """Baseline, load with sampling, drain and settle, then the after-sample and the ledger."""
    assert target.process is not None
    sid, result = target.process.pid, Soak()
    await drained(target)
    await asyncio.sleep(3)
    before = ledger_rows(work / "modelrouter-pass.db")
    result.baseline = await asyncio.to_thread(take_sample, target, journal, 0.0)
    ticks, started = cpu_ticks(sid), time.monotonic()
    stop_epoch = math.ceil(time.time() + args.minutes * 60)
    result.sending_s = stop_epoch - time.time()
    stop_at = started + result.sending_s
    spread_s = args.pace_ms / 1000 * (SLOW_CHUNKS + 3)
    load = asyncio.gather(
        drive_wrk(target, work, args.connections, args.rate, stop_epoch),
        drive_streams(target, work, args.streams, stop_at, spread_s, result.streams),
    )
    sampling = asyncio.create_task(sample_until(load, target, journal, started, args.sample_s, result))
    try:
        result.wrk = (await load)[0]
    except asyncio.CancelledError:
        raise RuntimeError(f"the gateway exited with {target.process.returncode}") from None
    result.load_s = time.monotonic() - started
    result.cpu_pct = (cpu_ticks(sid) - ticks) / HZ / result.load_s * 100
    settle_from = time.monotonic()
    result.drained = await drained(target)
    await asyncio.sleep(max(0.0, args.settle_s - (time.monotonic() - settle_from)))
    result.settle_s = time.monotonic() - settle_from
    sampling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sampling
    result.after = await asyncio.to_thread(take_sample, target, journal, time.monotonic() - started)
    result.samples.append(result.after)
    result.rows = ledger_rows(work / "modelrouter-pass.db")
    result.rows.subtract(before)
    result.rows = +result.rows  # drop the states that did not change
    return result


async def sample_until(
    load: asyncio.Future[Any], target: Target, journal: Path, started: float, every: float, result: Soak
) -> None:
    """A sample every `every` seconds, through the load and the settle after it."""
    while True:
        sample = await asyncio.to_thread(take_sample, target, journal, time.monotonic() - started)
        result.samples.append(sample)
        if target.process is not None and target.process.poll() is not None:
            load.cancel()  # soak() reports the exit
            return
        if not load.done() and len(result.samples) % max(1, round(60 / every)) == 0:
            print(
                f"  {sample.t / 60:5.1f} min: RSS {sample.rss_mb:.1f} MB, fds {sample.fds}, "
                f"threads {sample.threads}, journal depth {sample.depth_bytes} B, "
                f"streams {result.streams.ok} ok {sum(result.streams.errors.values())} broken",
                flush=True,
            )
        await asyncio.sleep(every)


# --- the report -------------------------------------------------------------------------------


def slope_mb_per_h(samples: list[Sample], key: str) -> float:
    """Least-squares slope of `key` over `samples`, in MB per hour (nan with fewer than 3)."""
    if len(samples) < 3:
        return float("nan")
    xs = [s.t / 3600 for s in samples]
    ys = [float(getattr(s, key)) for s in samples]
    return statistics.linear_regression(xs, ys).slope


def verdict(ok: bool) -> str:
    return "PASS" if ok else "**FAIL**"


def report(args: argparse.Namespace, r: Soak) -> tuple[str, bool]:
    """The summary table, and whether every check passed."""
    assert r.baseline is not None and r.after is not None
    base, after = r.baseline, r.after
    loaded = [s for s in r.samples if s.t <= r.load_s]
    warm = [s for s in loaded if s.t >= r.warmup_s]
    rss_warm = warm[0].rss_mb if warm else float("nan")
    peak = max(r.samples, key=lambda s: s.rss_mb)
    slope = slope_mb_per_h(warm, "rss_mb")
    requests_ok, streams_ok = int(r.wrk["requests"]), r.streams.ok
    kinds = {k: int(r.wrk[k]) for k in ("non2xx", "connect", "read", "write", "timeout") if r.wrk[k]}
    wrk_errors = sum(kinds.values())
    stream_errors = sum(r.streams.errors.values())
    unhealthy = sorted({s.health for s in r.samples if s.health != "ok"})
    expected = Counter({(0, "ok"): requests_ok, (1, "ok"): streams_ok})
    started_rows = sum(n for (_, state), n in r.rows.items() if state == "started")

    def back(key: str) -> tuple[str, bool]:
        peak_value = max(getattr(s, key) for s in r.samples)
        ok = abs(getattr(after, key) - getattr(base, key)) <= MARGIN
        return f"{getattr(base, key)} / {peak_value} / {getattr(after, key)}", ok

    checks: list[tuple[str, str, bool | None]] = [
        ("load", f"{r.sending_s / 60:.1f} min, then {r.settle_s:.0f} s drain and settle", None),
        (
            "non-streamed (wrk)",
            f"{requests_ok:,} answered of {int(r.wrk['sent']):,} sent, {requests_ok / r.sending_s:.0f}/s, "
            f"p50 {r.wrk['p50_ms']:.2f} ms, p99 {r.wrk['p99_ms']:.2f} ms",
            None,
        ),
        (
            "streams",
            f"{streams_ok:,} whole of {r.streams.opened:,} opened, {streams_ok / r.sending_s:.1f}/s, "
            f"{args.streams} at once",
            None,
        ),
        ("gateway CPU during the load", f"{r.cpu_pct:.0f}% of one core (gateway and ingester)", None),
        (
            "errors (non-2xx, socket, broken streams)",
            f"{wrk_errors}{f' {kinds}' if kinds else ''} + {stream_errors}"
            + (f" {dict(r.streams.errors)}" if stream_errors else "")
            + f"; gateway log: {r.log_errors} error lines",
            wrk_errors + stream_errors + r.log_errors == 0,
        ),
        (
            "RSS MB (session) start / warm / peak / end",
            f"{base.rss_mb:.1f} / {rss_warm:.1f} / {peak.rss_mb:.1f} (at {peak.t / 60:.1f} min) "
            f"/ {after.rss_mb:.1f}",
            peak.rss_mb <= rss_warm + PEAK_OVER_WARM_MB,
        ),
        (
            f"RSS slope after {r.warmup_s:.0f} s warm-up",
            f"{slope:+.2f} MB/h (bound {args.max_slope:g}); gateway alone "
            f"{slope_mb_per_h(warm, 'rss_gateway_mb'):+.2f} MB/h",
            slope < args.max_slope,
        ),
        ("open fds baseline / peak / after", *back("fds")),
        ("  of which sockets", *back("sockets")),
        ("threads baseline / peak / after", *back("threads")),
        ("ingester fds", *back("ingester_fds")),
        (
            "journal depth max / end; health",
            f"{max(s.depth_bytes for s in r.samples):,} B / {after.depth_bytes} B; "
            f"journal on disk max {max(s.journal_mb for s in r.samples):.1f} MB; "
            + (", ".join(unhealthy) if unhealthy else "ok throughout"),
            r.drained and not unhealthy,
        ),
        (
            "ledger rows vs answered",
            f"{r.rows[(0, 'ok')]:,} + {r.rows[(1, 'ok')]:,} ok vs {requests_ok:,} + {streams_ok:,}; "
            f"{started_rows} started" + ("" if r.rows == expected else f"; all new rows: {dict(r.rows)}"),
            r.rows == expected and started_rows == 0,
        ),
    ]
    lines = ["| figure | value | check |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'' if ok is None else verdict(ok)} |" for name, value, ok in checks]
    every = max(1, len(loaded) // 10)
    series = ", ".join(f"{s.t / 60:.1f}: {s.rss_mb:.1f}" for s in loaded[::every])
    lines += ["", f"RSS MB over the load (minute, MB): {series}."]
    return "\n".join(lines) + "\n", all(ok for _, _, ok in checks if ok is not None)


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=60, help="load duration (fractions allowed)")
    parser.add_argument("--rate", type=float, default=200, help="non-streamed requests/s offered in all")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--streams", type=int, default=50, help="SSE streams held open at once")
    parser.add_argument("--pace-ms", type=float, default=100, help="the mock's interval between chunks")
    parser.add_argument("--sample-s", type=float, default=5)
    parser.add_argument("--warmup-s", type=float, default=60, help="(at most a quarter of the load)")
    parser.add_argument("--settle-s", type=float, default=30, help="after the load, before the end checks")
    parser.add_argument("--max-slope", type=float, default=5, help="RSS slope bound, MB per hour")
    parser.add_argument("--keep", action="store_true", help="keep the work directory even on PASS")
    parser.add_argument("--out", type=Path, default=HERE / "reports" / f"{datetime.date.today()}-soak.md")
    args = parser.parse_args()
    install(["mr-pass"])
    work = Path(tempfile.mkdtemp(prefix="mr-soak-"))
    work.chmod(0o755)  # nginx's workers run as another user and read the mock's files
    logs = work / "logs"
    logs.mkdir()
    print(f"soak: {args.minutes:g} min; work directory {work}", flush=True)
    with nginx_mock(work, args.pace_ms / 1000) as mock:
        target = make_target("mr-pass", work, mock)
        start(target, logs)
        try:
            wait_ready(target)
            result = uvloop.run(soak(args, target, work, work / "modelrouter-pass.db.journal"))
            log = (logs / "mr-pass.log").read_text(errors="replace")
            result.log_errors = len(re.findall(r"\bERROR\b|Traceback", log))
        finally:
            stop(target.process)
    result.warmup_s = min(args.warmup_s, result.load_s / 4)
    (work / "samples.jsonl").write_text("".join(json.dumps(asdict(s)) + "\n" for s in result.samples))
    table, passed = report(args, result)
    command = shlex.join(["python", "bench/soak.py", *sys.argv[1:]])
    text = (
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {machine()}.\n"
        f"Versions: {json.dumps(versions())}.\n"
        f"Load, all on 127.0.0.1 and on the same cores: `wrk -t1 -c{args.connections}` paced to about "
        f"{args.rate:g} non-streamed requests/s, and {args.streams} SSE streams held open "
        f"({SLOW_CHUNKS} chunks {args.pace_ms:g} ms apart each), through `modelrouter serve` "
        f"(one worker, SQLite ledger) to an nginx mock. Samples every {args.sample_s:g} s.\n\n{table}"
    )
    print()
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"# modelrouter soak, {datetime.date.today()}\n\n`{command}`\n\n{text}")
    print(f"written to {args.out}; {'PASS' if passed else 'FAIL'}")
    if passed and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"samples and logs kept in {work}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
