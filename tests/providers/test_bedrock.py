"""Bedrock: the region a profile is called from, model ids in URLs, SigV4 and API keys."""

from __future__ import annotations

import asyncio
import re

import pytest

from modelrouter.errors import ConfigError
from tests.providers.support import CANARY, adapters, entry

AWS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": CANARY}


def test_a_geographic_profile_is_called_from_a_region_of_its_geography() -> None:
    engine, providers = adapters("providers: {bedrock: {regions: [us-west-2, eu-central-1]}}", env=AWS)
    bedrock = providers["bedrock"]
    eu = bedrock.prepare(entry(engine, "claude-sonnet-4.5@bedrock:eu"), b"{}", stream=False)
    assert eu.url == (
        "https://bedrock-runtime.eu-central-1.amazonaws.com/model/"
        "eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    )
    assert eu.region == "eu-central-1"
    glob = bedrock.prepare(entry(engine, "claude-sonnet-4.5@bedrock"), b"{}", stream=True)
    assert glob.url.startswith("https://bedrock-runtime.us-west-2.amazonaws.com/model/global.")
    assert glob.url.endswith("/converse-stream")
    assert glob.headers["accept"] == "application/vnd.amazon.eventstream"
    with pytest.raises(ConfigError, match=r"cannot be invoked from providers\.bedrock\.regions"):
        bedrock.prepare(entry(engine, "claude-sonnet-4.5@bedrock:jp"), b"{}", stream=False)


def test_without_configured_regions_aws_region_or_the_profiles_home() -> None:
    engine, providers = adapters(env={**AWS, "AWS_REGION": "eu-west-1"})
    bedrock = providers["bedrock"]
    assert (
        bedrock.prepare(entry(engine, "claude-sonnet-4.5@bedrock:eu"), b"{}", stream=False).region
        == "eu-west-1"
    )
    assert (
        bedrock.prepare(entry(engine, "claude-sonnet-4.5@bedrock:us"), b"{}", stream=False).region
        == "us-east-1"
    )
    assert (
        bedrock.prepare(entry(engine, "claude-sonnet-4.5@bedrock:jp"), b"{}", stream=False).region
        == "ap-northeast-1"
    )


def test_sigv4_signs_the_final_body_and_an_overridden_host() -> None:
    engine, providers = adapters(
        "providers: {bedrock: {regions: [eu-central-1], base_url: 'http://127.0.0.1:8124'}}",
        env={**AWS, "AWS_SESSION_TOKEN": "session-token"},
    )
    bedrock = providers["bedrock"]
    target = entry(engine, "claude-sonnet-4.5@bedrock:eu")

    def signed(body: bytes) -> dict[str, str]:
        call = asyncio.run(bedrock.authorize(bedrock.prepare(target, body, stream=False)))
        assert call.url.startswith("http://127.0.0.1:8124/model/eu.anthropic.")
        return call.headers

    first, second = signed(b'{"a":1}'), signed(b'{"a":2}')
    pattern = (
        r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/eu-central-1/bedrock/aws4_request, "
        r"SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}"
    )
    assert re.fullmatch(pattern, first["authorization"]), first["authorization"]
    assert re.fullmatch(r"\d{8}T\d{6}Z", first["x-amz-date"])
    assert first["x-amz-security-token"] == "session-token"
    assert first["authorization"] != second["authorization"]  # the body is covered
    assert CANARY not in str(first)


def test_a_bedrock_api_key_is_sent_as_bearer() -> None:
    engine, providers = adapters(env={"AWS_BEARER_TOKEN_BEDROCK": CANARY})
    bedrock = providers["bedrock"]
    call = asyncio.run(
        bedrock.authorize(bedrock.prepare(entry(engine, "claude-sonnet-4.5@bedrock:us"), b"{}", stream=False))
    )
    assert call.headers["authorization"] == f"Bearer {CANARY}"
    assert "x-amz-date" not in call.headers
