"""The Responses API door end to end: the openai SDK through the gateway to every provider protocol."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.fakes import FakeUpstream
from tests.gateway.harness import RunningGateway

TARGETS = {
    "openai": "gpt-5.2@openai",
    "anthropic": "claude-sonnet-5.5@anthropic",
    "google": "gemini-3.1-pro@google",
    "bedrock-eu-central-1": "claude-sonnet-5.5@bedrock:eu",
}
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture
def client(gateway: RunningGateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gateway.url + "/v1", api_key="unused", max_retries=0) as sdk:
        yield sdk


@pytest.mark.parametrize("label", list(TARGETS))
def test_text_answers_whole_and_streamed(client: openai.OpenAI, fake: FakeUpstream, label: str) -> None:
    raw = client.responses.with_raw_response.create(
        model=TARGETS[label], input="hello there", instructions="be brief"
    )
    response = raw.parse()
    assert response.output_text == f"fake {label} answer to: hello there"
    assert response.status == "completed" and response.usage is not None and response.usage.input_tokens > 0
    assert raw.headers["x-modelrouter-provider"] == label.split("-", 1)[0]
    with client.responses.stream(model=TARGETS[label], input="hello there") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert final.output_text == response.output_text
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds and final.usage is not None


@pytest.mark.parametrize("label", list(TARGETS))
def test_a_function_call_loop(client: openai.OpenAI, fake: FakeUpstream, label: str) -> None:
    with client.responses.stream(model=TARGETS[label], input="weather in Paris?", tools=[WEATHER]) as stream:
        first = stream.get_final_response()
    [call] = [item for item in first.output if item.type == "function_call"]
    assert (call.name, call.arguments.replace(" ", "")) == ("get_weather", '{"city":"city-value"}')
    follow_up: Any = [
        {"role": "user", "content": "weather in Paris?"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
    ]
    answer = client.responses.create(model=TARGETS[label], input=follow_up, tools=[WEATHER])
    assert answer.output_text == f"fake {label} saw the tool result: sunny"


def test_what_the_gateway_cannot_do_is_a_clear_400(client: openai.OpenAI, fake: FakeUpstream) -> None:
    with pytest.raises(openai.BadRequestError, match="send the whole conversation"):
        client.responses.create(model="gpt-5.2", input="hi", previous_response_id="resp_123")
    with pytest.raises(openai.BadRequestError, match="tool type 'teleport' is not supported"):
        teleport: Any = [{"type": "teleport"}]
        client.responses.create(model="gpt-5.2", input="hi", tools=teleport)
    assert fake.requests == []


def test_codex_style_tools_namespaces_flattened_built_ins_dropped(
    client: openai.OpenAI, fake: FakeUpstream
) -> None:
    tools: Any = [
        {"type": "web_search", "external_web_access": False},
        {"type": "namespace", "name": "agents", "description": "sub-agents", "tools": [WEATHER]},
    ]
    answer = client.responses.create(model="claude-sonnet-5.5@anthropic", input="weather?", tools=tools)
    assert [item.type for item in answer.output] == ["function_call"]
    assert [t["name"] for t in fake.requests[-1].body["tools"]] == ["get_weather"]


def test_a_stream_cut_mid_way_fails_honestly(client: openai.OpenAI, fake: FakeUpstream) -> None:
    fake.cut_stream_after(4, label="openai")
    with client.responses.stream(model="gpt-5.2@openai", input="hello there") as stream:
        kinds = [event.type for event in stream]
    assert "response.completed" not in kinds and kinds[-2:] == ["error", "response.failed"]
