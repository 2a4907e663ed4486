"""Runs the real `modelrouter serve` (uvicorn, its own process) for end-to-end tests.

The gateway gets a config file and environment like a user's, with every provider's base
URL aimed at the fake upstreams; tests talk to it with the official SDKs over real HTTP.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import openai
import requests
import yaml

__all__ = ["RunningGateway", "free_port", "serve_once", "start_gateway"]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningGateway:
    """A `modelrouter serve` process and where to reach it."""

    process: subprocess.Popen[bytes]
    url: str
    directory: Path
    log_path: Path
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    """SDK clients by (kind, key), closed with the gateway.

    A dropped SDK client is cyclic garbage holding a pooled socket, and the collector may
    finalize the socket before the client closes it: a ResourceWarning that fails whichever
    later test happens to be running.
    """

    def openai(self, key: str = "unused") -> openai.OpenAI:
        """The OpenAI SDK aimed at this gateway (no retries: tests count attempts)."""
        found = self.clients.get(("openai", key))
        if found is None or found.is_closed():
            found = openai.OpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0)
            self.clients["openai", key] = found
        client: openai.OpenAI = found
        return client

    def anthropic(self, key: str = "unused") -> anthropic.Anthropic:
        """The Anthropic SDK aimed at this gateway (no retries)."""
        found = self.clients.get(("anthropic", key))
        if found is None or found.is_closed():
            found = anthropic.Anthropic(base_url=self.url, api_key=key, max_retries=0)
            self.clients["anthropic", key] = found
        client: anthropic.Anthropic = found
        return client

    @property
    def log(self) -> str:
        """What the gateway printed so far (stdout and stderr)."""
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as a service manager would; the exit code."""
        for client in self.clients.values():
            client.close()
        self.clients.clear()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_gateway(
    directory: Path, config: dict[str, Any], env: dict[str, str] | None = None, module: str = "modelrouter"
) -> RunningGateway:
    """Write `config` to `directory`, start the gateway there, wait until /healthz answers.

    `module` is what `python -m` runs: another one (say `tests.fakes.network`) can set the scene
    in the gateway's process before it hands over to the CLI.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "modelrouter.yaml"
    port = free_port()
    config = {**config, "server": {"host": "127.0.0.1", "port": port, **config.get("server", {})}}
    path.write_text(yaml.safe_dump(config))
    log_path = directory / "gateway.log"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MODELROUTER_", "AWS_", "AZURE_"))}
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        clean.pop(name, None)
    if module != "modelrouter":  # a module of this repository, run from the gateway's directory
        clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), clean.get("PYTHONPATH")]))
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "serve", "--config", str(path)],
            cwd=directory,
            env={**clean, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    gateway = RunningGateway(process, f"http://127.0.0.1:{port}", directory, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the gateway exited with {process.returncode}:\n{gateway.log}")
        try:
            if requests.get(gateway.url + "/healthz", timeout=1).status_code < 600:
                return gateway
        except requests.ConnectionError:
            time.sleep(0.05)
    gateway.stop()
    raise RuntimeError(f"the gateway did not answer within 30 s:\n{gateway.log}")


def serve_once(directory: Path, config: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """`modelrouter serve` with `config`, for a config it must refuse at start (it exits)."""
    path = directory / "modelrouter.yaml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.run(
        [sys.executable, "-m", "modelrouter", "serve", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=directory,
    )
