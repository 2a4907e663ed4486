"""The command line as users and scripts drive it: SPEC section 2 shapes, tables, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from modelrouter.catalog import bundled_providers
from modelrouter.catalog.records import TERM_NAMES
from modelrouter.cli import cli
from modelrouter.cli.route_cmd import parse_requirements
from modelrouter.errors import BadRequest
from tests.catalog.test_catalog_data import SEED_MODELS, SPEC_PROVIDERS


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials and no config file, whatever the machine running the tests has."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELROUTER_CONFIG", raising=False)
    for provider in bundled_providers():
        for alternative in provider.credentials:
            for _, env in alternative:
                monkeypatch.delenv(env, raising=False)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_json(*args: str) -> Any:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return orjson.loads(result.output)


def test_models_json_has_the_spec_shape() -> None:
    models = {m["id"]: m for m in run_json("models")}
    assert set(models) >= SEED_MODELS
    sonnet = models["claude-sonnet-4.5"]
    spec_fields = {
        "id",
        "maker",
        "aliases",
        "strengths",
        "context_window",
        "max_output",
        "modalities",
        "tools",
    }
    assert spec_fields | {"reasoning", "lifecycle", "providers"} <= set(sonnet)
    assert sonnet["providers"] == ["anthropic", "bedrock", "openrouter", "vertex"]
    assert sonnet["lifecycle"]["retires_on"] == "2026-11-30"
    assert sonnet["lifecycle"]["replacement"] == "claude-sonnet-5.5"
    assert models["grok-4.1"]["lifecycle"]["status"] == "retired"


def test_providers_json_has_every_term_with_its_source() -> None:
    providers = {p["id"]: p for p in run_json("providers")}
    assert set(providers) == SPEC_PROVIDERS
    for provider in providers.values():
        assert {"id", "name", "kind", "terms", "offerings"} <= set(provider)
        for name in TERM_NAMES:
            term = provider["terms"][name]
            assert {"value", "source", "as_of", "confidence"} <= set(term)
            if term["value"] is not None:
                assert term["source"].startswith("http") and term["as_of"], (provider["id"], name)
    anthropic = providers["anthropic"]["terms"]
    assert anthropic["retention_days"]["value"] == 30
    assert anthropic["jurisdiction"]["value"] == {
        "default": "US-CA",
        "by_customer": {"EEA": "IE", "CH": "IE", "GB": "IE"},
    }
    assert providers["bedrock"]["terms"]["retention_days"]["value"] is None
    assert providers["bedrock"]["offerings"] == 18


def test_prices_are_cheapest_input_first_with_cache_prices() -> None:
    rows = run_json("prices")
    inputs = [r["price"]["input"] for r in rows]
    assert inputs == sorted(inputs)
    assert {"model", "provider", "offering", "provider_model", "region", "price"} <= set(rows[0])
    sonnet = {r["offering"]: r for r in run_json("prices", "claude-sonnet-4.5")}
    assert set(sonnet) >= {
        "claude-sonnet-4.5@anthropic",
        "claude-sonnet-4.5@bedrock:eu",
        "claude-sonnet-4.5@vertex",
    }
    assert sonnet["claude-sonnet-4.5@bedrock:eu"]["price"] == {
        "input": 3.3,
        "output": 16.5,
        "cache_read": 0.33,
        "cache_write": 4.125,
        "cache_write_1h": 6.6,
    }
    assert all(r["model"] == "claude-sonnet-4.5" for r in sonnet.values())


def test_route_with_eu_residency() -> None:
    decision = run_json("route", "claude-sonnet-5.5", "--require", "residency=EU")
    assert decision["model"] == "claude-sonnet-5.5"
    assert decision["policy"]["residency"] == ["EU"]
    candidates = [c["offering"] for c in decision["candidates"]]
    assert candidates == ["claude-sonnet-5.5@bedrock:eu", "claude-sonnet-5.5@vertex:eu"]
    first = decision["candidates"][0]
    assert {"provider", "offering", "provider_model", "region", "price", "score"} <= set(first)
    assert first["price"] == {"input": 2.2, "output": 11.0}
    assert first["ready"] is False and "AWS_ACCESS_KEY_ID" in first["not_ready"][0]
    rejected = {r["offering"]: r for r in decision["rejected"]}
    assert rejected["claude-sonnet-5.5@anthropic"]["provider"] == "anthropic"
    assert rejected["claude-sonnet-5.5@anthropic"]["reasons"] == [
        "residency: global gives no residency guarantee; policy requires EU"
    ]


def test_route_takes_dotted_requirements_and_a_named_policy(tmp_path: Path) -> None:
    config = tmp_path / "mr.yaml"
    config.write_text("policies:\n  no-china: {jurisdiction: {deny: [CN]}}\n")
    decision = run_json(
        "route",
        "deepseek-v4-flash",
        "--config",
        str(config),
        "--policy",
        "no-china",
        "--require",
        "max_retention_days=0",
        "--require",
        "providers.ignore=openrouter",
    )
    assert decision["policy"]["jurisdiction"] == {"deny": ["CN"]}
    assert decision["policy"]["max_retention_days"] == 0
    rejected = {r["offering"]: r["reasons"] for r in decision["rejected"]}
    assert rejected["deepseek-v4-flash@deepseek:cn"][0] == "jurisdiction: CN is denied"
    assert rejected["deepseek-v4-flash@openrouter"] == [
        "provider openrouter is in providers.ignore",
        "retention unknown (OpenRouter's own prompt logging is an account setting;"
        " upstream retention depends on the endpoint chosen.); policy allows at most 0 days",
    ]


def test_route_reports_substitution_and_context_fit() -> None:
    decision = run_json("route", "gemini-3-pro", "--input-tokens", "2000000")
    assert decision["substituted"] == {"from": "gemini-3-pro", "to": "gemini-3.1-pro"}
    assert decision["candidates"] == []
    assert all(
        r["reasons"][0].startswith("context: 2,000,000 input tokens exceed") for r in decision["rejected"]
    )


def test_parse_requirements() -> None:
    assert parse_requirements(
        [
            "jurisdiction.deny=CN",
            "jurisdiction.deny=RU",
            "max_retention_days=0",
            "residency=EU,US",
            "max_price.input=3",
        ]
    ) == {
        "jurisdiction": {"deny": ["CN", "RU"]},
        "max_retention_days": "0",
        "residency": ["EU", "US"],
        "max_price": {"input": "3"},
    }
    with pytest.raises(BadRequest, match="--require takes KEY=VALUE"):
        parse_requirements(["residency"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("route", "no-such-model"), "error: unknown model 'no-such-model'"),
        (("route", "gpt-5.2", "--require", "residncy=EU"), "error: unknown policy key(s) residncy"),
        (("route", "gpt-5.2", "--policy", "nope"), "error: unknown policy 'nope'"),
        (
            ("route", "grok-4.1", "--require", "allow_substitution=false"),
            "error: grok-4.1 was retired on 2026-05-15",
        ),
        (("models", "--config", "missing.yaml"), "error: cannot read config file missing.yaml"),
    ],
)
def test_errors_are_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "modelrouter", *args], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_tables_are_readable() -> None:
    result = run("route", "claude-sonnet-5.5", "--require", "residency=EU")
    assert result.exit_code == 0
    assert "Candidates, in the order they would be tried" in result.output
    assert "claude-sonnet-5.5@bedrock:eu" in result.output
    assert "residency: global gives no residency guarantee; policy requires EU" in result.output
    for command in ("models", "providers", "prices"):
        assert run(command).exit_code == 0


def test_check_names_what_to_configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    config = tmp_path / "mr.yaml"
    config.write_text(
        "policies:\n  eu: {residency: [EU]}\n  us-cheap: {residency: [US], max_price: {input: 2}}\n"
    )
    report = run_json("check", "--config", str(config))
    providers = {p["id"]: p for p in report["providers"]}
    assert providers["openai"] == {"id": "openai", "credentials": True, "hint": None}
    assert (
        providers["anthropic"]["hint"]
        == "set ANTHROPIC_API_KEY (or providers.anthropic.api_key in modelrouter.yaml)"
    )
    policies = {p["name"]: p for p in report["policies"]}
    assert policies["(default)"]["ready_models"] == ["gpt-5.2"]
    assert policies["eu"]["met"] is False
    assert policies["us-cheap"]["met"] is False
    assert "sk-test-not-a-real-key" not in orjson.dumps(report).decode()


def test_operator_statements_are_marked_in_every_listing(tmp_path: Path) -> None:
    config = tmp_path / "mr.yaml"
    config.write_text(
        "providers:\n"
        "  bedrock:\n"
        "    terms: {retention_days: {value: 0, note: data_retention_mode=none}}\n"
        "    offerings:\n"
        "      - {model: claude-sonnet-4.5, provider_model: my-profile, region: eu, variant: ours,\n"
        "         price: {input: 3, output: 15, source: our contract, as_of: 2026-11-01}}\n"
        "  local: {kind: openai-compatible, base_url: 'http://127.0.0.1:11434/v1', models: [llama3.2]}\n"
    )
    providers = {p["id"]: p for p in run_json("providers", "--config", str(config))}
    retention = providers["bedrock"]["terms"]["retention_days"]
    assert (retention["value"], retention["origin"], retention["source"]) == (
        0,
        "operator",
        f"operator config {config}",
    )
    assert providers["local"]["origin"] == "operator" and providers["local"]["kind"] == "custom"
    prices = {p["offering"]: p for p in run_json("prices", "claude-sonnet-4.5", "--config", str(config))}
    assert prices["claude-sonnet-4.5@bedrock:eu#ours"]["origin"] == "operator"
    assert prices["claude-sonnet-4.5@bedrock:eu#ours"]["source"] == "our contract"
    models = {m["id"]: m for m in run_json("models", "--config", str(config))}
    assert models["llama3.2"]["origin"] == "operator"
    table_output = run("providers", "--config", str(config)).output
    assert "0*" in table_output


@pytest.mark.parametrize("command", ["models", "providers", "prices", "route", "check", "serve"])
def test_help_keeps_its_example_lines(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    examples = result.output.split("Example usage:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert examples and all(line.startswith("    modelrouter ") for line in examples), result.output
