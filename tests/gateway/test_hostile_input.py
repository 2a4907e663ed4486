"""Bad input (reference/reliability.md section 6): a 4xx in the caller's dialect, never a 5xx.

Nothing is sent upstream for it. Malformed JSON, bodies larger than the limit (declared or
sent), invalid UTF-8 and lone surrogates, and model names made to escape into a provider's
URL path.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest
import requests

from tests.fakes import FakeUpstream
from tests.gateway.harness import RunningGateway

DOORS = {
    "/v1/chat/completions": "openai",
    "/v1/messages": "anthropic",
    "/v1/responses": "openai",
}


def _post(gateway: RunningGateway, path: str, body: bytes) -> requests.Response:
    headers = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
    return requests.post(gateway.url + path, data=body, headers=headers, timeout=10)


def _in_dialect(path: str, response: requests.Response) -> None:
    """A 4xx whose body is the door's own error shape."""
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])
    body = response.json()
    if DOORS[path] == "anthropic":
        assert body["type"] == "error" and body["error"]["message"]
    else:
        assert body["error"]["message"]


MALFORMED: list[bytes] = [
    b"",
    b"{",
    b'{"model": "gpt-5.2", "messages": [',
    b'{"model": "gpt-5.2"} trailing',
    b"[]",
    b'"a string"',
    b"null",
    b"42",
    b'{"model": NaN, "messages": []}',
    b'{"model": "gpt-5.2", "messages": [], "max_tokens": 1e999999}',
    b'{"model": 7, "messages": "hi"}',
    b'{"model": "gpt-5.2", "messages": [{"role": "user", "content": 12}]}',
    b'{"model": "gpt-5.2", "messages": [{"role": "wizard", "content": "hi"}]}',
    b'{"model": "gpt-5.2", "messages": [{"role": "user"}]}',
    b'{"model": "gpt-5.2", "messages": [{"role": "user", "content": "hi"}], "tools": "all"}',
    b'{"model": "gpt-5.2", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}',
    b"\xff\xfe{}",
    b'{"model": "gpt-5.2", "messages": [{"role": "user", "content": "\xc3\x28"}]}',  # invalid UTF-8
    b'{"model": "gpt-5.2", "messages": [{"role": "user", "content": "\xe0\x80\xaf"}]}',  # overlong
]


@pytest.mark.parametrize("path", list(DOORS))
def test_malformed_bodies_get_a_4xx_in_the_dialect_and_reach_no_provider(
    gateway: RunningGateway, fake: FakeUpstream, path: str
) -> None:
    for body in MALFORMED:
        _in_dialect(path, _post(gateway, path, body))
    assert fake.requests == []


@pytest.mark.parametrize("path", list(DOORS))
def test_lone_surrogates_and_nul_are_answered_or_refused_never_a_5xx(
    gateway: RunningGateway, fake: FakeUpstream, path: str
) -> None:
    for text in ('"\\ud800"', '"a\\udfffb"', '"nul \\u0000 inside"', '"\\u202eRTL override"'):
        if path == "/v1/responses":
            body = f'{{"model": "gpt-5.2@openai", "input": {text}}}'
        else:
            message = f'{{"role": "user", "content": {text}}}'
            body = f'{{"model": "gpt-5.2@openai", "max_tokens": 20, "messages": [{message}]}}'
        response = _post(gateway, path, body.encode())
        assert response.status_code < 500, (text, response.status_code, response.text[:300])
        if response.status_code != 200:
            _in_dialect(path, response)


ESCAPES = [
    "../../admin",
    "gpt-5.2/../../v1/keys",
    "%2e%2e%2fadmin",
    "gemini-3.1-pro:streamGenerateContent?alt=sse#",
    "gemini-3.1-pro@google/../x",
    "claude-sonnet-5.5@bedrock:eu/../../x",
    "gpt-5.2\r\nX-Injected: 1",
    " gpt-5.2 ",
    "gpt-5.2@",
    "@openai",
    "gpt-5.2@openai:../..",
    "a" * 5000,
]


@pytest.mark.parametrize("path", list(DOORS))
def test_model_names_cannot_escape_into_a_provider_path(
    gateway: RunningGateway, fake: FakeUpstream, path: str
) -> None:
    """Refused in the dialect, or (a name that is only padded) served on the catalog's own path."""
    answered = []
    for model in ESCAPES:
        body: dict[str, Any] = {"model": model, "max_tokens": 20}
        if path == "/v1/responses":
            body["input"] = "hi"
        else:
            body["messages"] = [{"role": "user", "content": "hi"}]
        response = _post(gateway, path, json.dumps(body).encode())
        if response.status_code == 200:
            answered.append(model)
        else:
            _in_dialect(path, response)
    assert answered == [" gpt-5.2 "], answered
    for logged in fake.requests:
        assert logged.path in SAFE_PATHS, logged.path


SAFE_PATHS = {"/openai/v1/chat/completions", "/azure/openai/deployments/gpt52-deployment/chat/completions"}


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(gateway: RunningGateway) -> None:
    """413 at once on the Content-Length alone, in the OpenAI dialect; nothing more is read."""
    host, port = gateway.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n{"
        )
        answer = b""
        while b"}}" not in answer and time.monotonic() - started < 5:
            part = sock.recv(65536)
            if not part:
                break
            answer += part
        assert time.monotonic() - started < 2
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"error"' in answer


def test_a_chunked_body_is_refused_once_it_passes_the_limit(gateway: RunningGateway) -> None:
    def chunks() -> Any:
        yield b'{"model": "gpt-5.2", "messages": [{"role": "user", "content": "'
        for _ in range(25):
            yield b"x" * (1 << 20)
        yield b'"}]}'

    response = requests.post(
        gateway.url + "/v1/chat/completions",
        data=chunks(),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413 and "max_body_mb" in response.json()["error"]["message"]
