"""Claude Code itself, pointed at the gateway, answered by any provider (the real agent, from npm).

`scripts/install-agents` puts it in ./.agents (`.ci/run` does so); without it these tests skip
and say why. The fake answers in text (the agent's loop then ends after one model turn), or,
asked to, calls one of the agent's own tools, which the agent runs before it asks again.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.fakes import TOOL_PHRASE, FakeUpstream
from tests.gateway.harness import RunningGateway

CLAUDE = Path(__file__).resolve().parents[2] / ".agents" / "node_modules" / ".bin" / "claude"
pytestmark = pytest.mark.skipif(
    not CLAUDE.exists(), reason=f"Claude Code is not installed at {CLAUDE}: run scripts/install-agents"
)


def _claude(
    gateway: RunningGateway, home: Path, prompt: str, model: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """`claude -p PROMPT --model MODEL` against the gateway, HOME in `home`, telemetry off."""
    env = {
        **os.environ,
        "ANTHROPIC_BASE_URL": gateway.url,
        "ANTHROPIC_API_KEY": "sk-ant-for-the-gateway",
        "HOME": str(home),
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    return subprocess.run(
        [str(CLAUDE), "-p", prompt, "--model", model],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_claude_code_runs_its_read_tool_for_a_model_on_azure(
    gateway: RunningGateway, fake: FakeUpstream, tmp_path: Path
) -> None:
    """A real tool loop, translated both ways.

    The model (GPT-5.2 on Azure, OpenAI protocol) asks Claude Code to read a file; Claude Code
    reads it and sends the result back; the model answers from it.
    """
    notes = tmp_path / "notes.txt"
    notes.write_text("the secret word is pineapple\n")
    prompt = f'{TOOL_PHRASE}Read with {{"file_path": "{notes}"}}'
    run = _claude(gateway, tmp_path, prompt, "gpt-5.2@azure")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "fake azure saw the tool result" in run.stdout and "pineapple" in run.stdout, run.stdout
    loop = [r for r in fake.requests if r.label == "azure" and TOOL_PHRASE in str(r.body)]
    assert len(loop) >= 2, "the tool call went out, then the tool result came back"
    sent_back = loop[-1].body["messages"][-1]
    assert sent_back["role"] == "tool" and "pineapple" in str(sent_back["content"])
    assert any(t["function"]["name"] == "Read" for t in loop[0].body["tools"])


@pytest.mark.parametrize(
    ("model", "label"),
    [
        ("claude-sonnet-5.5@anthropic", "anthropic"),
        ("gpt-5.2@azure", "azure"),
        ("gemini-3.1-pro@google", "google"),
        ("claude-sonnet-5.5@bedrock:eu", "bedrock-eu-central-1"),
    ],
)
def test_claude_code_runs_on_any_provider(
    gateway: RunningGateway, fake: FakeUpstream, tmp_path: Path, model: str, label: str
) -> None:
    fake.answer_without_tools()
    run = _claude(gateway, tmp_path, "say hello", model, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith(f"fake {label} answer to: ") and "say hello" in run.stdout
    asked = [r for r in fake.requests if r.label == label]
    assert asked, "the agent's request reached the provider the model was pinned to"
    assert {r.label for r in fake.requests} == {label}
