"""OpenAI, Azure and the OpenAI-compatible providers (xAI, DeepSeek, OpenRouter, local servers)."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from modelrouter.errors import ConfigError, ContentFiltered, UpstreamAuthError, UpstreamRateLimited
from tests.providers.support import CANARY, adapters, built, entry, hello


def test_openai_url_bearer_and_organization_headers() -> None:
    engine, providers = adapters(
        "providers: {openai: {organization: org-1, project: proj-2}}", env={"OPENAI_API_KEY": CANARY}
    )
    call = asyncio.run(built(providers["openai"], entry(engine, "gpt-5.2@openai")))
    assert call.url == "https://api.openai.com/v1/chat/completions"
    assert call.headers["authorization"] == f"Bearer {CANARY}"
    assert call.headers["openai-organization"] == "org-1"
    assert call.headers["openai-project"] == "proj-2"
    assert orjson.loads(call.body)["model"] == "gpt-5.2"
    assert CANARY not in repr(call) and CANARY not in repr(providers["openai"])


def test_a_base_url_override_reaches_a_local_fake() -> None:
    engine, providers = adapters(
        "providers: {openai: {base_url: 'http://127.0.0.1:9999/v1/'}}", env={"OPENAI_API_KEY": "k"}
    )
    call = asyncio.run(built(providers["openai"], entry(engine, "gpt-5.2@openai"), stream=True))
    assert call.url == "http://127.0.0.1:9999/v1/chat/completions"
    assert call.headers["accept"] == "text/event-stream"
    assert orjson.loads(call.body)["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("offering", "env", "url", "model"),
    [
        ("grok-4.3@xai", {"XAI_API_KEY": "xai-k"}, "https://api.x.ai/v1/chat/completions", "grok-4.3"),
        (
            "deepseek-v4-flash@deepseek:cn",
            {"DEEPSEEK_API_KEY": "d"},
            "https://api.deepseek.com/chat/completions",
            "deepseek-v4-flash",
        ),
        (
            "gpt-5.2@openrouter",
            {"OPENROUTER_API_KEY": "o"},
            "https://openrouter.ai/api/v1/chat/completions",
            "openai/gpt-5.2",
        ),
    ],
)
def test_openai_compatible_providers_are_catalog_data(
    offering: str, env: dict[str, str], url: str, model: str
) -> None:
    engine, providers = adapters(env=env)
    target = entry(engine, offering)
    call = asyncio.run(built(providers[target.provider.id], target))
    assert type(providers[target.provider.id]).__name__ == "OpenAICompatible"
    assert (call.url, orjson.loads(call.body)["model"]) == (url, model)
    assert call.headers["authorization"] == f"Bearer {next(iter(env.values()))}"


def test_deepseek_gets_max_tokens_and_openrouter_gets_reasoning_details() -> None:
    engine, providers = adapters()
    deepseek = entry(engine, "deepseek-v4-flash@deepseek:cn")
    assert orjson.loads(providers["deepseek"].encode(hello(), deepseek))["max_tokens"] == 64
    openai_body = orjson.loads(providers["openai"].encode(hello(), entry(engine, "gpt-5.2@openai")))
    assert openai_body["max_completion_tokens"] == 64


def test_a_local_server_needs_no_key_and_sends_none() -> None:
    engine, providers = adapters(
        "providers: {local: {kind: openai-compatible, base_url: 'http://127.0.0.1:11434/v1',"
        " models: [llama3.2]}}"
    )
    call = asyncio.run(built(providers["local"], entry(engine, "llama3.2@local:local")))
    assert call.url == "http://127.0.0.1:11434/v1/chat/completions"
    assert "authorization" not in call.headers


def test_extra_headers_from_the_config() -> None:
    engine, providers = adapters(
        "providers: {openrouter: {headers: {HTTP-Referer: 'https://example.org', X-Title: demo}}}",
        env={"OPENROUTER_API_KEY": "o"},
    )
    call = asyncio.run(built(providers["openrouter"], entry(engine, "gpt-5.2@openrouter")))
    assert (call.headers["http-referer"], call.headers["x-title"]) == ("https://example.org", "demo")


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest",
        "http://[fd00:ec2::254]/",
        "http://metadata.google.internal/v1",
        "http://169.254.1.1/",
    ],
)
def test_metadata_and_link_local_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="cloud metadata or link-local"):
        adapters(f"providers: {{openai: {{base_url: '{url}'}}}}")
    adapters(f"providers: {{openai: {{base_url: '{url}', allow_private_base_url: true}}}}")


def test_azure_classic_deployment_url_and_api_key() -> None:
    engine, providers = adapters(
        "providers: {azure: {endpoint: 'https://res.openai.azure.com/', api_version: '2024-10-21',"
        " deployments: {gpt-5.2: my-gpt52}}}",
        env={"AZURE_OPENAI_API_KEY": CANARY},
    )
    call = asyncio.run(built(providers["azure"], entry(engine, "gpt-5.2@azure:eu")))
    assert (
        call.url
        == "https://res.openai.azure.com/openai/deployments/my-gpt52/chat/completions?api-version=2024-10-21"
    )
    assert call.headers["api-key"] == CANARY
    assert "authorization" not in call.headers


def test_azure_v1_url_with_an_entra_token() -> None:
    engine, providers = adapters(
        env={"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "AZURE_OPENAI_AD_TOKEN": "entra-token"}
    )
    call = asyncio.run(built(providers["azure"], entry(engine, "gpt-5.2@azure")))
    assert call.url == "https://res.openai.azure.com/openai/v1/chat/completions"
    assert call.headers["authorization"] == "Bearer entra-token"
    assert orjson.loads(call.body)["model"] == "gpt-5.2"


def test_errors_are_classified_with_provider_and_offering() -> None:
    engine, providers = adapters()
    target = entry(engine, "gpt-5.2@azure")
    body = orjson.dumps(
        {"error": {"message": "filtered", "type": None, "code": "content_filter", "param": "prompt"}}
    )
    error = providers["azure"].classify(400, {}, body, target)
    assert isinstance(error, ContentFiltered)
    assert (error.provider, error.offering, error.upstream_status) == ("azure", "gpt-5.2@azure", 400)
    limited = providers["openai"].classify(
        429, {"retry-after": "7"}, b'{"error":{"message":"slow down"}}', target
    )
    assert isinstance(limited, UpstreamRateLimited) and limited.retry_after == 7
    xai = entry(engine, "grok-4.3@xai")
    bad_key = orjson.dumps(
        {"code": "Client specified an invalid argument", "error": f"Incorrect API key provided: {CANARY}"}
    )
    auth = providers["xai"].classify(400, {}, bad_key, xai)
    assert isinstance(auth, UpstreamAuthError)
    assert CANARY not in auth.message
