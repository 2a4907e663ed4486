"""The gateway end to end: official SDKs -> `modelrouter serve` -> fake upstreams.

Everything goes over real HTTP through a real gateway process, so these tests see what a
user's client sees: answers and streams in the client's own protocol whatever the
provider's, fallbacks that the client never notices except in headers, policies that keep
traffic where it belongs (proven from the fake's request log), and honest errors.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any
from urllib.parse import unquote

import anthropic
import openai
import pytest
import requests

from modelrouter.ledger import now_iso as _now_iso
from tests.fakes import PARALLEL_PHRASE, FakeUpstream
from tests.gateway.conftest import SECRETS, final_request_row, ledger_rows
from tests.gateway.harness import RunningGateway

HI: Any = [{"role": "user", "content": "hello there"}]
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TIME_SCHEMA = {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}

TARGETS = {
    "openai": ("openai", "gpt-5.2@openai", "gpt-5.2"),
    "azure": ("azure", "gpt-5.2@azure", "gpt52-deployment"),
    "anthropic": ("anthropic", "claude-sonnet-5.5@anthropic", "claude-sonnet-5-5"),
    "vertex-claude": ("vertex", "claude-sonnet-5.5@vertex:eu", "claude-sonnet-5-5"),
    "xai": ("xai", "grok-4.3@xai", "grok-4.3"),
    "google": ("google", "gemini-3.1-pro@google", "gemini-3.1-pro-preview"),
    "vertex-gemini": ("vertex", "gemini-3.1-pro@vertex", "gemini-3.1-pro-preview"),
    "bedrock-eu": (
        "bedrock-eu-central-1",
        "claude-sonnet-5.5@bedrock:eu",
        "eu.anthropic.claude-sonnet-5-5",
    ),
    "bedrock-global": (
        "bedrock-eu-central-1",
        "claude-sonnet-5.5@bedrock",
        "global.anthropic.claude-sonnet-5-5",
    ),
}
"""Case -> (the fake label, the model pin a client asks for, the model id the provider must receive)."""


def oai(gateway: RunningGateway) -> openai.OpenAI:
    return gateway.openai()


def ant(gateway: RunningGateway) -> anthropic.Anthropic:
    return gateway.anthropic()


def sent_model(fake: FakeUpstream) -> str:
    """The model id the fake saw: in the body, or in the path (Vertex, Bedrock, Azure's deployment)."""
    logged = fake.requests[-1]
    if "/deployments/" in logged.path:
        return logged.path.split("/deployments/")[1].split("/")[0]
    if "/model/" in logged.path:
        return unquote(logged.path.split("/model/")[1].rsplit("/", 1)[0])
    if "model" in logged.body:
        return str(logged.body["model"])
    return logged.path.rsplit("/models/", 1)[-1].split(":")[0]


# --- every client protocol reaches every provider protocol -------------------------------------


@pytest.mark.parametrize("case", list(TARGETS))
def test_openai_client_reaches_every_provider(gateway: RunningGateway, fake: FakeUpstream, case: str) -> None:
    label, model, provider_model = TARGETS[case]
    raw = oai(gateway).chat.completions.with_raw_response.create(model=model, messages=HI)
    completion = raw.parse()
    assert completion.choices[0].message.content == f"fake {label} answer to: hello there"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    assert raw.headers["x-modelrouter-provider"] == label.split("-", 1)[0]
    assert raw.headers["x-modelrouter-attempts"] == "1"
    assert fake.labels() == [label]
    assert sent_model(fake) == provider_model
    stream = oai(gateway).chat.completions.create(
        model=model, messages=HI, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        == completion.choices[0].message.content
    )
    usage = [c.usage for c in chunks if c.usage]
    assert usage and usage[-1].completion_tokens == completion.usage.completion_tokens
    assert stream.response.headers["x-modelrouter-provider"] == label.split("-", 1)[0]


@pytest.mark.parametrize("case", list(TARGETS))
def test_anthropic_client_reaches_every_provider(
    gateway: RunningGateway, fake: FakeUpstream, case: str
) -> None:
    label, model, provider_model = TARGETS[case]
    raw = ant(gateway).messages.with_raw_response.create(model=model, max_tokens=200, messages=HI)
    message = raw.parse()
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == f"fake {label} answer to: hello there"  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn" and message.usage.input_tokens > 0
    assert raw.headers["x-modelrouter-provider"] == label.split("-", 1)[0]
    assert sent_model(fake) == provider_model
    with ant(gateway).messages.stream(model=model, max_tokens=200, messages=HI) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == message.content[0].text  # type: ignore[union-attr]
    assert final.usage.output_tokens == message.usage.output_tokens


def test_tool_loop_openai_client_on_claude(gateway: RunningGateway, fake: FakeUpstream) -> None:
    client = oai(gateway)
    tools: Any = [
        {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_SCHEMA}},
        {"type": "function", "function": {"name": "get_time", "parameters": TIME_SCHEMA}},
    ]
    messages: Any = [{"role": "user", "content": f"please {PARALLEL_PHRASE}"}]
    first = client.chat.completions.create(
        model="claude-sonnet-5.5@anthropic", messages=messages, tools=tools
    )
    calls = first.choices[0].message.tool_calls or []
    assert first.choices[0].finish_reason == "tool_calls"
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [  # type: ignore[union-attr]
        ("get_weather", {"city": "city-value"}),
        ("get_time", {"zone": "zone-value"}),
    ]
    sent = fake.requests[-1].body
    assert [t["name"] for t in sent["tools"]] == ["get_weather", "get_time"]
    assert sent["tools"][0]["input_schema"] == WEATHER_SCHEMA
    with client.chat.completions.stream(
        model="claude-sonnet-5.5@anthropic", messages=messages, tools=tools
    ) as s:
        streamed = s.get_final_completion().choices[0].message.tool_calls or []
    assert [(c.function.name, json.loads(c.function.arguments)) for c in streamed] == [
        (c.function.name, json.loads(c.function.arguments))  # type: ignore[union-attr]
        for c in calls
    ]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        *({"role": "tool", "tool_call_id": c.id, "content": "sunny"} for c in calls),
    ]
    final = client.chat.completions.create(
        model="claude-sonnet-5.5@anthropic", messages=messages, tools=tools
    )
    assert final.choices[0].message.content == "fake anthropic saw the tool result: sunny sunny"
    results = fake.requests[-1].body["messages"][-1]["content"]
    assert [r["tool_use_id"] for r in results] == [c.id for c in calls]


