"""A6: no secret in anything the gateway writes or answers, with every logger at DEBUG.

One `modelrouter serve --log-level debug` (its stdout and stderr captured to a file, its
ingester's too) gets canary secrets everywhere a secret goes: every provider credential, the
master key, a Redis password, a virtual key minted through the admin API, and keys no one
issued. Then the error paths run: an unknown key and a wrong master key (on /v1 and admin
routes, as `Authorization` and `x-api-key`), each provider answering 401 with the credential it
was sent quoted back (streams too, and with a fallback that succeeds), an exception inside a
request (a Vertex service-account file whose key cannot be read), Gemini-style `?key=` in the
URL, the master key on admin routes. Afterwards the log, every response body and header (but
the one body that hands out the new virtual key), /metrics, /healthz and every file the gateway
wrote (the SQLite ledger, its WAL) are searched for every canary and every 8-character run of
one: there must be none. (The virtual key's first 10 characters are its shown prefix, by design.)
A model name the caller made up never becomes a label of the public /metrics either.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from modelrouter.keys import SHOWN_PREFIX
from modelrouter.redact import MIN_RUN
from tests.fakes import FakeUpstream
from tests.gateway.conftest import providers_config
from tests.gateway.harness import RunningGateway, free_port, start_gateway

HI: Any = [{"role": "user", "content": "hello there"}]


def canary(kind: str) -> str:
    """A secret that cannot occur by chance: its kind, CANARY, and 96 random bits."""
    return f"{kind}-CANARY-{secrets.token_hex(12)}"


PROVIDER_KEYS = {
    "openai": canary("sk-openai"),
    "azure": canary("az"),
    "anthropic": canary("sk-ant"),
    "xai": canary("xai"),
    "openrouter": canary("sk-or"),
    "google": canary("AIza"),
    "bedrock": canary("aws-secret"),
}
MASTER = canary("mk")
REDIS_PASSWORD = canary("redis")
SERVICE_ACCOUNT_KEY = canary("pk")
UNKNOWN_KEY = canary("mr-unknown")
WRONG_MASTER = canary("mk-wrong")
QUERY_KEY = canary("AIza-query")
PEM = "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n"
"""A private key in a service-account file; the canary inside it cannot be loaded as one."""
PINNED = {
    "openai": "gpt-5.2@openai",
    "azure": "gpt-5.2@azure",
    "anthropic": "claude-sonnet-5.5@anthropic",
    "xai": "grok-4.3@xai",
    "openrouter": "gpt-5.2@openrouter",
    "google": "gemini-3.1-pro@google",
    "bedrock-eu-central-1": "claude-sonnet-5.5@bedrock:eu",
}
"""Fake label -> a model name pinned to that provider (no fallback hides its error)."""


@pytest.fixture(scope="module")
def gateway(fake_server: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    directory = tmp_path_factory.mktemp("a6")
    account = directory / "service-account.json"
    account.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "test-project",
                "private_key_id": "k1",
                "private_key": PEM.format(SERVICE_ACCOUNT_KEY),
                "client_email": "gateway@test-project.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": f"{fake_server.url}/token",
            }
        )
    )
    providers = providers_config(fake_server.url)
    for provider, key in PROVIDER_KEYS.items():
        providers[provider]["secret_access_key" if provider == "bedrock" else "api_key"] = key
    vertex = providers["vertex"]
    del vertex["access_token"]
    vertex["credentials"] = str(account)
    config = {
        "server": {"master_key": MASTER, "log_level": "debug"},
        "store": "sqlite:///./ledger.db",
        "state": f"redis://:{REDIS_PASSWORD}@127.0.0.1:{free_port()}/0",  # nobody there: degraded
        "providers": providers,
        "timeouts": {"connect": 2, "first_byte": 2, "idle": 2, "total": 20},
    }
    running = start_gateway(directory, config)
    yield running
    running.stop()


class Seen:
    """Everything the gateway answered, for the search at the end."""

    def __init__(self, gateway: RunningGateway) -> None:
        self.gateway = gateway
        self.texts: list[str] = []

    def call(
        self, method: str, path: str, key: str | None = None, header: str = "authorization", **kw: Any
    ) -> requests.Response:
        headers = dict(kw.pop("headers", {}))
        if key is not None:
            headers[header] = f"Bearer {key}" if header == "authorization" else key
        response = requests.request(method, self.gateway.url + path, headers=headers, timeout=30, **kw)
        self.texts.append(f"{response.status_code} {dict(response.headers)}")
        return response

    def answered(self, response: requests.Response) -> requests.Response:
        self.texts.append(response.text)
        return response

    def chat(
        self, key: str, model: str, *, door: str = "openai", stream: bool = False, query: str = ""
    ) -> requests.Response:
        if door == "openai":
            path, body = "/v1/chat/completions", {"model": model, "messages": HI, "stream": stream}
        else:
            path = "/v1/messages"
            body = {"model": model, "max_tokens": 64, "messages": HI, "stream": stream}
        return self.answered(self.call("POST", path + query, key, json=body))


def runs(secret: str, skip_prefix: int = 0) -> set[str]:
    """The secret and every run of `MIN_RUN` characters of it (past the first `skip_prefix`)."""
    return {secret} | {secret[i : i + MIN_RUN] for i in range(skip_prefix, len(secret) - MIN_RUN + 1)}


def test_no_secret_reaches_logs_answers_metrics_or_the_ledger(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    seen = Seen(gateway)

    # The admin API with the master key; the virtual key it mints is shown once, in that body only.
    created = seen.call("POST", "/admin/keys", MASTER, json={"name": "a6"})
    assert created.status_code in (200, 201), created.text
    virtual = created.json()["key"]
    for key, header in [(MASTER, "authorization"), (MASTER, "x-api-key")]:
        assert seen.answered(seen.call("GET", "/admin/keys", key, header)).status_code == 200
    assert seen.answered(seen.call("GET", "/admin/usage", MASTER)).status_code == 200

    # Keys that must be refused, and must not come back in the refusal.
    for key in (UNKNOWN_KEY, WRONG_MASTER):
        for header in ("authorization", "x-api-key"):
            body = {"model": "gpt-5.2", "messages": HI}
            refused = seen.answered(seen.call("POST", "/v1/chat/completions", key, header, json=body))
            assert refused.status_code == 401, refused.text
            admin = seen.answered(seen.call("GET", "/admin/keys", key, header))
            assert admin.status_code == 403, admin.text
    assert seen.answered(seen.call("GET", "/admin/keys", virtual)).status_code == 403

    # Traffic that works: a virtual key and the master key, both doors, streams, `?key=` in the URL.
    for key in (virtual, MASTER):
        for door, stream in [("openai", False), ("openai", True), ("anthropic", False), ("anthropic", True)]:
            model = "gpt-5.2" if door == "openai" else "claude-sonnet-5.5"
            answer = seen.chat(key, model, door=door, stream=stream, query=f"?key={QUERY_KEY}")
            assert answer.status_code == 200, answer.text
    gemini_style = seen.answered(
        seen.call(
            "POST", f"/v1beta/models/gemini-3.1-pro:generateContent?key={QUERY_KEY}", json={"contents": []}
        )
    )
    assert gemini_style.status_code == 404

    # Every provider refuses with 401 and quotes the credential it was sent (Azure's three
    # offerings share one deployment, so three refusals).
    for label, model in PINNED.items():
        for door, stream in [("openai", False), ("anthropic", True)]:
            fake.reset()
            fake.fail_next(3, status=401, label=label, echo_credentials=True)
            failed = seen.chat(virtual, model, door=door, stream=stream)
            assert failed.status_code >= 400 and "401" in failed.text, failed.text
            assert all(r.label == label for r in fake.requests), fake.labels()
    fake.reset()
    fake.fail_next(1, status=401, label="openai", echo_credentials=True)  # then a fallback answers
    assert seen.chat(virtual, "gpt-5.2").status_code == 200
    assert fake.labels()[:2] == ["openai", "azure"]

    # An exception inside a request: Vertex's service-account key cannot be read.
    broken = seen.chat(virtual, "claude-sonnet-5.5@vertex")
    assert broken.status_code == 502 and "could not be loaded" in broken.text, broken.text
    # ... and it fails that offering only: the next one answers
    body = {"model": "claude-sonnet-5.5@vertex", "models": ["claude-sonnet-5.5@anthropic"], "messages": HI}
    fallback = seen.answered(seen.call("POST", "/v1/chat/completions", virtual, json=body))
    assert fallback.status_code == 200 and fallback.headers["x-modelrouter-provider"] == "anthropic", (
        fallback.text
    )

    stray = f"no-such-model-{secrets.token_hex(6)}"  # free text the caller sent: never a metrics label
    assert seen.chat(virtual, stray).status_code == 404
    metrics = seen.answered(seen.call("GET", "/metrics")).text
    assert 'modelrouter_requests_total{model="gpt-5.2"' in metrics and "no-such-model" not in metrics
    health = seen.answered(seen.call("GET", "/healthz")).json()
    assert any("Redis" in line for line in health["degraded"]), health
    seen.answered(
        seen.call("POST", "/v1/route", virtual, json={"model": "gpt-5.2", "route": {"residency": ["EU"]}})
    )

    gateway.stop()
    log = gateway.log
    assert "DEBUG" in log and "Traceback" in log, "the log is at DEBUG and holds the exception"
    written = {
        path.name: path.read_bytes().decode("latin-1")
        for path in gateway.directory.rglob("*")
        if path.is_file() and path.name not in ("modelrouter.yaml", "service-account.json")
    }
    assert "ledger.db" in written and "gateway.log" in written
    places = {"answers": "\n".join(seen.texts), **written}
    canaries = [
        *PROVIDER_KEYS.values(),
        MASTER,
        REDIS_PASSWORD,
        SERVICE_ACCOUNT_KEY,
        UNKNOWN_KEY,
        WRONG_MASTER,
        QUERY_KEY,
    ]
    needles = set().union(*(runs(c) for c in canaries))
    needles |= runs(virtual, skip_prefix=SHOWN_PREFIX - MIN_RUN + 1)  # its shown prefix is meant to show
    found = {(place, needle) for place, text in places.items() for needle in needles if needle in text}
    assert not found, sorted(found)[:20]
