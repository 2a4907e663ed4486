"""The README's quick-start runs as written against a real gateway (aimed at the fakes)."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fakes import FakeUpstream
from tests.gateway.harness import RunningGateway

README = Path(__file__).resolve().parents[2] / "README.md"
QUICK_START = README.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]


def test_the_python_examples_run(gateway: RunningGateway, fake: FakeUpstream) -> None:
    blocks = re.findall(r"```python\n(.*?)```", QUICK_START, flags=re.S)
    assert len(blocks) == 2
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(block.replace("http://127.0.0.1:4000", gateway.url), {})
    lines = printed.getvalue().splitlines()
    assert (
        lines[0] == "fake vertex answer to: Hello" or lines[0] == "fake bedrock-eu-central-1 answer to: Hello"
    )
    provider, cost = lines[1].split()
    assert provider in ("vertex", "bedrock") and float(cost) > 0
    assert lines[2] == "fake openai answer to: Hi"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_curl_examples_run(gateway: RunningGateway, fake: FakeUpstream) -> None:
    block = re.findall(r"```sh\n(curl .*?)```", QUICK_START, flags=re.S)[0].replace(
        "http://127.0.0.1:4000", gateway.url
    )
    output = subprocess.run(
        ["bash", "-c", block], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    assert "fake bedrock-eu-central-1 answer" not in output  # streamed: the text comes in pieces
    assert '"finish_reason":"stop"' in output and "data: [DONE]" in output
    assert '"candidates"' in output and "modelrouter_requests_total" in output