def test_tool_loop_anthropic_client_on_gpt(gateway: RunningGateway, fake: FakeUpstream) -> None:
    client = ant(gateway)
    tools: Any = [{"name": "get_weather", "description": "Weather", "input_schema": WEATHER_SCHEMA}]
    with client.messages.stream(
        model="gpt-5.2@openai",
        max_tokens=300,
        tools=tools,
        messages=[{"role": "user", "content": "weather?"}],
    ) as stream:
        first = stream.get_final_message()
    [call] = [b for b in first.content if b.type == "tool_use"]
    assert (call.name, call.input, first.stop_reason) == ("get_weather", {"city": "city-value"}, "tool_use")
    assert fake.requests[-1].body["tools"][0]["function"]["parameters"] == WEATHER_SCHEMA
    history: Any = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "rain"}]},
    ]
    final = client.messages.create(model="gpt-5.2@openai", max_tokens=300, tools=tools, messages=history)
    assert final.content[0].text == "fake openai saw the tool result: rain"  # type: ignore[union-attr]
    tool_message = fake.requests[-1].body["messages"][-1]
    assert (tool_message["role"], tool_message["tool_call_id"]) == ("tool", call.id)


def test_thinking_round_trips_with_its_signature(gateway: RunningGateway, fake: FakeUpstream) -> None:
    client = ant(gateway)
    thinking: Any = {"type": "enabled", "budget_tokens": 1024}
    with client.messages.stream(
        model="claude-sonnet-5.5@anthropic", max_tokens=2000, thinking=thinking, messages=HI
    ) as stream:
        first = stream.get_final_message()
    assert [b.type for b in first.content] == ["thinking", "text"]
    signature = first.content[0].signature  # type: ignore[union-attr]
    assert signature.startswith("sig-")
    history: Any = [
        *HI,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": "and then?"},
    ]
    client.messages.create(
        model="claude-sonnet-5.5@anthropic", max_tokens=2000, thinking=thinking, messages=history
    )
    echoed = fake.requests[-1].body["messages"][1]["content"][0]
    assert echoed == {"type": "thinking", "thinking": "The user asked: hello there", "signature": signature}


