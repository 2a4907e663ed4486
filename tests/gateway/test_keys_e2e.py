"""Keys end to end: a gateway with a master key, keys made through the admin API and the CLI."""

from __future__ import annotations

import http.client
import subprocess
import sys
import time
from typing import Any
from urllib.parse import quote

import anthropic
import openai
import pytest
import requests

from modelrouter.gateway.admin import AdminAPI
from tests.fakes import FakeUpstream
from tests.gateway.conftest import MASTER, final_request_row, ledger_rows
from tests.gateway.harness import RunningGateway

HI: Any = [{"role": "user", "content": "hello there"}]


def admin(gateway: RunningGateway, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"authorization": f"Bearer {MASTER}", **kwargs.pop("headers", {})}
    return requests.request(method, gateway.url + path, headers=headers, timeout=10, **kwargs)


def create(gateway: RunningGateway, **fields: Any) -> str:
    response = admin(gateway, "POST", "/admin/keys", json=fields)
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


def oai(gateway: RunningGateway, key: str) -> openai.OpenAI:
    return gateway.openai(key)


def test_without_a_key_nothing_is_served_and_the_error_says_how(
    keyed: RunningGateway, fake: FakeUpstream
) -> None:
    bare = requests.post(
        keyed.url + "/v1/chat/completions", json={"model": "gpt-5.2", "messages": HI}, timeout=5
    )
    assert bare.status_code == 401 and "Authorization: Bearer KEY" in bare.json()["error"]["message"]
    with (
        anthropic.Anthropic(base_url=keyed.url, api_key="mr-not-a-key", max_retries=0) as client,
        pytest.raises(anthropic.AuthenticationError) as caught,
    ):
        client.messages.create(model="gpt-5.2", max_tokens=10, messages=HI)
    assert caught.value.body["type"] == "error"  # type: ignore[index]
    assert requests.get(keyed.url + "/v1/models", timeout=5).status_code == 401
    assert fake.requests == []
    with oai(keyed, MASTER) as client:
        assert client.chat.completions.create(model="gpt-5.2", messages=HI).choices[0].message.content


def test_a_scoped_key_reaches_only_its_models_and_providers(
    keyed: RunningGateway, fake: FakeUpstream
) -> None:
    key = create(keyed, name="scoped", models=["gpt-5.2"], providers=["azure"])
    with oai(keyed, key) as client:
        raw = client.chat.completions.with_raw_response.create(model="gpt-5.2", messages=HI)
        assert raw.headers["x-modelrouter-provider"] == "azure"
        with pytest.raises(openai.PermissionDeniedError, match=r"may use gpt-5\.2, not claude-sonnet-5\.5"):
            client.chat.completions.create(model="claude-sonnet-5.5", messages=HI)
        with pytest.raises(openai.UnprocessableEntityError, match="providers"):
            client.chat.completions.create(model="gpt-5.2@openai", messages=HI)
    assert fake.labels() == ["azure"]
    row = final_request_row(keyed, raw.headers["x-request-id"], "key_id")
    listed = admin(keyed, "GET", "/admin/keys").json()
    assert row[1] == next(k["key_id"] for k in listed if k["name"] == "scoped")


def test_a_key_policy_tightens_every_request(keyed: RunningGateway, fake: FakeUpstream) -> None:
    key = create(keyed, name="eu", policy="eu-only")
    with oai(keyed, key) as client:
        raw = client.chat.completions.with_raw_response.create(model="claude-sonnet-5.5", messages=HI)
        assert raw.headers["x-modelrouter-offering"] in (
            "claude-sonnet-5.5@vertex:eu",
            "claude-sonnet-5.5@bedrock:eu",
        )
        with pytest.raises(openai.UnprocessableEntityError, match="policy requires EU"):
            client.chat.completions.create(model="grok-4.3", messages=HI)


HOSTS = [None, "example.com", "localhost", "127.0.0.1:1", "example.com/admin?x=", "evil\\@localhost", ""]
"""Host headers an attacker might try (auth must depend on the path and the key, never the host)."""


def _raw(gateway: RunningGateway, method: str, path: str, headers: dict[str, str]) -> int:
    """One request with exactly these headers (requests would fix up Host), its status."""
    connection = http.client.HTTPConnection(gateway.url.removeprefix("http://"), timeout=5)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        with connection.getresponse() as response:  # closed, or its socket outlives the connection
            response.read()
            return response.status
    finally:
        connection.close()


