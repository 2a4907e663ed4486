"""modelrouter beside LiteLLM, Portkey and a bare pass-through, on this machine, in one run.

Starts a fake upstream that is never the bottleneck (nginx answering fixed OpenAI and
Anthropic bodies, see mock.py), then each target in turn in front of it, and drives them
with wrk (closed loop, fixed connections) and probe.py (streams). Per target it prints and
records: added latency p50/p99 at 1, 16 and 64 connections (target minus direct), requests
per second, CPU milliseconds per request (all processes of the target), SSE streams per
second, added time to first token on a stream paced at 5 ms a chunk, RSS idle and loaded;
then 2,000 concurrent paced streams through one modelrouter worker (memory and added
inter-chunk delay). Last, the floor, Portkey and modelrouter's targets run at once and are
measured again in interleaved rounds (peers/rounds.py), for ratios that host drift over the
run cannot bend. The tables go to stdout and to a dated markdown file with the machine.

Targets:
    direct     wrk straight to the mock (the baseline every "added" figure subtracts)
    floor      floor.py: aiohttp pass-through, nothing else (what any Python proxy costs)
    portkey    Portkey's open-source gateway (Node), from npm
    litellm    LiteLLM proxy, one worker, from PyPI (no database: its lightest setup)
    mr-pass    modelrouter, OpenAI client to an OpenAI-compatible upstream (embedded defaults)
    mr-o2a     modelrouter, OpenAI client to an Anthropic upstream (translated both ways)
    mr-a2o     modelrouter, Anthropic client to an OpenAI upstream (translated both ways)
    mr-full    modelrouter with every feature on: virtual key, a terms policy, SQLite ledger, metrics

Installs what is missing (Debian: nginx-light, libnginx-mod-http-echo, wrk; PyPI: LiteLLM in
bench/.peers/litellm; npm: Portkey in bench/.peers/portkey). Loopback traffic only, bounded
in time; everything started runs in its own session and is stopped by process group.

    python bench/peers/run.py [--seconds 10] [--targets direct,floor,...] [--rounds 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PEERS = HERE.parent / ".peers"
sys.path.insert(0, str(HERE.parent))

from gateway_overhead import free_port  # noqa: E402

from peers.mock import SLOW_CHUNKS, SLOW_PACE_S, write_config  # noqa: E402

LITELLM_VERSION = "1.108.7"
PYTHON = sys.executable
MODELROUTER = [PYTHON, "-m", "modelrouter"]
HZ = os.sysconf("SC_CLK_TCK")
ALL = ["direct", "floor", "portkey", "litellm", "mr-pass", "mr-o2a", "mr-a2o", "mr-full"]
MANY_STREAMS = 2000
WRK = ["wrk", "-t1", "--timeout", "10s", "-s", str(HERE / "post.lua")]


# --- what each target is sent -----------------------------------------------------------------


def openai_body(model: str, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": "Say hello"}]}
    if stream:
        body["stream"] = True
    return body


def anthropic_body(model: str, stream: bool) -> dict[str, Any]:
    return {**openai_body(model, stream), "max_tokens": 64}


@dataclass
class Mode:
    """One kind of request to a target: path, headers, body."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Target:
    """A gateway under test: where it listens, what it is sent, how it is started."""

    name: str
    url: str
    modes: dict[str, Mode]
    command: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = None


def openai_modes(headers: dict[str, str] | None = None, prefix: str = "gpt-4o-mini") -> dict[str, Mode]:
    path, h = "/v1/chat/completions", headers or {}
    return {
        "chat": Mode(path, openai_body(prefix, False), h),
        "stream": Mode(path, openai_body(prefix + "-stream", True), h),
        "paced": Mode(path, openai_body(prefix + "-paced", True), h),
        "slow": Mode(path, openai_body(prefix + "-slow", True), h),
    }


# --- the targets ------------------------------------------------------------------------------


