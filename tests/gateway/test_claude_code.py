"""Claude Code itself, pointed at the gateway, answered by any provider (the real agent, from npm).

`scripts/install-agents` puts it in ./.agents (`.ci/run` does so); without it these tests skip
and say why. The fake answers in text, so the agent's loop ends after one model turn.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.fakes import FakeUpstream
from tests.gateway.harness import RunningGateway

CLAUDE = Path(__file__).resolve().parents[2] / ".agents" / "node_modules" / ".bin" / "claude"
pytestmark = pytest.mark.skipif(
    not CLAUDE.exists(), reason=f"Claude Code is not installed at {CLAUDE}: run scripts/install-agents"
)


@pytest.mark.parametrize(
    ("model", "label"),
    [
        ("claude-sonnet-5.5@anthropic", "anthropic"),
        ("gpt-5.2@azure", "azure"),
        ("gemini-3.1-pro@google", "google"),
        ("claude-sonnet-4.5@bedrock:eu", "bedrock-eu-central-1"),
    ],
)
def test_claude_code_runs_on_any_provider(
    gateway: RunningGateway, fake: FakeUpstream, tmp_path: Path, model: str, label: str
) -> None:
    fake.answer_without_tools()
    env = {
        **os.environ,
        "ANTHROPIC_BASE_URL": gateway.url,
        "ANTHROPIC_API_KEY": "sk-ant-for-the-gateway",
        "HOME": str(tmp_path),
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    run = subprocess.run(
        [str(CLAUDE), "-p", "say hello", "--model", model],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith(f"fake {label} answer to: ") and "say hello" in run.stdout
    asked = [r for r in fake.requests if r.label == label]
    assert asked, "the agent's request reached the provider the model was pinned to"
    assert {r.label for r in fake.requests} == {label}
