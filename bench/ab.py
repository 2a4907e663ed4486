"""Two or more gateway builds side by side: CPU per request measured in interleaved rounds.

On a shared 2-core machine one target's CPU per request drifts by 10 to 30% from minute to
minute, so measuring A and then B compares two moments as much as two builds. Here every
target runs at once (each its own process in front of one nginx mock) and the rounds
alternate their order (A B, B A, ...); the figure to read is the median, over rounds, of
each target's ratio to the first one measured next to it. Per round it prints requests/s,
p50, CPU milliseconds per request of the gateway's main process (user and system apart)
and of its children (the ledger's ingester). `bench/instructions.py` is the exact
complement for the Python hot path (instruction counts); this one also sees system calls
and the ingester.

Targets are those of bench/peers/run.py but `direct` and `litellm` (Portkey too, to hold a
ratio to it steady); modelrouter's optionally `@TREE` (a checkout to import modelrouter from):

    python bench/ab.py mr-full@/path/to/base mr-full [--rounds 10] [--seconds 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers.run import (  # noqa: E402
    ALL,
    HZ,
    Target,
    install,
    make_target,
    nginx_mock,
    pythonpath,
    session_pids,
    start,
    stop,
    wait_ready,
    wrk,
)


@dataclass
class Round:
    """One wrk run of one target."""

    rps: float
    p50_ms: float
    main_user_ms: float
    main_system_ms: float
    children_ms: float

    @property
    def cpu_ms(self) -> float:
        """All of it: the main process (user and system) and its children."""
        return self.main_user_ms + self.main_system_ms + self.children_ms


@dataclass
class Subject:
    """A target as given on the command line, running, with its rounds."""

    spec: str
    target: Target
    rounds: list[Round] = field(default_factory=list)


def _times(pid: int) -> tuple[int, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def _cpu(main: int) -> dict[int, tuple[int, int]]:
    times = {}
    for pid in session_pids(main):
        with contextlib.suppress(OSError):
            times[pid] = _times(pid)
    return times


def measure(subject: Subject, mode: str, connections: int, seconds: float, work: Path) -> Round:
    process = subject.target.process
    assert process is not None
    before = _cpu(process.pid)
    figures = wrk(subject.target, subject.target.modes[mode], connections, seconds, work)
    after = _cpu(process.pid)
    per_request = 1000 / HZ / figures["requests"]
    main_user = (after[process.pid][0] - before[process.pid][0]) * per_request
    main_system = (after[process.pid][1] - before[process.pid][1]) * per_request
    children = sum(
        (sum(times) - sum(before.get(pid, (0, 0)))) * per_request
        for pid, times in after.items()
        if pid != process.pid
    )
    return Round(figures["rps"], figures["p50_ms"], main_user, main_system, children)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("targets", nargs="+", help="name or name@tree; the first is the reference")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--mode", default="chat", choices=("chat", "stream"))
    args = parser.parse_args()
    for spec in args.targets:
        name, _, tree = spec.partition("@")
        if name not in ALL or name in ("direct", "litellm") or (tree and not name.startswith("mr-")):
            parser.error(
                f"{spec}: compare floor, portkey or modelrouter targets (mr-pass, mr-o2a, mr-a2o, "
                "mr-full; only these take @TREE)"
            )
    install(args.targets)
    work = Path(tempfile.mkdtemp(prefix="mr-ab-"))
    work.chmod(0o755)  # nginx's workers read the mock's files
    (work / "logs").mkdir()
    subjects: list[Subject] = []
    try:
        with nginx_mock(work, 0.25) as mock:
            try:
                for number, spec in enumerate(args.targets):
                    name, _, tree = spec.partition("@")
                    own = work / f"target-{number}"  # its own config, database and journal
                    own.mkdir()
                    own.chmod(0o755)
                    with pythonpath(tree):  # `keys create` (mr-full) runs from the same tree
                        target = make_target(name, own, mock)
                    if tree:
                        target.env = {**target.env, "PYTHONPATH": tree}
                    target.name = f"{name}-{number}"  # its own log file
                    start(target, work / "logs")
                    subjects.append(Subject(spec, target))
                for subject in subjects:
                    wait_ready(subject.target)
                    wrk(subject.target, subject.target.modes[args.mode], args.connections, 3, work)
                for number in range(args.rounds):
                    order = subjects if number % 2 == 0 else subjects[::-1]
                    for subject in order:
                        result = measure(subject, args.mode, args.connections, args.seconds, work)
                        subject.rounds.append(result)
                        print(
                            f"round {number:2d} {subject.spec:40s} {result.rps:8.0f} req/s "
                            f"p50 {result.p50_ms:6.2f} ms  CPU {result.cpu_ms:.3f} ms/req "
                            f"(user {result.main_user_ms:.3f}, system {result.main_system_ms:.3f}, "
                            f"children {result.children_ms:.3f})",
                            flush=True,
                        )
            finally:
                for subject in subjects:
                    stop(subject.target.process)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(subjects)


def report(subjects: list[Subject]) -> None:
    reference = subjects[0]
    print(f"\nmedians over {len(reference.rounds)} rounds; ratios are per round, to {reference.spec}")
    print(
        f"{'target':40s} {'req/s':>8s} {'CPU ms':>7s} {'system':>7s} "
        f"{'CPU ratio (min-max)':>22s} {'req/s ratio':>12s}"
    )
    for subject in subjects:
        rounds, base = subject.rounds, reference.rounds
        cpu = [r.cpu_ms / b.cpu_ms for r, b in zip(rounds, base, strict=True)]
        rps = [r.rps / b.rps for r, b in zip(rounds, base, strict=True)]
        print(
            f"{subject.spec:40s} {statistics.median(r.rps for r in rounds):8.0f} "
            f"{statistics.median(r.cpu_ms for r in rounds):7.3f} "
            f"{statistics.median(r.main_system_ms for r in rounds):7.3f} "
            f"{statistics.median(cpu):>8.3f} ({min(cpu):.2f}-{max(cpu):.2f}) "
            f"{statistics.median(rps):12.3f}"
        )


if __name__ == "__main__":
    main()