def modelrouter_config(work: Path, mock: str, port: int, *, full: bool) -> Path:
    def provider(path: str, model: str, protocol: str = "openai_chat") -> dict[str, Any]:
        section: dict[str, Any] = {
            "kind": "custom",
            "protocol": protocol,
            "base_url": mock + path,
            "api_key": "sk-bench-upstream",
            "models": [model],
        }
        if full:  # facts the terms policy checks, as an operator states them for their own server
            section["geo"] = "EU"
            section["terms"] = {
                "retention_days": {"value": 0, "source": "bench"},
                "training": {"value": False, "source": "bench"},
            }
        return section

    providers = {
        "mock": provider("/openai/v1", "gpt-4o-mini"),
        "mockstream": provider("/openai-stream/v1", "gpt-4o-mini-stream"),
        "mockpaced": provider("/openai-paced/v1", "gpt-4o-mini-paced"),
        "mockslow": provider("/openai-slow/v1", "gpt-4o-mini-slow"),
        "mockant": provider("/anthropic", "claude-bench", "anthropic_messages"),
        "mockantstream": provider("/anthropic-stream", "claude-bench-stream", "anthropic_messages"),
        "mockantpaced": provider("/anthropic-paced", "claude-bench-paced", "anthropic_messages"),
    }
    config: dict[str, Any] = {
        "server": {"port": port},
        "store": f"sqlite:///{work}/modelrouter-{'full' if full else 'pass'}.db",
        "providers": providers,
    }
    if full:
        config["server"]["master_key"] = "mr-bench-master-" + secrets.token_hex(8)
        config["policies"] = {"eu-zdr": {"residency": ["EU"], "max_retention_days": 0, "sort": "price"}}
    path = work / f"modelrouter-{'full' if full else 'pass'}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def make_target(name: str, work: Path, mock: str) -> Target:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if name == "direct":
        modes = openai_modes()
        for mode, route in (("chat", "openai"), ("stream", "openai-stream"), ("paced", "openai-paced")):
            modes[mode].path = f"/{route}/v1/chat/completions"
        modes["slow"].path = "/openai-slow/v1/chat/completions"
        # the baseline of a translated stream's first token: the Anthropic stream's own
        modes["paced-anthropic"] = Mode("/anthropic-paced/v1/messages", anthropic_body("claude-bench", True))
        return Target(name, mock, modes)
    if name == "floor":
        return Target(name, url, openai_modes(), [PYTHON, str(HERE / "floor.py"), str(port), mock])
    if name == "portkey":
        modes = openai_modes({"x-portkey-provider": "openai", "Authorization": "Bearer sk-bench-upstream"})
        for mode, route in (("chat", "openai"), ("stream", "openai-stream"), ("paced", "openai-paced")):
            modes[mode].headers = {**modes[mode].headers, "x-portkey-custom-host": f"{mock}/{route}/v1"}
        del modes["slow"]
        server = PEERS / "portkey/node_modules/@portkey-ai/gateway/build/start-server.js"
        return Target(name, url, modes, ["node", str(server), f"--port={port}", "--headless"])
    if name == "litellm":
        key = "sk-bench-" + secrets.token_hex(12)
        models = [
            {
                "model_name": model,
                "litellm_params": {
                    "model": "openai/gpt-4o-mini",
                    "api_base": f"{mock}/{route}/v1",
                    "api_key": "x",
                },
            }
            for model, route in (
                ("gpt-4o-mini", "openai"),
                ("gpt-4o-mini-stream", "openai-stream"),
                ("gpt-4o-mini-paced", "openai-paced"),
            )
        ]
        litellm_config = {
            "model_list": models,
            "litellm_settings": {"telemetry": False, "num_retries": 0, "turn_off_message_logging": True},
            "general_settings": {"disable_spend_logs": True, "disable_error_logs": True},
        }
        (work / "litellm.yaml").write_text(yaml.safe_dump(litellm_config))
        modes = openai_modes({"Authorization": f"Bearer {key}"})
        del modes["slow"]
        env = {
            "LITELLM_MASTER_KEY": key,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_LOG": "ERROR",
            "LITELLM_DONT_SHOW_FEEDBACK_BOX": "true",
        }
        command = [str(PEERS / "litellm/bin/litellm"), "--config", str(work / "litellm.yaml")]
        return Target(name, url, modes, [*command, "--host", "127.0.0.1", "--port", str(port)], env)
    full = name == "mr-full"
    config = modelrouter_config(work, mock, port, full=full)
    serve = [*MODELROUTER, "serve", "--config", str(config)]
    target = Target(name, url, openai_modes(), serve, cwd=work)
    if name == "mr-o2a":
        target.modes = openai_modes(prefix="claude-bench")
        del target.modes["slow"]
    elif name == "mr-a2o":
        path = "/v1/messages"
        target.modes = {
            "chat": Mode(path, anthropic_body("gpt-4o-mini", False)),
            "stream": Mode(path, anthropic_body("gpt-4o-mini-stream", True)),
            "paced": Mode(path, anthropic_body("gpt-4o-mini-paced", True)),
        }
    elif full:
        create = ["keys", "create", "--config", str(config), "--name", "bench", "--policy", "eu-zdr"]
        created = subprocess.run(
            [*MODELROUTER, *create, "--format", "json"],
            cwd=work,
            check=True,
            capture_output=True,
            text=True,
        )
        key = json.loads(created.stdout)["key"]
        target.modes = openai_modes({"Authorization": f"Bearer {key}"})
    return target


