"""Interleaved rounds: targets running at once, measured in turn, order alternating by round.

On a shared 2-core machine one target's CPU per request drifts by 10 to 35% from minute to
minute (a neighbour, the host's clock), so measuring A for a minute and then B compares two
moments as much as two programs: a peers run once put mr-full at 1.78 times the floor's CPU
per request, measured ten minutes after the floor, where rounds minutes later gave 1.31.
Here every target runs at once (each its own process in front of one nginx mock) and each
round measures all of them a few seconds apart, alternating the order (A B, B A, ...): the
figure to read is the median, over rounds, of each target's ratio to the reference measured
next to it. Used by `bench/ab.py` (builds against each other) and `bench/peers/run.py` (the
issue's ratios to the floor and to Portkey).
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from peers.run import HZ, Target, make_target, pythonpath, session_pids, start, stop, wait_ready, wrk


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
    """A target as given on the command line (`name` or `name@tree`), running, with its rounds."""

    spec: str
    target: Target
    rounds: list[Round] = field(default_factory=list)

    def median(self, figure: Callable[[Round], float]) -> float:
        """The median of one figure over the rounds."""
        return statistics.median(figure(r) for r in self.rounds)

    def ratios(self, reference: Subject, figure: Callable[[Round], float]) -> list[float]:
        """Per round, this one's figure over the reference's."""
        return [figure(r) / figure(b) for r, b in zip(self.rounds, reference.rounds, strict=True)]


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
    """One closed-loop wrk run of `subject`, with its CPU split into main process and children."""
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


@contextlib.contextmanager
def running(specs: list[str], work: Path, mock: str) -> Iterator[list[Subject]]:
    """Start every target (`name` or `name@tree`, each with its own directory) and wait until all serve."""
    subjects: list[Subject] = []
    try:
        for number, spec in enumerate(specs):
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
        yield subjects
    finally:
        for subject in subjects:
            stop(subject.target.process)


def interleave(
    subjects: list[Subject], rounds: int, mode: str, connections: int, seconds: float, work: Path
) -> None:
    """Warm every target up, then measure them round by round, alternating the order."""
    for subject in subjects:
        wrk(subject.target, subject.target.modes[mode], connections, 3, work)
    for number in range(rounds):
        order = subjects if number % 2 == 0 else subjects[::-1]
        for subject in order:
            result = measure(subject, mode, connections, seconds, work)
            subject.rounds.append(result)
            print(
                f"round {number:2d} {subject.spec:40s} {result.rps:8.0f} req/s "
                f"p50 {result.p50_ms:6.2f} ms  CPU {result.cpu_ms:.3f} ms/req "
                f"(user {result.main_user_ms:.3f}, system {result.main_system_ms:.3f}, "
                f"children {result.children_ms:.3f})",
                flush=True,
            )
