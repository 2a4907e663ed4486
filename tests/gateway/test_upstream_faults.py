"""Upstream faults of reference/reliability.md section 5.1: the status matrix and Retry-After.

Each case gets a gateway of its own, so that one case's cool-downs and breaker counts cannot
decide the next. grok-4.3 is sold by xAI (tried first) and OpenRouter (the fallback).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import openai
import pytest
import requests

from tests.fakes import FakeUpstream
from tests.gateway.conftest import final_request_row, gateway_config, ledger_rows
from tests.gateway.harness import RunningGateway, serve_once, start_gateway

HI: Any = [{"role": "user", "content": "hello there"}]


@pytest.fixture
def gateway(tmp_path: Path, fake: FakeUpstream) -> Iterator[RunningGateway]:
    running = start_gateway(tmp_path, gateway_config(fake.url))
    yield running
    running.stop()


def client(gateway: RunningGateway) -> openai.OpenAI:
    return gateway.openai()


FALLS_BACK = [401, 403, 408, 409, 429, 500, 502, 503, 504, 529]
"""Statuses after which another offering may succeed (401/403: this credential is refused)."""
ENDS_THE_REQUEST = [400, 404, 413, 422]
"""Statuses that say the request itself is wrong: no other offering is tried."""


@pytest.mark.parametrize("status", FALLS_BACK)
def test_a_status_worth_another_offering_falls_back_once(
    gateway: RunningGateway, fake: FakeUpstream, status: int
) -> None:
    fake.fail_next(1, status=status, label="xai")
    raw = client(gateway).chat.completions.with_raw_response.create(model="grok-4.3", messages=HI)
    assert raw.headers["x-modelrouter-provider"] == "openrouter"
    assert fake.labels() == ["xai", "openrouter"]
    assert final_request_row(gateway, raw.headers["x-request-id"], "attempts") == ("ok", 2)


@pytest.mark.parametrize("status", ENDS_THE_REQUEST)
def test_a_status_that_blames_the_request_ends_it_after_one_attempt(
    gateway: RunningGateway, fake: FakeUpstream, status: int
) -> None:
    fake.fail_next(1, status=status, label="xai")
    with pytest.raises(openai.BadRequestError) as refused:
        client(gateway).chat.completions.create(model="grok-4.3", messages=HI)
    assert fake.labels() == ["xai"]
    assert refused.value.status_code == 400 and f"({status})" in str(refused.value.body)


def _forms() -> list[tuple[str, dict[str, str]]]:
    return [
        ("seconds", {"retry-after": "1"}),
        ("milliseconds", {"retry-after-ms": "1000"}),
        ("azure milliseconds", {"x-ms-retry-after-ms": "1000"}),
        ("http date", {"retry-after": formatdate(time.time() + 2, usegmt=True)}),
    ]


@pytest.mark.parametrize(("form", "headers"), _forms(), ids=[f for f, _ in _forms()])
def test_retry_after_in_any_form_cools_the_offering_for_that_long(
    gateway: RunningGateway, fake: FakeUpstream, form: str, headers: dict[str, str]
) -> None:
    if form == "http date":  # a date has whole seconds: ask for one that is about 2 s away now
        headers = {"retry-after": formatdate(time.time() + 2, usegmt=True)}
    fake.fail_next(1, status=429, label="xai", headers=headers)
    started = time.monotonic()
    first = client(gateway).chat.completions.with_raw_response.create(model="grok-4.3", messages=HI)
    assert first.headers["x-modelrouter-provider"] == "openrouter", "failed over at once"
    assert time.monotonic() - started < 1
    second = client(gateway).chat.completions.with_raw_response.create(model="grok-4.3", messages=HI)
    assert second.headers["x-modelrouter-provider"] == "openrouter", "xAI is left alone while it cools"
    assert fake.labels() == ["xai", "openrouter", "openrouter"]
    time.sleep(2.1)
    third = client(gateway).chat.completions.with_raw_response.create(model="grok-4.3", messages=HI)
    assert third.headers["x-modelrouter-provider"] == "xai", "back once the wait is over"


@pytest.mark.parametrize("value", ["abc", "-5", "1e9", "inf"])
def test_a_garbage_retry_after_neither_stalls_nor_benches_the_offering(
    gateway: RunningGateway, fake: FakeUpstream, value: str
) -> None:
    fake.fail_next(1, status=429, label="xai", headers={"retry-after": value})
    started = time.monotonic()
    first = client(gateway).chat.completions.with_raw_response.create(model="grok-4.3", messages=HI)
    assert first.headers["x-modelrouter-provider"] == "openrouter"
    assert time.monotonic() - started < 1


def test_a_pinned_offering_asking_for_a_long_wait_gives_the_client_a_429_with_that_wait(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    fake.fail_next(1, status=429, label="xai", headers={"retry-after": "30"})
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as limited:
        client(gateway).chat.completions.create(model="grok-4.3@xai", messages=HI)
    assert time.monotonic() - started < 1, "no sleeping past max_retry_wait"
    assert int(limited.value.response.headers["retry-after"]) >= 30
    assert fake.labels() == ["xai"]


@pytest.mark.parametrize("stream", [False, True])
def test_an_html_page_with_a_200_is_a_failed_attempt_for_either_client(
    gateway: RunningGateway, fake: FakeUpstream, stream: bool
) -> None:
    """A captive portal's page is no answer, whatever its status: the fallback answers."""
    for path, model, body in (
        ("/v1/chat/completions", "gpt-5.2", {"messages": HI}),
        ("/v1/messages", "claude-sonnet-5.5", {"messages": HI, "max_tokens": 50}),
    ):
        fake.proxy_page()  # whichever provider is tried first
        answer = requests.post(
            gateway.url + path, json={"model": model, "stream": stream, **body}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-modelrouter-attempts"] == "2"
        assert "<html>" not in answer.text and "sign in" not in answer.text


@pytest.mark.parametrize("stream", [False, True])
def test_an_answer_without_usage_is_billed_as_an_estimate(
    gateway: RunningGateway, fake: FakeUpstream, stream: bool
) -> None:
    """No usage from the provider: the prompt's and the answer's estimated size, marked estimated."""
    fake.without_usage(label="openai")
    body = {"model": "gpt-5.2@openai", "messages": HI, "stream": stream}
    answer = requests.post(gateway.url + "/v1/chat/completions", json=body, timeout=10)
    assert answer.status_code == 200 and ("[DONE]" in answer.text if stream else "fake openai" in answer.text)
    request_id = answer.headers["x-request-id"]
    state, source, tokens_in, tokens_out, cost = final_request_row(
        gateway, request_id, "usage_source, input_tokens, output_tokens, cost_micro_usd"
    )
    assert (state, source) == ("ok", "estimated") and tokens_in > 0 and tokens_out > 0 and cost > 0
    [(attempt_source, attempt_cost)] = ledger_rows(
        gateway, "SELECT usage_source, cost_micro_usd FROM attempts WHERE request_id = ?", (request_id,)
    )
    assert (attempt_source, attempt_cost) == ("estimated", cost)


def test_an_attempt_the_provider_took_on_but_spoiled_is_billed_as_an_estimate(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    """An unreadable 200 was most likely billed (reliability.md F9).

    The attempt carries the prompt's estimated cost, marked estimated, and the request's cost
    is both attempts'.
    """
    fake.malformed(label="openai")
    raw = client(gateway).chat.completions.with_raw_response.create(model="gpt-5.2", messages=HI)
    assert raw.headers["x-modelrouter-provider"] == "azure"
    request_id = raw.headers["x-request-id"]
    _, total = final_request_row(gateway, request_id, "cost_micro_usd")
    rows = ledger_rows(
        gateway,
        "SELECT attempt_no, provider, usage_source, input_tokens, cost_micro_usd FROM attempts "
        "WHERE request_id = ? ORDER BY attempt_no",
        (request_id,),
    )
    (_, first, source, tokens, spoiled), (_, second, _, _, answered) = rows
    assert (first, second, source) == ("openai", "azure", "estimated")
    assert tokens > 0 and spoiled > 0 and answered > 0
    assert total == spoiled + answered


def test_a_refused_attempt_costs_nothing(gateway: RunningGateway, fake: FakeUpstream) -> None:
    fake.fail_next(1, status=503, label="openai")
    raw = client(gateway).chat.completions.with_raw_response.create(model="gpt-5.2", messages=HI)
    request_id = raw.headers["x-request-id"]
    final_request_row(gateway, request_id, "cost_micro_usd")
    [(source, cost)] = ledger_rows(
        gateway,
        "SELECT usage_source, cost_micro_usd FROM attempts WHERE request_id = ? AND attempt_no = 1",
        (request_id,),
    )
    assert (source, cost) == ("none", 0)


def test_a_providers_redirect_is_never_followed(gateway: RunningGateway, fake: FakeUpstream) -> None:
    """reliability.md B7: a redirect could send the request, credentials attached, anywhere."""
    elsewhere = fake.url + "/xai/v1/chat/completions"
    fake.fail_next(1, status=302, label="openai", headers={"location": elsewhere})
    raw = client(gateway).chat.completions.with_raw_response.create(model="gpt-5.2", messages=HI)
    assert raw.headers["x-modelrouter-provider"] == "azure"
    assert fake.labels() == ["openai", "azure"], "the redirect target saw nothing"


def test_a_metadata_address_as_a_provider_endpoint_stops_the_gateway_at_start(
    fake: FakeUpstream, tmp_path: Path
) -> None:
    config = gateway_config(fake.url)
    config["providers"]["openai"]["base_url"] = "http://169.254.169.254/v1"
    run = serve_once(tmp_path, config)
    assert run.returncode != 0
    assert "providers.openai.base_url" in run.stderr and "metadata" in run.stderr


@pytest.mark.parametrize("megabytes", [5, 19])
def test_a_large_request_is_retried_whole(
    gateway: RunningGateway, fake: FakeUpstream, megabytes: int
) -> None:
    """reliability.md F22: after a 503 the fallback receives the same image, every byte of it."""
    import base64
    import hashlib

    image = base64.b64encode(os.urandom(((megabytes << 20) - 65536) * 3 // 4)).decode()
    url = "data:image/png;base64," + image
    parts: Any = [{"type": "text", "text": "describe"}, {"type": "image_url", "image_url": {"url": url}}]
    fake.fail_next(1, status=503, label="openai")
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="gpt-5.2", messages=[{"role": "user", "content": parts}]
    )
    assert raw.headers["x-modelrouter-provider"] == "azure"
    first, second = fake.requests
    sent = [r.body["messages"][-1]["content"][1]["image_url"]["url"] for r in (first, second)]
    assert [hashlib.sha256(u.encode()).hexdigest() for u in sent] == [
        hashlib.sha256(url.encode()).hexdigest()
    ] * 2


def test_a_body_over_the_limit_never_reaches_a_provider(gateway: RunningGateway, fake: FakeUpstream) -> None:
    content = "x" * (21 << 20)
    with pytest.raises(openai.APIStatusError) as refused:
        client(gateway).chat.completions.create(
            model="gpt-5.2", messages=[{"role": "user", "content": content}]
        )
    assert refused.value.status_code == 413 and fake.requests == []
