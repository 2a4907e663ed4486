"""Codex CLI itself (the Responses API client, from npm) through the gateway to any provider.

`scripts/install-agents` puts it in ./.agents (`.ci/run` does so); without it these tests skip
and say why. Codex sends function tools, a namespace of tools and OpenAI's built-in web search:
the gateway flattens the first, drops the last, and translates the rest for each provider.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.fakes import TOOL_PHRASE, FakeUpstream
from tests.gateway.harness import RunningGateway

CODEX = Path(__file__).resolve().parents[2] / ".agents" / "node_modules" / ".bin" / "codex"
pytestmark = pytest.mark.skipif(
    not CODEX.exists(), reason=f"Codex CLI is not installed at {CODEX}: run scripts/install-agents"
)


def _codex(gateway: RunningGateway, home: Path, model: str, prompt: str) -> subprocess.CompletedProcess[str]:
    (home / ".codex").mkdir(parents=True, exist_ok=True)
    (home / ".codex" / "config.toml").write_text(
        f'model = "{model}"\nmodel_provider = "modelrouter"\n\n'
        f'[model_providers.modelrouter]\nname = "modelrouter"\nbase_url = "{gateway.url}/v1"\n'
        'env_key = "MODELROUTER_KEY"\nwire_api = "responses"\n'
    )
    env = {**os.environ, "HOME": str(home), "CODEX_HOME": str(home / ".codex"), "MODELROUTER_KEY": "unused"}
    return subprocess.run(
        [str(CODEX), "exec", "--skip-git-repo-check", prompt],
        env=env,
        cwd=home,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_codex_runs_a_command_for_claude_on_anthropic(
    gateway: RunningGateway, fake: FakeUpstream, tmp_path: Path
) -> None:
    """A real tool loop, translated both ways (Responses API to Anthropic Messages and back).

    Claude asks Codex to run a shell command; Codex runs it and sends the output back as a
    function call output; Claude (the fake) answers from that output.
    """
    (tmp_path / "notes.txt").write_text("the secret word is pineapple\n")
    prompt = f'{TOOL_PHRASE}exec_command with {{"cmd": "cat notes.txt"}}'
    run = _codex(gateway, tmp_path, "claude-sonnet-5.5@anthropic", prompt)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "fake anthropic saw the tool result" in run.stdout and "pineapple" in run.stdout, run.stdout
    loop = [r for r in fake.requests if r.label == "anthropic" and TOOL_PHRASE in str(r.body)]
    assert len(loop) >= 2, "the tool call went out, then its output came back"
    results = [
        block
        for block in loop[-1].body["messages"][-1]["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result"
    ]
    assert results and "pineapple" in str(results[0]["content"])


@pytest.mark.parametrize(
    ("model", "label"),
    [
        ("gpt-5.2@openai", "openai"),
        ("claude-sonnet-5.5@anthropic", "anthropic"),
        ("gemini-3.1-pro@google", "google"),
    ],
)
def test_codex_runs_on_any_provider(
    gateway: RunningGateway, fake: FakeUpstream, tmp_path: Path, model: str, label: str
) -> None:
    fake.answer_without_tools()
    run = _codex(gateway, tmp_path / "home", model, "say hello")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"fake {label} answer to:" in run.stdout and "say hello" in run.stdout
    assert {r.label for r in fake.requests} == {label}
    sent_tools = fake.requests[-1].body.get("tools") or fake.requests[-1].body.get("toolConfig")
    assert sent_tools, "Codex's function tools reached the provider"