# --- processes --------------------------------------------------------------------------------


@contextlib.contextmanager
def pythonpath(tree: str) -> Iterator[None]:
    """PYTHONPATH set to `tree` meanwhile (to run modelrouter from another checkout); '' keeps it."""
    saved = os.environ.get("PYTHONPATH")
    if tree:
        os.environ["PYTHONPATH"] = tree
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def start(target: Target, logs: Path) -> None:
    if target.command is None:
        return
    log = (logs / f"{target.name}.log").open("wb")
    target.process = subprocess.Popen(
        target.command,
        env={**os.environ, **target.env},
        cwd=target.cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def session_pids(sid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "-s", str(sid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def cpu_ticks(sid: int) -> int:
    total = 0
    for pid in session_pids(sid):
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total


def rss_mb(sid: int) -> float:
    total = 0
    for pid in session_pids(sid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


class PeakRss:
    """Samples a session's RSS every 0.2 s while in use; `peak` is the highest seen."""

    def __init__(self, sid: int | None) -> None:
        self.sid, self.peak, self._stop = sid, 0.0, threading.Event()

    def __enter__(self) -> PeakRss:
        if self.sid is not None:
            threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        assert self.sid is not None
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, rss_mb(self.sid))

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self.sid is not None:
            self.peak = max(self.peak, rss_mb(self.sid))


def post(target: Target, mode: Mode) -> requests.Response:
    return requests.post(target.url + mode.path, json=mode.body, headers=mode.headers, timeout=10)


def wait_ready(target: Target, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if target.process is not None and target.process.poll() is not None:
            raise RuntimeError(f"{target.name} exited with {target.process.returncode}")
        with contextlib.suppress(requests.RequestException):
            if "Hello from the bench mock" in post(target, target.modes["chat"]).text:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{target.name} did not answer within {seconds:.0f} s")


def stream_works(target: Target, mode: Mode) -> bool:
    with contextlib.suppress(requests.RequestException):
        text = post(target, mode).text
        return "tok19" in text and ("[DONE]" in text or "message_stop" in text)
    return False


# --- measuring --------------------------------------------------------------------------------


def body_file(work: Path, mode: Mode) -> Path:
    path = work / f"body-{abs(hash(json.dumps(mode.body, sort_keys=True)))}.json"
    path.write_text(json.dumps(mode.body))
    return path


def wrk(target: Target, mode: Mode, connections: int, seconds: float, work: Path) -> dict[str, float]:
    """One closed-loop run: requests, p50/p99 ms, requests/s, errors and CPU ms per request."""
    sid = target.process.pid if target.process else None
    env = {
        **os.environ,
        "BENCH_BODY": str(body_file(work, mode)),
        "BENCH_HEADERS": "|".join(f"{k}: {v}" for k, v in mode.headers.items()),
    }
    before = cpu_ticks(sid) if sid else 0
    out = subprocess.run(
        [*WRK, f"-c{connections}", f"-d{max(1, round(seconds))}s", target.url + mode.path],
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    after = cpu_ticks(sid) if sid else 0
    match = re.search(r"RESULT (.*)", out)
    if match is None:
        raise RuntimeError(f"wrk gave no result for {target.name}: {out}")
    figures = {k: float(v) for k, v in (item.split("=") for item in match.group(1).split())}
    figures["rps"] = figures["requests"] / figures["seconds"]
    figures["cpu_ms"] = (after - before) * 1000 / HZ / figures["requests"] if sid else float("nan")
    return figures


def probe(target: Target, mode: Mode, work: Path, n: int, concurrency: int = 1) -> dict[str, Any]:
    command = [PYTHON, str(HERE / "probe.py"), target.url + mode.path, str(body_file(work, mode))]
    command += ["--n", str(n), "--concurrency", str(concurrency), "--ramp-per-s", "1000"]
    command += ["--timeout", "10" if concurrency == 1 else "120"]
    command += ["--headers", "|".join(f"{k}: {v}" for k, v in mode.headers.items())]
    out = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"probe failed for {target.name}: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def measure(target: Target, work: Path, seconds: float) -> dict[str, Any]:
    sid = target.process.pid if target.process else None
    result: dict[str, Any] = {"rss_idle": rss_mb(sid) if sid else float("nan")}
    with PeakRss(sid) as peak:
        wrk(target, target.modes["chat"], 16, min(3.0, seconds), work)  # warm-up
        for connections in (1, 16, 64):
            result[f"chat{connections}"] = wrk(target, target.modes["chat"], connections, seconds, work)
            print(f"  chat c={connections}: {brief(result[f'chat{connections}'])}", flush=True)
        if stream_works(target, target.modes["stream"]):
            result["stream"] = wrk(target, target.modes["stream"], 16, seconds, work)
            print(f"  stream c=16: {brief(result['stream'])}", flush=True)
        else:
            print("  stream: the smoke test failed, not measured", flush=True)
        for mode in ("paced", "paced-anthropic"):
            if mode in target.modes and stream_works(target, target.modes[mode]):
                result[mode] = probe(target, target.modes[mode], work, 40)
                print(f"  {mode}: ttft p50 {result[mode]['ttft_p50_ms']:.2f} ms", flush=True)
    result["rss_loaded"] = peak.peak if sid else float("nan")
    return result


def many_streams(target: Target, work: Path) -> dict[str, Any]:
    """MANY_STREAMS streams open at once, one chunk every 100 ms each; RSS peak meanwhile."""
    sid = target.process.pid if target.process else None
    with PeakRss(sid) as peak:
        figures = probe(target, target.modes["slow"], work, MANY_STREAMS, MANY_STREAMS)
    figures["rss_peak"] = peak.peak if sid else float("nan")
    print(f"  {MANY_STREAMS} streams: {figures}", flush=True)
    return figures


def brief(figures: dict[str, float]) -> str:
    return (
        f"{figures['rps']:.0f} req/s, p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms, "
        f"cpu {figures['cpu_ms']:.3f} ms/req, errors {figures['errors']:.0f}"
    )


# --- installing -------------------------------------------------------------------------------


def install(targets: list[str]) -> None:
    missing = []
    if not shutil.which("nginx"):
        missing.append("nginx-light")
    if not Path("/usr/share/nginx/modules/ngx_http_echo_module.so").exists():
        missing.append("libnginx-mod-http-echo")
    if not shutil.which("wrk"):
        missing.append("wrk")
    if missing:
        print(f"installing {' '.join(missing)} from Debian", flush=True)
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", *missing],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    if "litellm" in targets and not (PEERS / "litellm/bin/litellm").exists():
        print(f"installing LiteLLM {LITELLM_VERSION} into {PEERS / 'litellm'}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEERS / "litellm")], check=True)
        pip = [str(PEERS / "litellm/bin/pip"), "install", "-q", f"litellm[proxy]=={LITELLM_VERSION}"]
        subprocess.run(pip, check=True)
    if "portkey" in targets and not (PEERS / "portkey/node_modules/@portkey-ai/gateway").exists():
        print(f"installing Portkey's gateway into {PEERS / 'portkey'}", flush=True)
        (PEERS / "portkey").mkdir(parents=True, exist_ok=True)
        shutil.copy(HERE / "package.json", PEERS / "portkey/package.json")
        npm = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"]
        subprocess.run(npm, cwd=PEERS / "portkey", check=True)


def versions() -> dict[str, str]:
    def run(command: list[str]) -> str:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(command, capture_output=True, text=True, timeout=30)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        return "-"

    found = {
        "python": platform.python_version(),
        "nginx": run(["nginx", "-v"]),
        "wrk": run(["wrk", "--version"]),
        "node": run(["node", "--version"]),
        "git": run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
    }
    package = PEERS / "portkey/node_modules/@portkey-ai/gateway/package.json"
    if package.exists():
        found["portkey"] = json.loads(package.read_text())["version"]
    if (PEERS / "litellm/bin/pip").exists():
        found["litellm"] = run(
            [
                str(PEERS / "litellm/bin/python"),
                "-c",
                "import importlib.metadata as m; print(m.version('litellm'))",
            ]
        )
    return found


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / (1 << 20)
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, {platform.system()} {platform.release()}"


# --- the report -------------------------------------------------------------------------------


def report(
    results: dict[str, dict[str, Any]], many: dict[str, dict[str, Any]], seconds: float, pace_ms: float
) -> str:
    direct = results.get("direct", {})

    def added(name: str, cell: str, key: str) -> str:
        if cell not in results[name] or cell not in direct:
            return "-"
        return f"{results[name][cell][key] - direct[cell][key]:+.2f}"

    def value(name: str, cell: str, key: str, form: str = "{:.0f}") -> str:
        item = results[name].get(cell)
        return form.format(item[key]) if item and item.get(key) is not None else "-"

    lines = [
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        f"Versions: {json.dumps(versions())}.",
        f"wrk -t1 closed loop, {seconds:g} s per cell, load generator on the same cores. "
        "Added = target minus direct at the same connections.",
        "",
        "| target | +p50 c=1 ms | +p99 c=1 ms | +p50 c=16 | +p99 c=16 | +p50 c=64 | +p99 c=64 "
        "| req/s c=16 | req/s c=64 | CPU ms/req c=16 | SSE streams/s c=16 | +TTFT ms "
        "| RSS idle→loaded MB | errors |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, result in results.items():
        ttft = "-"
        baseline = direct.get("paced-anthropic" if name == "mr-o2a" else "paced")
        if "paced" in result and baseline and result["paced"]["ttft_p50_ms"] is not None:
            ttft = f"{result['paced']['ttft_p50_ms'] - baseline['ttft_p50_ms']:+.2f}"
        errors = sum(int(result[c]["errors"]) for c in ("chat1", "chat16", "chat64", "stream") if c in result)
        lines.append(
            f"| {name} | {added(name, 'chat1', 'p50_ms')} | {added(name, 'chat1', 'p99_ms')} "
            f"| {added(name, 'chat16', 'p50_ms')} | {added(name, 'chat16', 'p99_ms')} "
            f"| {added(name, 'chat64', 'p50_ms')} | {added(name, 'chat64', 'p99_ms')} "
            f"| {value(name, 'chat16', 'rps')} | {value(name, 'chat64', 'rps')} "
            f"| {value(name, 'chat16', 'cpu_ms', '{:.3f}')} | {value(name, 'stream', 'rps')} | {ttft} "
            f"| {result['rss_idle']:.0f}→{result['rss_loaded']:.0f} | {errors} |"
        )
    if many:
        lines += [
            "",
            f"{MANY_STREAMS} concurrent streams, one chunk every {pace_ms:.0f} ms each "
            f"({SLOW_CHUNKS} chunks), one worker:",
            "",
            "| target | streams ok | errors | gap p50 ms | gap p99 ms | gap max ms | added gap p99 ms "
            "| once all open: gaps | p99 ms | added p99 ms | RSS peak MB |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]

        def more(m: dict[str, Any], key: str) -> str:
            base = many.get("direct", {}).get(key)
            return f"{m[key] - base:+.2f}" if base is not None and m.get(key) is not None else "-"

        for name, m in many.items():
            steady = m.get("steady_gap_p99_ms")
            lines.append(
                f"| {name} | {m['ok']} | {m['errors']} | {m['gap_p50_ms']:.2f} | {m['gap_p99_ms']:.2f} "
                f"| {m['gap_max_ms']:.2f} | {more(m, 'gap_p99_ms')} | {m.get('steady_gaps', 0)} "
                f"| {steady if steady is None else f'{steady:.2f}'} | {more(m, 'steady_gap_p99_ms')} "
                f"| {m['rss_peak']:.0f} |"
            )
        lines += [
            "",
            "Gaps count from each stream's first token; the ramp opens 1,000 streams a second, so "
            "until the last one is open the gateway sets up new streams while relaying the others. "
            "'Once all open' counts only gaps that began after every stream had its first token.",
        ]
    return "\n".join(lines) + "\n"


ROUND_TARGETS = ("floor", "portkey", "mr-pass", "mr-o2a", "mr-a2o", "mr-full")
"""What the interleaved pass runs at once (the issue's ratios are to the floor and to Portkey)."""


def interleaved(names: list[str], work: Path, mock: str, rounds: int, seconds: float) -> str:
    """The ratios again, from targets running at once and measured in alternating rounds.

    The table above measures one target after another over some ten minutes, while the
    host's speed can drift by a third; here each round measures every target within
    seconds of the others (peers/rounds.py), so a ratio compares programs, not moments.
    """
    from peers.rounds import Round, Subject, interleave, running  # peers.rounds imports this module

    lines = [
        "",
        f"Interleaved: {', '.join(names)} running at once, {rounds} rounds of {seconds:g} s per "
        "target at 16 connections, the order alternating; medians of the per-round ratios "
        "(lowest to highest round in brackets).",
        "",
        "| target | mode | req/s | CPU ms/req | CPU vs floor | req/s vs Portkey |",
        "|---|---|--:|--:|--:|--:|",
    ]

    def ratio(subject: Subject, reference: Subject | None, figure: Callable[[Round], float]) -> str:
        if reference is None:
            return "-"
        values = subject.ratios(reference, figure)
        return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"

    (work / "rounds").mkdir()
    (work / "rounds").chmod(0o755)
    (work / "rounds" / "logs").mkdir()
    with running(names, work / "rounds", mock) as subjects:
        by_name = {s.spec: s for s in subjects}
        for mode in ("chat", "stream"):
            for subject in subjects:
                subject.rounds = []
            print(f"== interleaved, {mode}", flush=True)
            interleave(subjects, rounds, mode, 16, seconds, work)
            for subject in subjects:
                lines.append(
                    f"| {subject.spec} | {mode} | {subject.median(lambda r: r.rps):.0f} "
                    f"| {subject.median(lambda r: r.cpu_ms):.3f} "
                    f"| {ratio(subject, by_name.get('floor'), lambda r: r.cpu_ms)} "
                    f"| {ratio(subject, by_name.get('portkey'), lambda r: r.rps)} |"
                )
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def nginx_mock(work: Path, slow_pace_s: float) -> Iterator[str]:
    port = free_port()
    config = write_config(work / "mock", port, slow_pace_s)
    process = subprocess.Popen(
        ["nginx", "-p", str(work / "mock"), "-c", str(config)],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + "/healthz", timeout=1).ok:
                    break
            time.sleep(0.05)
        yield url
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--targets", default=",".join(ALL))
    parser.add_argument(
        "--out", type=Path, default=HERE.parent / "reports" / f"{datetime.date.today()}-peers.md"
    )
    parser.add_argument("--no-many", action="store_true", help=f"skip the {MANY_STREAMS}-stream run")
    parser.add_argument(
        "--pace-ms", type=float, default=SLOW_PACE_S * 1000, help="chunk interval of the many-stream run"
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the interleaved pass (0: skip it)")
    args = parser.parse_args()
    targets = [t for t in args.targets.split(",") if t]
    unknown = set(targets) - set(ALL)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; known: {', '.join(ALL)}")
    if "direct" not in targets:
        targets.insert(0, "direct")
    install(targets)
    work = Path(tempfile.mkdtemp(prefix="mr-peers-"))
    work.chmod(0o755)  # nginx's workers run as another user and read the mock's files
    logs = work / "logs"
    logs.mkdir()
    results: dict[str, dict[str, Any]] = {}
    many: dict[str, dict[str, Any]] = {}
    with nginx_mock(work, args.pace_ms / 1000) as mock:
        for name in targets:
            print(f"== {name}", flush=True)
            target = make_target(name, work, mock)
            start(target, logs)
            try:
                wait_ready(target)
                results[name] = measure(target, work, args.seconds)
                if (
                    not args.no_many
                    and "slow" in target.modes
                    and name in ("direct", "floor", "mr-pass", "mr-full")
                ):
                    many[name] = many_streams(target, work)
            except (RuntimeError, subprocess.SubprocessError) as exc:
                print(f"  {name} failed: {exc}; its log is {logs / (name + '.log')}", flush=True)
            finally:
                stop(target.process)
        text = report(results, many, args.seconds, args.pace_ms)
        together = [name for name in ROUND_TARGETS if name in results]
        if args.rounds > 0 and len(together) > 1:
            text += interleaved(together, work, mock, args.rounds, 3)
    print()
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        f"# modelrouter beside its peers, {datetime.date.today()}\n\n"
        f"`python bench/peers/run.py --seconds {args.seconds:g} --pace-ms {args.pace_ms:g} "
        f"--rounds {args.rounds}`\n\n{text}"
    )
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
