"""aider itself (from PyPI, in its own venv) through the gateway, on two protocols.

`scripts/install-agents` puts it in ./.agents/aider (`.ci/run` does so); without it these
tests skip and say why. aider has no function tools: the model acts through it by answering
with edit blocks, which aider applies to the files in the chat, then runs the test command and
sends any failure back to the model. That is the loop the first test drives.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.fakes import REPLY_PHRASE, FakeUpstream
from tests.gateway.harness import RunningGateway

AIDER = Path(__file__).resolve().parents[2] / ".agents" / "aider" / "bin" / "aider"
pytestmark = pytest.mark.skipif(
    not AIDER.exists(), reason=f"aider is not installed at {AIDER}: run scripts/install-agents"
)

EDIT = """notes.txt
```
<<<<<<< SEARCH
the secret word is apple
=======
the secret word is pineapple
>>>>>>> REPLACE
```
"""


def _aider(gateway: RunningGateway, home: Path, model: str, message: str, *extra: str) -> str:
    env = {
        **os.environ,
        "HOME": str(home),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no download of LiteLLM's price list
        "AIDER_ANALYTICS": "false",
        "AIDER_CHECK_UPDATE": "false",
    }
    command = [str(AIDER), "--model", f"openai/{model}", "--openai-api-base", gateway.url + "/v1"]
    command += ["--openai-api-key", "sk-for-the-gateway", "--message", message, "--yes-always"]
    command += ["--no-git", "--no-pretty", "--no-show-model-warnings", "--no-show-release-notes"]
    command += ["--analytics-disable", "--no-check-update", "--map-tokens", "0", *extra]
    run = subprocess.run(
        command, env=env, cwd=home, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_aider_applies_the_models_edit_runs_the_tests_and_sends_the_failure_back(
    gateway: RunningGateway, fake: FakeUpstream, tmp_path: Path
) -> None:
    """A real loop: the model acts through aider and hears back.

    The model (DeepSeek through OpenRouter) edits a file through aider; aider's test command
    fails on the edit, and aider sends the failure to the model, which answers from it.
    """
    notes = tmp_path / "notes.txt"
    notes.write_text("the secret word is apple\n")
    test_cmd = "grep -q pineapple notes.txt && echo 'check failed: pineapple is not allowed' && exit 1"
    out = _aider(
        gateway,
        tmp_path,
        "deepseek-v4-flash@openrouter",
        REPLY_PHRASE + json.dumps(EDIT),
        "notes.txt",
        "--edit-format",
        "diff",
        "--auto-test",
        "--test-cmd",
        test_cmd,
    )
    assert notes.read_text() == "the secret word is pineapple\n", out
    asked = [r for r in fake.requests if r.label == "openrouter"]
    assert len(asked) >= 2, out
    assert "pineapple is not allowed" in json.dumps(asked[-1].body["messages"][-1])
    assert "fake openrouter answer to:" in out and "pineapple is not allowed" in out


def test_aider_on_claude_through_the_anthropic_protocol(
    gateway: RunningGateway, fake: FakeUpstream, tmp_path: Path
) -> None:
    out = _aider(gateway, tmp_path, "claude-sonnet-5.5@anthropic", "say hello")
    assert "fake anthropic answer to:" in out and "say hello" in out
    assert {r.label for r in fake.requests} == {"anthropic"}
    assert fake.requests[-1].body["messages"][-1]["role"] == "user"