def test_async_clients_stream(gateway: RunningGateway, fake: FakeUpstream) -> None:
    async def run() -> tuple[str, str]:
        async with openai.AsyncOpenAI(base_url=gateway.url + "/v1", api_key="x", max_retries=0) as o:
            stream = await o.chat.completions.create(
                model="claude-sonnet-5.5@anthropic", messages=HI, stream=True
            )
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        async with (
            anthropic.AsyncAnthropic(base_url=gateway.url, api_key="x", max_retries=0) as a,
            a.messages.stream(model="gpt-5.2@azure", max_tokens=100, messages=HI) as s,
        ):
            final = await s.get_final_message()
        return text, final.content[0].text  # type: ignore[union-attr]

    assert asyncio.run(run()) == (
        "fake anthropic answer to: hello there",
        "fake azure answer to: hello there",
    )


# --- routing -----------------------------------------------------------------------------------


def test_aliases_slugs_and_retired_models(gateway: RunningGateway, fake: FakeUpstream) -> None:
    client = oai(gateway)
    raw = client.chat.completions.with_raw_response.create(model="grok-4.1", messages=HI)
    assert raw.headers["x-modelrouter-substituted"] == "grok-4.1 -> grok-4.3"
    assert sent_model(fake) == "grok-4.3"
    raw = client.chat.completions.with_raw_response.create(
        model="openai/gpt-5.2", messages=HI, extra_body={"provider": {"order": ["azure"]}}
    )
    assert raw.headers["x-modelrouter-provider"] == "azure"
    assert "provider" not in fake.requests[-1].body


def test_eu_only_never_leaves_the_eu(gateway: RunningGateway, fake: FakeUpstream) -> None:
    policy = {"x-modelrouter-policy": "eu-only"}
    client = oai(gateway)
    raw = client.chat.completions.with_raw_response.create(
        model="claude-sonnet-5.5", messages=HI, extra_headers=policy
    )
    assert raw.headers["x-modelrouter-offering"] in (
        "claude-sonnet-5.5@vertex:eu",
        "claude-sonnet-5.5@bedrock:eu",
    )
    fake.reset()
    fake.fail_next(10, status=503)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="claude-sonnet-5.5", messages=HI, extra_headers=policy)
    assert caught.value.status_code == 503
    assert {r.label for r in fake.requests} == {"vertex", "bedrock-eu-central-1"}, (
        "both EU offerings were tried"
    )
    for logged in fake.requests:
        assert "/locations/eu/" in logged.path or "/model/eu.anthropic." in unquote(logged.path)
    fake.reset()


def test_a_policy_nothing_meets_says_why_in_each_dialect(gateway: RunningGateway, fake: FakeUpstream) -> None:
    route = {"residency": ["EU"]}
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        oai(gateway).chat.completions.create(model="grok-4.3", messages=HI, extra_body={"route": route})
    assert "grok-4.3@xai" in caught.value.message and "policy requires EU" in caught.value.message
    with pytest.raises(anthropic.APIStatusError) as refused:
        ant(gateway).messages.create(
            model="grok-4.3", max_tokens=10, messages=HI, extra_body={"route": route}
        )
    assert refused.value.status_code == 422 and "policy requires EU" in refused.value.message
    with pytest.raises(anthropic.NotFoundError):
        ant(gateway).messages.create(model="no-such-model", max_tokens=10, messages=HI)
    with pytest.raises(openai.BadRequestError):
        oai(gateway).chat.completions.create(model="gpt-5.2", messages=[])
    assert fake.requests == []


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_fallback_on_503_is_invisible_but_in_the_headers(
    gateway: RunningGateway, fake: FakeUpstream, stream: bool
) -> None:
    fake.fail_next(1, status=503, label="openai")
    client = oai(gateway)
    if stream:
        answer = client.chat.completions.create(model="gpt-5.2", messages=HI, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in answer if c.choices)
        headers = answer.response.headers
    else:
        raw = client.chat.completions.with_raw_response.create(model="gpt-5.2", messages=HI)
        text, headers = raw.parse().choices[0].message.content or "", raw.headers
    assert text == "fake azure answer to: hello there"
    assert headers["x-modelrouter-attempts"] == "2"
    assert fake.labels() == ["openai", "azure"]
    request_id = headers["x-request-id"]
    _, attempts, created, updated = final_request_row(gateway, request_id, "attempts, created_at, updated_at")
    assert attempts == 2
    times = ledger_rows(
        gateway,
        "SELECT started_at, ended_at FROM attempts WHERE request_id = ? ORDER BY attempt_no",
        (request_id,),
    )
    assert [started for started, _ in times] == [created, created]
    (_, failed_at), (_, answered_at) = times
    assert created <= failed_at <= answered_at
    if stream:  # a stream's end is its last attempt's end and the request's, one moment
        assert answered_at == updated
    assert answered_at <= updated


