"""Coverage-guided fuzzing of the gateway's parsers with atheris (libFuzzer), one target at a time.

    .venv/bin/python -m tests.fuzz.run                    # every target, 60 s each
    .venv/bin/python -m tests.fuzz.run --long sse         # 10 minutes each (the T4 figure)
    .venv/bin/python -m tests.fuzz.run --seconds 5 --corpus .fuzz-corpus urlguard

Each target runs in a process of its own (libFuzzer ends the process when it is done), with
modelrouter instrumented for coverage. A crash prints the input's traceback and leaves the
input in the artifacts directory (default ./fuzz-artifacts); `python -m tests.fuzz.run --child
TARGET FILE` replays it. Turn it into a case in tests/fuzz/test_fuzz.py, then fix the bug. The
summary gives executions per target.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Outcome", "fuzz"]

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Outcome:
    """How one target's run went."""

    target: str
    executions: int
    seconds: float
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        """No crash, no hang, no undeclared exception."""
        return self.returncode == 0

    @property
    def report(self) -> str:
        """The traceback (or libFuzzer's complaint) and where the input was written."""
        start = self.output.find("=== Uncaught Python exception")
        if start < 0:
            start = max(self.output.find("==ERROR"), 0)
        unit = re.search(r"Test unit written to (\S+)", self.output)
        text = self.output[start : start + 4000]
        text = re.split(r"\n(?:INFO|WARNING|MS|SUMMARY):", text, maxsplit=1)[0]
        return text + (f"\ninput: {unit.group(1)}" if unit else "")


def fuzz(
    target: str, seconds: float, *, corpus: Path | None = None, artifacts: Path | None = None, seed: int = 0
) -> Outcome:
    """Fuzz `target` for `seconds` in a child process (`seed` 0: libFuzzer picks one)."""
    artifacts = artifacts or ROOT / "fuzz-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{target}-") as scratch:
        directory = corpus / target if corpus else Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        options = [
            f"-max_total_time={max(1, round(seconds))}",
            f"-artifact_prefix={artifacts}/{target}-",
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
            *([f"-seed={seed}"] if seed else []),
            str(directory),
        ]
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "tests.fuzz.run", "--child", target, *options],
            cwd=ROOT,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=seconds + 120,
        )
    output = run.stdout + run.stderr
    found = re.search(r"stat::number_of_executed_units:\s*(\d+)", output) or re.search(
        r"Done (\d+) runs", output
    )
    return Outcome(
        target, int(found.group(1)) if found else 0, time.monotonic() - started, run.returncode, output
    )


def _child(target: str, options: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(
        include=["modelrouter.protocols", "modelrouter.urlguard", "modelrouter.ir"]
    ):
        from tests.fuzz.targets import TARGETS
    atheris.Setup([sys.argv[0], *options], TARGETS[target])
    atheris.Fuzz()


def main() -> None:
    """Fuzz the targets named (default all) and print executions per target."""
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3:])
        return
    from tests.fuzz.targets import TARGETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", choices=[[], *TARGETS], help="default: every target")
    parser.add_argument("--seconds", type=float, default=60, help="per target (default 60)")
    parser.add_argument("--long", action="store_true", help="10 minutes per target")
    parser.add_argument("--corpus", type=Path, help="keep each target's corpus under DIR/<target>")
    parser.add_argument("--artifacts", type=Path, help="where crashing inputs go (./fuzz-artifacts)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    seconds = 600 if args.long else args.seconds
    failed = False
    print(f"{'target':<18} {'executions':>11} {'seconds':>8} {'exec/s':>8}  result", flush=True)
    for name in args.targets or list(TARGETS):
        outcome = fuzz(name, seconds, corpus=args.corpus, artifacts=args.artifacts, seed=args.seed)
        rate = outcome.executions / outcome.seconds if outcome.seconds else 0
        verdict = "ok" if outcome.ok else f"FAILED (exit {outcome.returncode})"
        print(
            f"{name:<18} {outcome.executions:>11} {outcome.seconds:>8.1f} {rate:>8.0f}  {verdict}", flush=True
        )
        if not outcome.ok:
            failed = True
            print(outcome.report, file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
