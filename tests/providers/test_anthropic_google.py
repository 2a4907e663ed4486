"""Anthropic, the Gemini API and Vertex (Gemini and Claude): URLs, auth, bodies, tokens."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from modelrouter.errors import ConfigError, UpstreamOverloaded
from modelrouter.providers.vertex import Vertex, vertex_host
from tests.providers.support import CANARY, adapters, built, entry


def test_anthropic_uses_x_api_key_and_the_2023_version() -> None:
    engine, providers = adapters(env={"ANTHROPIC_API_KEY": CANARY})
    target = entry(engine, "claude-sonnet-4.5@anthropic")
    call = asyncio.run(built(providers["anthropic"], target, stream=True))
    assert call.url == "https://api.anthropic.com/v1/messages"
    assert call.headers["x-api-key"] == CANARY
    assert call.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in call.headers
    body = orjson.loads(call.body)
    assert (body["model"], body["stream"], body["max_tokens"]) == ("claude-sonnet-4-5-20250929", True, 64)


def test_anthropic_without_max_tokens_asks_for_the_models_maximum() -> None:
    from modelrouter import ir

    engine, providers = adapters()
    target = entry(engine, "claude-sonnet-4.5@anthropic")
    request = ir.Request(model="m", messages=[ir.Message(role="user", content=[ir.TextPart(text="hi")])])
    assert orjson.loads(providers["anthropic"].encode(request, target))["max_tokens"] == 64000


def test_gemini_api_key_goes_in_a_header_never_in_the_url() -> None:
    engine, providers = adapters(env={"GEMINI_API_KEY": CANARY})
    target = entry(engine, "gemini-3.1-pro@google")
    plain = providers["google"].prepare(target, b"{}", stream=False)
    stream = asyncio.run(
        providers["google"].authorize(providers["google"].prepare(target, b"{}", stream=True))
    )
    base = "https://generativelanguage.googleapis.com/v1beta/models/gemini-3.1-pro-preview"
    assert plain.url == base + ":generateContent"
    assert stream.url == base + ":streamGenerateContent?alt=sse"
    assert stream.headers["x-goog-api-key"] == CANARY
    assert CANARY not in stream.url


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("global", "https://aiplatform.googleapis.com"),
        ("eu", "https://aiplatform.eu.rep.googleapis.com"),
        ("us", "https://aiplatform.us.rep.googleapis.com"),
        ("europe-west1", "https://europe-west1-aiplatform.googleapis.com"),
    ],
)
def test_vertex_hosts_by_region(region: str, host: str) -> None:
    assert vertex_host(region) == host


def test_vertex_claude_uses_raw_predict_and_a_static_token() -> None:
    engine, providers = adapters(
        "providers: {vertex: {project: my-proj, access_token: env:VTOKEN}}", env={"VTOKEN": CANARY}
    )
    target = entry(engine, "claude-sonnet-4.5@vertex:europe-west1")
    call = asyncio.run(built(providers["vertex"], target, stream=True))
    assert call.url == (
        "https://europe-west1-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west1"
        "/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
    )
    assert call.headers["authorization"] == f"Bearer {CANARY}"
    body = orjson.loads(call.body)
    assert "model" not in body
    assert body["anthropic_version"] == "vertex-2023-10-16"


def test_vertex_gemini_url_with_a_base_url_override() -> None:
    engine, providers = adapters(
        "providers: {vertex: {project: p, access_token: t, base_url: 'http://127.0.0.1:8123'}}"
    )
    call = providers["vertex"].prepare(entry(engine, "gemini-3.1-pro@vertex"), b"{}", stream=False)
    assert call.url == (
        "http://127.0.0.1:8123/v1/projects/p/locations/global/publishers/google/models/"
        "gemini-3.1-pro-preview:generateContent"
    )


def test_vertex_without_a_project_says_how_to_fix_it() -> None:
    engine, providers = adapters("providers: {vertex: {access_token: t}}")
    with pytest.raises(ConfigError, match=r"set GOOGLE_CLOUD_PROJECT or providers\.vertex\.project"):
        providers["vertex"].prepare(entry(engine, "gemini-3.1-pro@vertex"), b"{}", stream=False)


class FakeCredentials:
    """Stands in for google-auth credentials: counts refreshes, expires when told."""

    def __init__(self) -> None:
        self.refreshes = 0
        self.token: str | None = None
        self.expiry: datetime | None = None

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.token = f"token-{self.refreshes}"
        self.expiry = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None)


def test_vertex_tokens_are_cached_until_close_to_expiry() -> None:
    _, providers = adapters("providers: {vertex: {project: p}}")
    vertex = providers["vertex"]
    assert isinstance(vertex, Vertex)
    credentials = FakeCredentials()
    vertex._credentials = credentials

    async def three_tokens() -> list[str]:
        return [await vertex.token() for _ in range(3)]

    assert asyncio.run(three_tokens()) == ["token-1", "token-1", "token-1"]
    vertex._expires = datetime.now(UTC).timestamp() + 60  # inside the five-minute margin
    assert asyncio.run(vertex.token()) == "token-2"
    assert credentials.refreshes == 2


def test_vertex_google_shaped_errors_on_claude_are_classified() -> None:
    engine, providers = adapters()
    target = entry(engine, "claude-sonnet-4.5@vertex")
    body = orjson.dumps({"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}})
    error = providers["vertex"].classify(429, {}, body, target)
    assert error.status == 429 and error.retryable
    overloaded = providers["anthropic"].classify(
        529, {}, b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', target
    )
    assert isinstance(overloaded, UpstreamOverloaded)