def test_in_band_error_before_the_first_token_falls_back(gateway: RunningGateway, fake: FakeUpstream) -> None:
    fake.in_band_error(label="anthropic")
    with ant(gateway).messages.stream(model="claude-sonnet-5.5", max_tokens=100, messages=HI) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == "fake bedrock-eu-central-1 answer to: hello there"  # type: ignore[union-attr]
    assert fake.labels() == ["anthropic", "bedrock-eu-central-1"]


def test_what_cannot_succeed_is_not_retried(gateway: RunningGateway, fake: FakeUpstream) -> None:
    fake.fail_next(1, status=400, label="openai")
    with pytest.raises(openai.BadRequestError) as caught:
        oai(gateway).chat.completions.create(model="gpt-5.2", messages=HI)
    assert "fake openai failure (400)" in caught.value.message
    assert fake.labels() == ["openai"]


def test_first_byte_deadline_falls_back(gateway: RunningGateway, fake: FakeUpstream) -> None:
    fake.delay(3, label="openai", n=1)
    started = time.monotonic()
    raw = oai(gateway).chat.completions.with_raw_response.create(model="gpt-5.2", messages=HI)
    assert raw.headers["x-modelrouter-provider"] == "azure"
    assert 1.9 < time.monotonic() - started < 3


def test_a_stream_cut_mid_way_ends_with_an_error_not_a_done(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    fake.cut_stream_after(4, label="openai")
    wire = requests.post(
        gateway.url + "/v1/chat/completions",
        json={"model": "gpt-5.2@openai", "messages": HI, "stream": True},
        timeout=10,
    ).text
    assert "fake openai answer" in "".join(
        json.loads(line[6:])["choices"][0]["delta"].get("content", "")
        for line in wire.splitlines()
        if line.startswith("data: {") and '"choices"' in line
    )
    assert "[DONE]" not in wire and '"error"' in wire
    fake.cut_stream_after(4, label="anthropic")
    with (
        pytest.raises(anthropic.APIStatusError),
        ant(gateway).messages.stream(
            model="claude-sonnet-5.5@anthropic", max_tokens=100, messages=HI
        ) as stream,
    ):
        stream.get_final_message()


def test_idle_deadline_ends_a_stalled_stream_honestly(gateway: RunningGateway, fake: FakeUpstream) -> None:
    fake.slow_stream(3, label="xai", n=1, after=3)
    started = time.monotonic()
    text = ""
    with pytest.raises(openai.APIError, match="idle"):
        for chunk in oai(gateway).chat.completions.create(model="grok-4.3@xai", messages=HI, stream=True):
            text += chunk.choices[0].delta.content or "" if chunk.choices else ""
    assert text == "fake xai "
    assert 1.9 < time.monotonic() - started < 3
    assert fake.labels() == ["xai"], "after the first token there is no fallback"


def test_client_disconnect_cancels_the_upstream_stream(gateway: RunningGateway, fake: FakeUpstream) -> None:
    fake.slow_stream(0.3, label="openai", n=1)
    response = requests.post(
        gateway.url + "/v1/chat/completions",
        json={"model": "gpt-5.2@openai", "messages": HI, "stream": True},
        stream=True,
        timeout=10,
    )
    request_id = response.headers["x-request-id"]
    next(response.iter_lines())
    response.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and fake.requests[-1].outcome != "aborted":
        time.sleep(0.05)
    assert fake.requests[-1].outcome == "aborted"
    assert final_request_row(gateway, request_id, "http_status") == ("client_disconnected", 499)


def test_client_leaving_before_the_answer_is_recorded_without_a_traceback(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    """A client that hangs up while waiting (or while still sending its body) is routine, not a bug."""
    fake.delay(3, label="openai", n=1)
    since, log_before = _now_iso(), len(gateway.log)
    address = ("127.0.0.1", int(gateway.url.rsplit(":", 1)[1]))
    body = json.dumps({"model": "gpt-5.2@openai", "messages": HI}).encode()
    head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    with socket.create_connection(address) as sock:
        sock.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        deadline = time.monotonic() + 5
        while not fake.requests and time.monotonic() < deadline:
            time.sleep(0.02)
    with socket.create_connection(address) as sock:  # half a body, then gone
        sock.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:10])
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    rows: list[tuple[Any, ...]] = []
    while time.monotonic() < deadline and not rows:
        rows = ledger_rows(
            gateway,
            "SELECT state, http_status FROM requests WHERE created_at > ? AND state != 'started'",
            (since,),
        )
        time.sleep(0.05)
    assert rows == [("client_disconnected", 499)]
    time.sleep(0.3)
    log = gateway.log[log_before:]
    assert "Traceback" not in log and "Exception in ASGI" not in log, log


