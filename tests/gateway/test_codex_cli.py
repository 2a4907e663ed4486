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

from tests.fakes import FakeUpstream
from tests.gateway.harness import RunningGateway

CODEX = Path(__file__).resolve().parents[2] / ".agents" / "node_modules" / ".bin" / "codex"
pytestmark = pytest.mark.skipif(
    not CODEX.exists(), reason=f"Codex CLI is not installed at {CODEX}: run scripts/install-agents"
)


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
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    (home / ".codex" / "config.toml").write_text(
        f'model = "{model}"\nmodel_provider = "modelrouter"\n\n'
        f'[model_providers.modelrouter]\nname = "modelrouter"\nbase_url = "{gateway.url}/v1"\n'
        'env_key = "MODELROUTER_KEY"\nwire_api = "responses"\n'
    )
    env = {**os.environ, "HOME": str(home), "CODEX_HOME": str(home / ".codex"), "MODELROUTER_KEY": "unused"}
    run = subprocess.run(
        [str(CODEX), "exec", "--skip-git-repo-check", "say hello"],
        env=env,
        cwd=home,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"fake {label} answer to:" in run.stdout and "say hello" in run.stdout
    assert {r.label for r in fake.requests} == {label}
    sent_tools = fake.requests[-1].body.get("tools") or fake.requests[-1].body.get("toolConfig")
    assert sent_tools, "Codex's function tools reached the provider"