def test_every_admin_route_refuses_all_but_the_master_key(keyed: RunningGateway, fake: FakeUpstream) -> None:
    key = create(keyed, name="admin-walk")
    stored_hash = ledger_key_hash(keyed, "admin-walk")
    for method, pattern in AdminAPI.ROUTES:
        path = pattern.replace("{ref}", "admin-walk")
        for host in HOSTS:
            base = {} if host is None else {"Host": host}
            assert _raw(keyed, method, path, base) == 401, (method, path, host)
            for presented in (key, stored_hash, key.upper(), MASTER + "x", MASTER[:-1]):
                status = _raw(keyed, method, path, {**base, "Authorization": f"Bearer {presented}"})
                assert status in (401, 403), (method, path, host, presented[:6])
    assert admin(keyed, "GET", "/admin/keys").status_code == 200
    assert admin(keyed, "POST", "/admin/keys", json={"name": "x", "rpm": -1}).status_code == 400
    assert (
        admin(keyed, "POST", "/admin/keys", json={"name": "x", "api_base": "http://evil"}).status_code == 400
    )


def test_the_stored_hash_is_not_a_credential(keyed: RunningGateway, fake: FakeUpstream) -> None:
    create(keyed, name="hashed")
    stored_hash = ledger_key_hash(keyed, "hashed")
    for presented in (stored_hash, stored_hash.upper()):
        with pytest.raises(openai.AuthenticationError):
            oai(keyed, presented).chat.completions.create(model="gpt-5.2@openai", messages=HI)


def ledger_key_hash(gateway: RunningGateway, name: str) -> str:
    [(hashed,)] = ledger_rows(gateway, "SELECT key_hash FROM api_keys WHERE name = ?", (name,))
    assert isinstance(hashed, str) and len(hashed) >= 32
    return hashed


@pytest.mark.parametrize("how", ["admin API", "CLI on the shared store"])
def test_a_revoked_key_is_refused_within_seconds(keyed: RunningGateway, fake: FakeUpstream, how: str) -> None:
    name = f"doomed-{how[:3]}"
    key = create(keyed, name=name)
    with oai(keyed, key) as client:
        assert client.chat.completions.create(model="gpt-5.2", messages=HI).choices
        if how == "admin API":
            assert admin(keyed, "DELETE", f"/admin/keys/{name}").json()["revoked_at"]
        else:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "modelrouter",
                    "keys",
                    "revoke",
                    name,
                    "--config",
                    str(keyed.directory / "modelrouter.yaml"),
                ],
                cwd=keyed.directory,
                check=True,
                capture_output=True,
            )
        revoked_at = time.monotonic()
        while time.monotonic() - revoked_at < 5:
            try:
                client.chat.completions.create(model="gpt-5.2", messages=HI)
            except openai.AuthenticationError as exc:
                assert "revoked" in exc.message
                break
            time.sleep(0.1)
        else:
            pytest.fail("the revoked key still worked 5 s later")
    assert time.monotonic() - revoked_at < 3


def test_an_expired_key_is_refused(keyed: RunningGateway, fake: FakeUpstream) -> None:
    key = create(keyed, name="short", expires="2026-01-01")
    with oai(keyed, key) as client, pytest.raises(openai.AuthenticationError, match="expired"):
        client.chat.completions.create(model="gpt-5.2", messages=HI)


def test_usage_over_http_adds_up(keyed: RunningGateway, fake: FakeUpstream) -> None:
    key = create(keyed, name="counted")
    with oai(keyed, key) as client:
        ids = [
            client.chat.completions.with_raw_response.create(model="gpt-5.2", messages=HI).headers[
                "x-request-id"
            ]
            for _ in range(3)
        ]
    for request_id in ids:
        final_request_row(keyed, request_id, "cost_micro_usd")
    report = admin(keyed, "GET", "/admin/usage", params={"group_by": "key", "records": "true"}).json()
    [group] = [g for g in report["groups"] if g.get("key_name") == "counted"]
    mine = [r for r in report["records"] if r["request_id"] in ids]
    assert group["requests"] == 3 == len(mine)
    assert group["cost_micro_usd"] == sum(r["cost_micro_usd"] for r in mine) > 0
    assert report["totals"]["cost_micro_usd"] == sum(r["cost_micro_usd"] for r in report["records"])
    assert admin(keyed, "GET", "/admin/usage", params={"bogus": "1"}).status_code == 400


def away_from_a_minute_boundary() -> None:
    """Rate windows are calendar minutes: start a burst early in one so it does not straddle two."""
    second = time.time() % 60
    if second > 50:
        time.sleep(60.5 - second)