def test_rate_limit_with_retry_after_falls_back(gateway: RunningGateway, fake: FakeUpstream) -> None:
    fake.fail_next(1, status=429, retry_after=1, label="xai")
    raw = oai(gateway).chat.completions.with_raw_response.create(model="grok-4.3", messages=HI)
    assert raw.headers["x-modelrouter-provider"] == "openrouter"
    assert fake.labels() == ["xai", "openrouter"]
    time.sleep(1.1)  # let the cool-down pass for the tests after this one


# --- the other endpoints, the ledger, and secrets ------------------------------------------------


def test_models_route_health_and_metrics(gateway: RunningGateway, fake: FakeUpstream) -> None:
    models = requests.get(gateway.url + "/v1/models", timeout=5).json()
    assert {"gpt-5.2", "claude-sonnet-5.5"} <= {m["id"] for m in models["data"]}
    route = requests.post(
        gateway.url + "/v1/route",
        json={"model": "claude-sonnet-5.5", "route": {"residency": ["EU"]}},
        timeout=5,
    ).json()
    assert [c["offering"] for c in route["candidates"]][:1] == ["claude-sonnet-5.5@bedrock:eu"]
    assert requests.get(gateway.url + "/healthz", timeout=5).json()["status"] in ("ok", "degraded")
    oai(gateway).chat.completions.create(model="gpt-5.2@openai", messages=HI)
    list(oai(gateway).chat.completions.create(model="gpt-5.2@openai", messages=HI, stream=True))
    metrics = requests.get(gateway.url + "/metrics", timeout=5).text
    assert (
        'modelrouter_requests_total{model="gpt-5.2@openai",protocol="openai_chat",provider="openai",status="200"}'
        in metrics
    )
    assert (
        "modelrouter_fallbacks_total" in metrics
        and "modelrouter_time_to_first_token_seconds_bucket" in metrics
    )
    assert 'modelrouter_cost_usd_total{model="gpt-5.2@openai",provider="openai"}' in metrics


def test_names_no_catalog_knows_mint_no_metric_series(gateway: RunningGateway, fake: FakeUpstream) -> None:
    """Otherwise any caller could grow /metrics without bound, one made-up model name at a time."""
    for i in range(3):
        with pytest.raises(openai.NotFoundError):
            oai(gateway).chat.completions.create(model=f"made-up-model-{i}", messages=HI)
    metrics = requests.get(gateway.url + "/metrics", timeout=5).text
    assert "made-up-model" not in metrics
    assert 'modelrouter_requests_total{model="-",protocol="openai_chat",provider="-",status="404"}' in metrics


