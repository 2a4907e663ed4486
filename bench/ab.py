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
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers.rounds import Subject, interleave, running  # noqa: E402
from peers.run import ALL, install, nginx_mock  # noqa: E402


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
        with nginx_mock(work, 0.25) as mock, running(args.targets, work, mock) as subjects:
            interleave(subjects, args.rounds, args.mode, args.connections, args.seconds, work)
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
        cpu = subject.ratios(reference, lambda r: r.cpu_ms)
        rps = subject.ratios(reference, lambda r: r.rps)
        print(
            f"{subject.spec:40s} {subject.median(lambda r: r.rps):8.0f} "
            f"{subject.median(lambda r: r.cpu_ms):7.3f} "
            f"{subject.median(lambda r: r.main_system_ms):7.3f} "
            f"{statistics.median(cpu):>8.3f} ({min(cpu):.2f}-{max(cpu):.2f}) "
            f"{statistics.median(rps):12.3f}"
        )


if __name__ == "__main__":
    main()