def test_requests_per_minute_answer_429_with_retry_after_in_each_dialect(
    keyed: RunningGateway, fake: FakeUpstream
) -> None:
    key = create(keyed, name="rpm", rpm=2)
    away_from_a_minute_boundary()
    with oai(keyed, key) as client:
        for _ in range(2):
            assert client.chat.completions.create(model="gpt-5.2", messages=HI).choices
        with pytest.raises(openai.RateLimitError, match="2 requests per minute") as caught:
            client.chat.completions.create(model="gpt-5.2", messages=HI)
    assert 1 <= int(caught.value.response.headers["retry-after"]) <= 61
    with (
        anthropic.Anthropic(base_url=keyed.url, api_key=key, max_retries=0) as client2,
        pytest.raises(anthropic.RateLimitError) as refused,
    ):
        client2.messages.create(model="gpt-5.2", max_tokens=10, messages=HI)
    assert refused.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    assert fake.labels().count("openai") + fake.labels().count("azure") == 2


def race(url: str | list[str], key: str, n: int) -> list[int]:
    """`n` concurrent requests (spread over the gateways given); their status codes."""
    from concurrent.futures import ThreadPoolExecutor

    urls = [url] if isinstance(url, str) else url
    body = {"model": "gpt-5.2@openai", "messages": HI, "max_tokens": 1000}

    def one(i: int) -> int:
        response = requests.post(
            urls[i % len(urls)] + "/v1/chat/completions",
            json=body,
            headers={"authorization": f"Bearer {key}"},
            timeout=30,
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


BUDGET_FOR_FIVE = "0.077"
"""gpt-5.2@openai reserves $14/M x 1,000 output tokens plus a few input tokens (~$0.01402) a request."""


def test_a_budget_holds_under_a_race(keyed: RunningGateway, fake: FakeUpstream) -> None:
    key = create(keyed, name="budget", budget_usd=BUDGET_FOR_FIVE, budget_period="day")
    fake.delay(1.2, label="openai")  # the admitted five are still in flight when the other 45 arrive
    statuses = race(keyed.url, key, 50)
    assert statuses.count(200) == 5 and statuses.count(429) == 45
    listed = [k for k in admin(keyed, "GET", "/admin/keys").json() if k["name"] == "budget"]
    assert listed[0]["budget_usd"] == 0.077


SQL_PAYLOADS = [
    "' OR '1'='1",
    "' OR 1=1 --",
    '" OR ""="',
    "'; DROP TABLE api_keys; --",
    "'; DELETE FROM requests; --",
    "1; UPDATE api_keys SET revoked_at = NULL; --",
    "' UNION SELECT key_hash, name FROM api_keys --",
    "') OR ('a'='a",
    "1' AND (SELECT COUNT(*) FROM sqlite_master) > 0 --",
    "'; SELECT pg_sleep(2); --",
    "1 AND randomblob(500000000)",
    "%27%20OR%201%3D1",
    "\\'; --",
    "admin'--",
    "*",
    "%",
    "_",
    "\x00' OR 1=1",
]


def test_sql_injection_in_keys_filters_and_credentials_is_inert(
    keyed: RunningGateway, fake: FakeUpstream
) -> None:
    """reliability.md B9: every payload in every field that reaches SQL is a value, never code."""
    create(keyed, name="sqli-victim")
    before = admin(keyed, "GET", "/admin/keys").json()
    timings = []
    for payload in SQL_PAYLOADS:
        started = time.monotonic()
        answers = [
            admin(keyed, "GET", "/admin/usage", params={"since": payload}),
            admin(keyed, "GET", "/admin/usage", params={"until": payload}),
            admin(keyed, "GET", "/admin/usage", params={"group_by": payload}),
            admin(keyed, "DELETE", "/admin/keys/" + quote(payload, safe="")),
            admin(keyed, "POST", "/admin/keys", json={"name": payload, "models": [payload]}),
            requests.post(
                keyed.url + "/v1/chat/completions",
                json={"model": payload, "messages": HI},
                headers={"authorization": f"Bearer {payload}"},
                timeout=10,
            ),
            requests.post(
                keyed.url + "/v1/chat/completions",
                json={"model": "gpt-5.2@openai", "messages": HI},
                headers={"x-api-key": payload},
                timeout=10,
            ),
        ]
        timings.append(time.monotonic() - started)
        for answer in answers:
            assert answer.status_code < 500, (payload, answer.request.method, answer.request.url, answer.text)
    assert max(timings) < sorted(timings)[len(timings) // 2] + 1.0, timings
    after = {k["name"]: k for k in admin(keyed, "GET", "/admin/keys").json()}
    for key in before:
        assert after[key["name"]]["prefix"] == key["prefix"]
        assert after[key["name"]].get("revoked_at") == key.get("revoked_at"), key["name"]
    assert fake.requests == [], "no payload reached a provider"