def test_the_ledger_records_cost_and_no_secret_leaks_anywhere(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    raw = oai(gateway).chat.completions.with_raw_response.create(
        model="claude-sonnet-5.5@anthropic", messages=HI
    )
    request_id = raw.headers["x-request-id"]
    assert float(raw.headers["x-modelrouter-cost-usd"]) > 0
    row = final_request_row(gateway, request_id, "provider, input_tokens, output_tokens, cost_micro_usd")
    state, provider, input_tokens, output_tokens, cost = row
    assert (state, provider) == ("ok", "anthropic") and input_tokens > 0 and output_tokens > 0
    assert cost == round(float(raw.headers["x-modelrouter-cost-usd"]) * 1_000_000)
    fake.fail_next(1, status=401, label="openai")
    with pytest.raises(openai.APIStatusError) as caught:
        oai(gateway).chat.completions.create(model="gpt-5.2@openai", messages=HI)
    seen = caught.value.message + str(caught.value.response.headers) + gateway.log
    seen += (gateway.directory / "ledger.db").read_bytes().decode(errors="replace")
    for secret in SECRETS.values():
        assert secret not in seen
    assert fake.requests[-1].headers["authorization"] == f"Bearer {SECRETS['openai']}"


@pytest.mark.parametrize("case", list(TARGETS))
def test_tool_loop_streamed_from_both_doors_to_every_provider(
    gateway: RunningGateway, fake: FakeUpstream, case: str
) -> None:
    label, model, _ = TARGETS[case]
    functions: Any = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_SCHEMA}}]
    question: Any = [{"role": "user", "content": "weather in Paris?"}]
    with oai(gateway).chat.completions.stream(model=model, messages=question, tools=functions) as stream:
        message = stream.get_final_completion().choices[0].message
    [call] = message.tool_calls or []
    assert (call.function.name, json.loads(call.function.arguments)) == (
        "get_weather",
        {"city": "city-value"},
    )
    history: Any = [
        *question,
        message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    answered = oai(gateway).chat.completions.create(model=model, tools=functions, messages=history)
    assert answered.choices[0].message.content == f"fake {label} saw the tool result: sunny"
    tools: Any = [{"name": "get_weather", "input_schema": WEATHER_SCHEMA}]
    with ant(gateway).messages.stream(model=model, max_tokens=200, tools=tools, messages=question) as s:
        first = s.get_final_message()
    [use] = [b for b in first.content if b.type == "tool_use"]
    assert (use.name, use.input, first.stop_reason) == ("get_weather", {"city": "city-value"}, "tool_use")
    turns: Any = [
        *question,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}]},
    ]
    final = ant(gateway).messages.create(model=model, max_tokens=200, tools=tools, messages=turns)
    assert final.content[0].text == f"fake {label} saw the tool result: sunny"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "extra",
    [
        {"api_base": "http://169.254.169.254/latest"},
        {"base_url": "http://evil.example"},
        {"litellm_params": {"nested": {"api_key": "sk-stolen"}}},
        {"extra_headers": {"x-api-key": "k"}},
    ],
)
def test_a_body_cannot_redirect_or_recredential_a_call(
    gateway: RunningGateway, fake: FakeUpstream, extra: dict[str, Any]
) -> None:
    with pytest.raises(openai.BadRequestError, match="config decides where requests go"):
        oai(gateway).chat.completions.create(model="gpt-5.2", messages=HI, extra_body=extra)
    with pytest.raises(anthropic.BadRequestError, match="config decides where requests go"):
        ant(gateway).messages.create(model="gpt-5.2", max_tokens=10, messages=HI, extra_body=extra)
    assert fake.requests == []


def test_count_tokens_asks_anthropic_or_says_it_estimates(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    counted = ant(gateway).messages.with_raw_response.count_tokens(
        model="claude-sonnet-5.5@anthropic", messages=HI
    )
    assert counted.headers["x-modelrouter-token-count"] == "provider"
    assert counted.parse().input_tokens == 12  # the fake's count for "hello there"
    [logged] = fake.requests
    assert logged.protocol == "anthropic_count_tokens" and set(logged.body) == {"model", "messages"}
    estimated = ant(gateway).messages.with_raw_response.count_tokens(model="gpt-5.2", messages=HI)
    assert estimated.headers["x-modelrouter-token-count"] == "estimated"
    assert 0 < estimated.parse().input_tokens < 50
    with pytest.raises(anthropic.NotFoundError):
        ant(gateway).messages.count_tokens(model="no-such-model", messages=HI)


def test_a_conversation_stays_where_its_prompt_cache_is(gateway: RunningGateway, fake: FakeUpstream) -> None:
    client = oai(gateway)
    turns: Any = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "first question"},
    ]
    fake.fail_next(1, status=503, label="openai")
    first = client.chat.completions.with_raw_response.create(model="gpt-5.2", messages=turns)
    assert first.headers["x-modelrouter-provider"] == "azure"  # openai failed once: azure now holds the cache
    turns += [
        {"role": "assistant", "content": first.parse().choices[0].message.content},
        {"role": "user", "content": "and?"},
    ]
    second = client.chat.completions.with_raw_response.create(model="gpt-5.2", messages=turns)
    assert (second.headers["x-modelrouter-provider"], second.headers["x-modelrouter-affinity"]) == (
        "azure",
        "kept",
    )
    fake.fail_next(1, status=503, label="azure")
    turns += [{"role": "assistant", "content": "ok"}, {"role": "user", "content": "again?"}]
    third = client.chat.completions.with_raw_response.create(model="gpt-5.2", messages=turns)
    assert third.headers["x-modelrouter-provider"] == "openai"
    assert third.headers["x-modelrouter-affinity"] == "moved: gpt-5.2@azure failed"
    assert (
        final_request_row(gateway, third.headers["x-request-id"], "affinity")[1]
        == "moved: gpt-5.2@azure failed"
    )
    other = client.chat.completions.with_raw_response.create(
        model="gpt-5.2", messages=[{"role": "user", "content": "a different conversation"}, *turns[2:4]]
    )
    assert (
        other.headers["x-modelrouter-affinity"] == "new"
        and other.headers["x-modelrouter-provider"] == "openai"
    )
    session = {"x-modelrouter-session": "s-1"}
    one = client.chat.completions.with_raw_response.create(
        model="gpt-5.2", messages=HI, extra_headers=session
    )
    assert one.headers["x-modelrouter-affinity"] == "new"
    two = client.chat.completions.with_raw_response.create(
        model="gpt-5.2", messages=HI, extra_headers=session
    )
    assert two.headers["x-modelrouter-affinity"] == "kept"


