"""Instructions per request of a gateway's own process, counted by valgrind's callgrind.

CPU milliseconds per request move by 10 to 30% between runs on a shared 2-core machine
(neighbours, frequency), which hides the few-percent steps the hot path is improved by.
Instructions do not move: callgrind counts them exactly, whatever else the machine does,
so two counts of the same code agree within 0.5%. Each target runs under callgrind with
instrumentation off through start-up; after a warm-up it is switched on for N sequential
requests (one keep-alive connection, like the 1-connection latency figure), then off.

Instructions are not time (system calls, cache misses and the ingester child are not in
them: `bench/peers/run.py` measures those), but a change that saves instructions in the
Python hot path saves time in proportion, and this shows it in one run.

Targets are those of bench/peers/run.py (floor, mr-pass, mr-o2a, mr-a2o, mr-full), each
optionally `@TREE` (a checkout to import modelrouter from, to compare two commits):

    python bench/instructions.py [--n 500] [--mode chat|stream] mr-full mr-full@/path/to/base
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers.run import Mode, Target, make_target, nginx_mock, pythonpath, start, stop, wait_ready  # noqa: E402

TARGETS = ("floor", "mr-pass", "mr-o2a", "mr-a2o", "mr-full")


def drive(target: Target, mode: Mode, n: int) -> None:
    """`n` requests one after another on one keep-alive connection; each must succeed."""
    address = urlsplit(target.url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=60)
    body = json.dumps(mode.body)
    headers = {"content-type": "application/json", **mode.headers}
    try:
        for _ in range(n):
            connection.request("POST", mode.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{target.name} answered {response.status}")
    finally:
        connection.close()


def total_instructions(out: Path) -> int:
    """The largest `totals:` of callgrind's dump files (one per dump, the last one has the run)."""
    total = 0
    for path in out.parent.glob(out.name + "*"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith(("totals:", "summary:")):
                total = max(total, int(line.split()[1]))
    return total


def count(spec: str, n: int, mode_name: str) -> float:
    """Instructions per request of `spec` (`name` or `name@tree`)."""
    name, _, tree = spec.partition("@")
    work = Path(tempfile.mkdtemp(prefix="mr-instructions-"))
    work.chmod(0o755)  # nginx's workers read the mock's files
    (work / "logs").mkdir()
    try:
        with nginx_mock(work, 0.25) as mock:
            with pythonpath(tree):  # `keys create` (run by make_target for mr-full) uses the same tree
                target = make_target(name, work, mock)
            if tree:
                target.env = {**target.env, "PYTHONPATH": tree}
            out = work / "callgrind.out"
            assert target.command is not None
            target.command = [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                *target.command,
            ]
            start(target, work / "logs")
            try:
                wait_ready(target, 600)
                mode = target.modes[mode_name]
                drive(target, mode, 100)  # warm-up: caches, pools, lazy imports
                assert target.process is not None
                pid = str(target.process.pid)
                subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
                drive(target, mode, n)
                subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
                subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
                time.sleep(0.5)
            finally:
                stop(target.process)
            if keep := os.environ.get("BENCH_KEEP_CALLGRIND"):  # for callgrind_annotate
                for path in out.parent.glob(out.name + "*"):
                    shutil.copy(path, Path(keep) / f"{name}-{path.name}")
            return total_instructions(out) / n
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("targets", nargs="*", default=list(TARGETS), help="name or name@tree")
    parser.add_argument("--n", type=int, default=500, help="requests counted per target")
    parser.add_argument("--mode", default="chat", choices=("chat", "stream"))
    args = parser.parse_args()
    for spec in args.targets:
        if spec.partition("@")[0] not in TARGETS:
            parser.error(f"unknown target {spec}; known: {', '.join(TARGETS)}")
    if not shutil.which("valgrind"):
        parser.error("valgrind is not installed (Debian: apt-get install valgrind)")
    print(f"{'target':40s} {'k instructions/request':>24s}", flush=True)
    for spec in args.targets:
        print(f"{spec:40s} {count(spec, args.n, args.mode) / 1000:24.1f}", flush=True)


if __name__ == "__main__":
    main()
