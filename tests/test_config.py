"""The operator's config: validation with clear errors, env: values, and catalog additions."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelrouter.config import Config, load_config, parse_config, resolve
from modelrouter.errors import ConfigError
from tests.conftest import make_engine

SPEC_EXAMPLE = """
server:  {host: 127.0.0.1, port: 4000, workers: 1, master_key: env:MODELROUTER_MASTER_KEY}
store:   sqlite:///./modelrouter.db
state:   memory
providers:
  anthropic: {api_key: env:ANTHROPIC_API_KEY, base_url: https://api.anthropic.com}
  bedrock:   {regions: [eu-central-1], access_key_id: env:AWS_ACCESS_KEY_ID,
              secret_access_key: env:AWS_SECRET_ACCESS_KEY}
  vertex:    {project: env:GOOGLE_CLOUD_PROJECT, regions: [europe-west4, global],
              credentials: /path/service-account.json}
  azure:     {endpoint: env:AZURE_OPENAI_ENDPOINT, api_key: env:AZURE_OPENAI_API_KEY,
              deployments: {gpt-5.2: my-gpt52}}
  local:     {kind: openai-compatible, base_url: http://127.0.0.1:11434/v1, models: [llama3.2]}
policies:
  eu-private: {residency: [EU], max_retention_days: 0, training: false}
default_policy: null
timeouts: {connect: 5, first_byte: 60, idle: 60, total: 600}
limits:   {max_body_mb: 20, max_json_depth: 64}
aliases:  {claude-haiku-4-5: deepseek-v4-flash}
"""


def test_no_file_means_embedded_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELROUTER_CONFIG", raising=False)
    config = load_config()
    assert config == Config()
    assert (config.server.host, config.server.port, config.store, config.state) == (
        "127.0.0.1",
        4000,
        "sqlite:///./modelrouter.db",
        "memory",
    )


def test_lookup_order_is_flag_then_env_then_local_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "modelrouter.yaml").write_text("server: {port: 1111}\n")
    (tmp_path / "env.yaml").write_text("server: {port: 2222}\n")
    (tmp_path / "flag.yaml").write_text("server: {port: 3333}\n")
    monkeypatch.delenv("MODELROUTER_CONFIG", raising=False)
    assert load_config().server.port == 1111
    monkeypatch.setenv("MODELROUTER_CONFIG", str(tmp_path / "env.yaml"))
    assert load_config().server.port == 2222
    assert load_config(tmp_path / "flag.yaml").server.port == 3333


def test_the_spec_example_parses_and_builds_a_catalog() -> None:
    engine = make_engine(SPEC_EXAMPLE)
    assert engine.policies["eu-private"].max_retention_days == 0
    local = engine.catalog.providers["local"]
    assert (local.kind, local.protocol, local.origin, local.base_url) == (
        "custom",
        "openai_chat",
        "operator",
        "http://127.0.0.1:11434/v1",
    )
    decision = engine.route("llama3.2")
    assert [c.entry.id for c in decision.candidates] == ["llama3.2@local:local"]
    assert decision.candidates[0].ready
    azure = {
        e.id: e.offering.provider_model
        for e in engine.catalog.by_model["gpt-5.2"]
        if e.provider.id == "azure"
    }
    assert set(azure.values()) == {"my-gpt52"}
    priced = [e.price for e in engine.catalog.by_model["gpt-5.2"] if e.provider.id == "azure"]
    assert all(p is not None for p in priced), "renaming the deployment must keep the price"


def test_env_values_are_read_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MR_TEST_KEY", "sk-test")
    assert resolve("env:MR_TEST_KEY") == "sk-test"
    monkeypatch.delenv("MR_TEST_KEY")
    assert resolve("env:MR_TEST_KEY") is None
    assert resolve("plain") == "plain"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("polices: {}", "polices: Extra inputs are not permitted"),
        ("server: {port: many}", "server.port: Input should be a valid integer"),
        ("providers: {anthropic: {api_kye: x}}", "providers.anthropic: unknown key(s) api_kye"),
        ("default_policy: strict", "default_policy 'strict' is not defined under policies"),
        ("[1, 2]", "must be a mapping of settings, not list"),
        ("server: {port: [", "is not valid YAML"),
    ],
)
def test_bad_config_names_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "test.yaml")
    assert message in caught.value.message
    assert caught.value.message.startswith("test.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("providers: {mine: {base_url: http://x}}", "providers.mine is not a known provider"),
        ("providers: {mine: {kind: openai-compatible}}", "providers.mine needs a base_url"),
        ("policies: {p: {residency: 5}}", "policies.p: residency must be a name or a list of names"),
        ("providers: {bedrock: {terms: {retention: 0}}}", "unknown term(s) ['retention']"),
        (
            "providers: {bedrock: {offerings: [{model: gpt-9, provider_model: x, region: eu}]}}",
            "offers unknown model 'gpt-9'",
        ),
        (
            "providers: {bedrock: {offerings: [{model: gpt-5.2, provider_model: x, region: mars}]}}",
            "region 'mars', which provider bedrock does not list",
        ),
    ],
)
def test_bad_catalog_additions_are_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_engine(text)
    assert message in caught.value.message


def test_operator_offerings_and_models_are_marked_operator() -> None:
    engine = make_engine(
        """
models:
  - {id: qwen3-coder, name: Qwen3 Coder, context_window: 262144, tools: true}
providers:
  local: {kind: openai-compatible, base_url: "http://127.0.0.1:8000/v1", geo: EU,
          models: [qwen3-coder, claude-sonnet-4-5]}
  bedrock:
    offerings:
      - model: claude-sonnet-4.5
        provider_model: "arn:aws:bedrock:eu-central-1:1:application-inference-profile/x"
        region: eu
        variant: ours
        price: {input: 3.3, output: 16.5, source: "our AWS contract", as_of: 2026-11-01}
"""
    )
    qwen = engine.catalog.models["qwen3-coder"]
    assert (qwen.origin, qwen.context_window, qwen.tools, qwen.json_schema) == (
        "operator",
        262144,
        True,
        None,
    )
    local = {e.model.id: e for e in engine.catalog.entries if e.provider.id == "local"}
    assert set(local) == {"qwen3-coder", "claude-sonnet-4.5"}
    assert local["claude-sonnet-4.5"].offering.provider_model == "claude-sonnet-4-5"
    assert local["qwen3-coder"].terms["residency"].value == "EU"
    arn = [e for e in engine.catalog.entries if e.offering.provider_model.startswith("arn:")]
    assert [e.id for e in arn] == ["claude-sonnet-4.5@bedrock:eu#ours"]
    assert arn[0].offering.origin == "operator"
    assert arn[0].price is not None and arn[0].price.origin == "operator"
    decision = engine.route("claude-sonnet-4.5", {"residency": ["EU"]})
    assert "claude-sonnet-4.5@local:local" in [c.entry.id for c in decision.candidates]


def test_two_offerings_with_one_id_need_a_variant() -> None:
    with pytest.raises(ConfigError, match=r"claude-sonnet-4\.5@bedrock:eu is listed twice; give one of them"):
        make_engine(
            "providers: {bedrock: {offerings: [{model: claude-sonnet-4.5, provider_model: x, region: eu}]}}"
        )


def test_disabling_a_provider_removes_its_offerings() -> None:
    engine = make_engine("providers: {openrouter: {enabled: false}}")
    assert "openrouter" not in engine.catalog.providers
    assert all(e.provider.id != "openrouter" for e in engine.catalog.entries)