def test_anthropic_beta_reaches_providers_that_understand_it(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    beta = {"anthropic-beta": "context-1m-2025-08-07, interleaved-thinking-2025-05-14"}
    wanted = ["context-1m-2025-08-07", "interleaved-thinking-2025-05-14"]
    for model in (
        "claude-sonnet-5.5@anthropic",
        "claude-sonnet-5.5@vertex:eu",
        "claude-sonnet-5.5@bedrock:eu",
        "gpt-5.2@openai",
    ):
        ant(gateway).messages.create(model=model, max_tokens=20, messages=HI, extra_headers=beta)
    anthropic_call, vertex_call, bedrock_call, openai_call = fake.requests
    assert (
        anthropic_call.headers["anthropic-beta"] == ",".join(wanted)
        and "anthropic_beta" not in anthropic_call.body
    )
    assert vertex_call.body["anthropic_beta"] == wanted
    assert bedrock_call.body["additionalModelRequestFields"]["anthropic_beta"] == wanted
    assert "anthropic-beta" not in openai_call.headers and "anthropic_beta" not in openai_call.body


def test_deeply_nested_bodies_get_a_4xx_in_the_dialect_never_a_500(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    deep = (
        b'{"model": "gpt-5.2", "messages": [{"role": "user", "content": "hi"}], "x": '
        + b"[" * 1000
        + b"]" * 1000
        + b"}"
    )
    too_deep = b'{"model": "gpt-5.2", "messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for path in ("/v1/chat/completions", "/v1/messages", "/v1/responses"):
        for body in (deep, too_deep):
            response = requests.post(
                gateway.url + path, data=body, headers={"content-type": "application/json"}, timeout=10
            )
            assert 400 <= response.status_code < 500 or response.status_code == 200, (
                path,
                response.status_code,
            )
            assert response.status_code != 500


@pytest.mark.parametrize(
    ("model", "label"),
    [
        ("gpt-5.2@openai", "openai"),
        ("claude-sonnet-5.5@anthropic", "anthropic"),
        ("gemini-3.1-pro@google", "google"),
    ],
)
def test_a_provider_echoing_its_credential_leaks_it_nowhere(
    gateway: RunningGateway, fake: FakeUpstream, model: str, label: str
) -> None:
    """A key a provider quotes back is redacted, whole and in part (reliability.md A6).

    Not in the answer, not in the ledger, not in the log.
    """
    log_before = len(gateway.log)
    fake.fail_next(1, status=401, label=label, echo_credentials=True)
    with pytest.raises(openai.APIStatusError) as caught:
        oai(gateway).chat.completions.create(model=model, messages=HI)
    assert "you sent" in caught.value.message and "[redacted]" in caught.value.message
    request_id = caught.value.response.headers["x-request-id"]
    final_request_row(gateway, request_id, "error")
    seen = caught.value.message + str(caught.value.response.headers) + gateway.log[log_before:]
    seen += str(ledger_rows(gateway, "SELECT error FROM attempts WHERE request_id = ?", (request_id,)))
    seen += str(ledger_rows(gateway, "SELECT error FROM requests WHERE request_id = ?", (request_id,)))
    for secret in SECRETS.values():
        for start in range(len(secret) - 8 + 1):
            assert secret[start : start + 8] not in seen, (secret[:4], start)
