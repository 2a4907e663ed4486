"""The fakes are only as good as their wire format: the official SDKs must parse every answer.

Each SDK is pointed at the fake as its documentation says to point it at a proxy (see
../shared/reference/providers.md section 8) with retries off; answers, streams, tool calls,
thinking and errors must come out of the SDK as they would from the real provider.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import anthropic
import boto3
import botocore.exceptions
import openai
import pytest
import requests
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as gtypes

from tests.fakes import PARALLEL_PHRASE, FakeUpstream

WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TIME: Any = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
    },
}
HI: Any = [{"role": "user", "content": "hello there"}]


_OPEN: list[Any] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close every SDK client a test made (an unclosed one leaks a socket into a later test)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def opened(client: Any) -> Any:
    _OPEN.append(client)
    return client


def drain(stream: Any) -> list[Any]:
    """Read a stream to its end or its error, and close it either way (no socket left behind)."""
    try:
        return list(stream)
    finally:
        stream.close()


def openai_client(fake: FakeUpstream, label: str = "openai") -> openai.OpenAI:
    client: openai.OpenAI = opened(
        openai.OpenAI(base_url=f"{fake.url}/{label}/v1", api_key="sk-test", max_retries=0)
    )
    return client


def anthropic_client(fake: FakeUpstream, label: str = "anthropic") -> anthropic.Anthropic:
    client: anthropic.Anthropic = opened(
        anthropic.Anthropic(base_url=f"{fake.url}/{label}", api_key="sk-ant-test", max_retries=0)
    )
    return client


# --- OpenAI ----------------------------------------------------------------------------------


def test_openai_answer_is_derived_from_the_request(fake: FakeUpstream) -> None:
    completion = openai_client(fake).chat.completions.create(model="gpt-5.2", messages=HI)
    assert completion.choices[0].message.content == "fake openai answer to: hello there"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "gpt-5.2"
    assert completion.usage is not None and completion.usage.prompt_tokens == 12
    [logged] = fake.requests
    assert (logged.label, logged.protocol, logged.body["model"]) == ("openai", "openai_chat", "gpt-5.2")
    assert logged.headers["authorization"] == "Bearer sk-test"


def test_openai_stream_with_usage_through_the_sdk_helper(fake: FakeUpstream) -> None:
    client = openai_client(fake)
    with client.chat.completions.stream(
        model="gpt-5.2", messages=HI, stream_options={"include_usage": True}
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "fake openai answer to: hello there"
    assert final.usage is not None and final.usage.completion_tokens > 0


def test_openai_parallel_tool_calls_streamed_and_not(fake: FakeUpstream) -> None:
    client = openai_client(fake)
    messages: Any = [{"role": "user", "content": f"please {PARALLEL_PHRASE}"}]
    whole = client.chat.completions.create(model="gpt-5.2", messages=messages, tools=[WEATHER, TIME])
    calls = whole.choices[0].message.tool_calls or []
    assert [(c.function.name, c.function.arguments) for c in calls] == [  # type: ignore[union-attr]
        ("get_weather", '{"city": "city-value"}'),
        ("get_time", '{"zone": "zone-value"}'),
    ]
    assert whole.choices[0].finish_reason == "tool_calls"
    with client.chat.completions.stream(model="gpt-5.2", messages=messages, tools=[WEATHER, TIME]) as stream:
        final = stream.get_final_completion()
    streamed = final.choices[0].message.tool_calls or []
    assert [(c.function.name, c.function.arguments) for c in streamed] == [
        (c.function.name, c.function.arguments)  # type: ignore[union-attr]
        for c in calls
    ]


def test_openai_tool_result_turn_is_answered(fake: FakeUpstream) -> None:
    messages: Any = [
        *HI,
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
    ]
    completion = openai_client(fake).chat.completions.create(
        model="gpt-5.2", messages=messages, tools=[WEATHER]
    )
    assert completion.choices[0].message.content == "fake openai saw the tool result: sunny"


def test_openai_async_and_azure_clients(fake: FakeUpstream) -> None:
    async def run() -> str | None:
        async with openai.AsyncOpenAI(
            base_url=f"{fake.url}/openai/v1", api_key="sk-test", max_retries=0
        ) as client:
            chunks = [
                c async for c in await client.chat.completions.create(model="m", messages=HI, stream=True)
            ]
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    assert asyncio.run(run()) == "fake openai answer to: hello there"
    azure = opened(
        openai.AzureOpenAI(
            azure_endpoint=f"{fake.url}/azure",
            api_version="2024-10-21",
            api_key="az-key",
            azure_deployment="my-gpt",
            max_retries=0,
        )
    )
    completion = azure.chat.completions.create(model="my-gpt", messages=HI)
    assert completion.choices[0].message.content == "fake azure answer to: hello there"
    logged = fake.requests[-1]
    assert logged.path == "/azure/openai/deployments/my-gpt/chat/completions"
    assert logged.query == {"api-version": "2024-10-21"} and logged.headers["api-key"] == "az-key"


def test_openai_faults_reach_the_sdk_as_its_own_errors(fake: FakeUpstream) -> None:
    client = openai_client(fake)
    fake.fail_next(1, status=429, retry_after=7)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="m", messages=HI)
    assert caught.value.response.headers["retry-after"] == "7"
    fake.fail_next(1, status=503)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=HI)
    unauthenticated = requests.post(
        f"{fake.url}/openai/v1/chat/completions", json={"model": "m", "messages": HI}
    )
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["code"] == "invalid_api_key"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="m", messages=[])
    fake.in_band_error()
    with pytest.raises(openai.APIError, match="server had an error"):
        drain(client.chat.completions.create(model="m", messages=HI, stream=True))
    fake.cut_stream_after(3)
    with pytest.raises(openai.APIError):
        drain(client.chat.completions.create(model="m", messages=HI, stream=True))
    assert client.chat.completions.create(model="m", messages=HI).choices[0].message.content


# --- Anthropic -------------------------------------------------------------------------------


def test_anthropic_answer_stream_and_thinking(fake: FakeUpstream) -> None:
    client = anthropic_client(fake)
    message = client.messages.create(model="claude-sonnet-5-5", max_tokens=100, messages=HI)
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "fake anthropic answer to: hello there"  # type: ignore[union-attr]
    assert message.usage.input_tokens == 12 and message.stop_reason == "end_turn"
    assert fake.requests[-1].headers["anthropic-version"]
    with client.messages.stream(
        model="claude-sonnet-5-5",
        max_tokens=2000,
        messages=HI,
        thinking={"type": "enabled", "budget_tokens": 1024},
    ) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "The user asked: hello there"  # type: ignore[union-attr]
    assert final.content[0].signature.startswith("sig-")  # type: ignore[union-attr]
    assert final.usage.output_tokens == message.usage.output_tokens + 5


def test_anthropic_parallel_tools_async(fake: FakeUpstream) -> None:
    tools: Any = [
        {"name": "get_weather", "input_schema": WEATHER["function"]["parameters"]},
        {"name": "get_time", "input_schema": TIME["function"]["parameters"]},
    ]

    async def run() -> Any:
        async with (
            anthropic.AsyncAnthropic(base_url=f"{fake.url}/anthropic", api_key="k", max_retries=0) as client,
            client.messages.stream(
                model="m",
                max_tokens=100,
                tools=tools,
                messages=[{"role": "user", "content": PARALLEL_PHRASE}],
            ) as stream,
        ):
            return await stream.get_final_message()

    final = asyncio.run(run())
    assert [(b.name, b.input) for b in final.content] == [
        ("get_weather", {"city": "city-value"}),
        ("get_time", {"zone": "zone-value"}),
    ]
    assert final.stop_reason == "tool_use"


def test_anthropic_vertex_raw_predict(fake: FakeUpstream) -> None:
    client = opened(
        anthropic.AnthropicVertex(
            region="europe-west1",
            project_id="p",
            access_token="ya29.test",
            base_url=f"{fake.url}/vertex/v1",
            max_retries=0,
        )
    )
    message = client.messages.create(model="claude-sonnet-4-5@20250929", max_tokens=50, messages=HI)
    assert message.content[0].text == "fake vertex answer to: hello there"
    logged = fake.requests[-1]
    assert logged.path.endswith("/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict")
    assert "model" not in logged.body and logged.body["anthropic_version"]


def test_anthropic_faults(fake: FakeUpstream) -> None:
    client = anthropic_client(fake)
    fake.fail_next(1, status=529)
    with pytest.raises(anthropic.APIStatusError) as caught:
        client.messages.create(model="m", max_tokens=10, messages=HI)
    assert caught.value.status_code == 529 and "overloaded_error" in str(caught.value.body)
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="m", max_tokens=10, messages=[])
    fake.in_band_error()
    with (
        pytest.raises(anthropic.APIStatusError, match="Overloaded"),
        client.messages.stream(model="m", max_tokens=10, messages=HI) as stream,
    ):
        stream.get_final_message()


# --- Gemini ----------------------------------------------------------------------------------


def gemini_client(fake: FakeUpstream, label: str = "google") -> genai.Client:
    options = gtypes.HttpOptions(base_url=f"{fake.url}/{label}", api_version="v1beta", retry_options=None)
    client: genai.Client = opened(genai.Client(api_key="AIza-test", http_options=options))
    return client


def test_gemini_answer_stream_and_function_call(fake: FakeUpstream) -> None:
    client = gemini_client(fake)
    answer = client.models.generate_content(model="gemini-3-pro-preview", contents="hello there")
    assert answer.text == "fake google answer to: hello there"
    assert answer.usage_metadata is not None and answer.usage_metadata.prompt_token_count == 12
    assert fake.requests[-1].headers["x-goog-api-key"] == "AIza-test"
    streamed = "".join(
        c.text or "" for c in client.models.generate_content_stream(model="g", contents="hello there")
    )
    assert streamed == answer.text
    function = gtypes.FunctionDeclaration(
        name="get_weather",
        parameters_json_schema={
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    )
    config = gtypes.GenerateContentConfig(
        tools=[gtypes.Tool(function_declarations=[function])],
        thinking_config=gtypes.ThinkingConfig(include_thoughts=True),
        automatic_function_calling=gtypes.AutomaticFunctionCallingConfig(disable=True),
    )
    called = client.models.generate_content(model="g", contents="weather?", config=config)
    assert called.function_calls is not None
    assert [(c.name, c.args) for c in called.function_calls] == [("get_weather", {"city": "city-value"})]
    parts = called.candidates[0].content.parts  # type: ignore[index,union-attr]
    assert parts is not None and parts[0].thought and parts[1].thought_signature


def test_gemini_errors(fake: FakeUpstream) -> None:
    client = gemini_client(fake)
    fake.fail_next(1, status=429, retry_after=3)
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model="g", contents="hi")
    assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
    fake.fail_next(1, status=503)
    with pytest.raises(genai_errors.ServerError):
        client.models.generate_content(model="g", contents="hi")


# --- Bedrock ---------------------------------------------------------------------------------


def bedrock_client(fake: FakeUpstream, label: str = "bedrock") -> Any:
    return opened(
        boto3.client(
            "bedrock-runtime",
            region_name="eu-central-1",
            endpoint_url=f"{fake.url}/{label}",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=botocore.config.Config(retries={"total_max_attempts": 1}),
        )
    )


MODEL = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_bedrock_converse_and_stream(fake: FakeUpstream) -> None:
    client = bedrock_client(fake)
    messages = [{"role": "user", "content": [{"text": "hello there"}]}]
    answer = client.converse(modelId=MODEL, messages=messages)
    assert answer["output"]["message"]["content"] == [{"text": "fake bedrock answer to: hello there"}]
    assert answer["usage"]["inputTokens"] == 12 and answer["stopReason"] == "end_turn"
    logged = fake.requests[-1]
    assert unquote(logged.path) == f"/bedrock/model/{MODEL}/converse"
    assert logged.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    events = list(
        client.converse_stream(
            modelId=MODEL,
            messages=messages,
            additionalModelRequestFields={"thinking": {"type": "enabled", "budget_tokens": 1024}},
        )["stream"]
    )
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart" and kinds[-2:] == ["messageStop", "metadata"]
    text = "".join(
        e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e
    )
    assert text == "fake bedrock answer to: hello there"
    signatures = [
        e["contentBlockDelta"]["delta"]["reasoningContent"]["signature"]
        for e in events
        if "signature" in e.get("contentBlockDelta", {}).get("delta", {}).get("reasoningContent", {})
    ]
    assert len(signatures) == 1


def test_bedrock_tool_use_stream(fake: FakeUpstream) -> None:
    client = bedrock_client(fake)
    tools = {
        "tools": [
            {"toolSpec": {"name": "get_weather", "inputSchema": {"json": WEATHER["function"]["parameters"]}}}
        ]
    }
    response = client.converse_stream(
        modelId=MODEL, messages=[{"role": "user", "content": [{"text": "weather?"}]}], toolConfig=tools
    )
    events = list(response["stream"])
    starts = [e["contentBlockStart"]["start"]["toolUse"]["name"] for e in events if "contentBlockStart" in e]
    fragments = "".join(
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in events
        if "toolUse" in e.get("contentBlockDelta", {}).get("delta", {})
    )
    assert starts == ["get_weather"] and fragments == '{"city": "city-value"}'
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"


def test_bedrock_errors(fake: FakeUpstream) -> None:
    client = bedrock_client(fake)
    messages = [{"role": "user", "content": [{"text": "hi"}]}]
    fake.fail_next(1, status=429)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.converse(modelId=MODEL, messages=messages)
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    fake.in_band_error()
    with pytest.raises(botocore.exceptions.EventStreamError, match="serviceUnavailableException"):
        drain(client.converse_stream(modelId=MODEL, messages=messages)["stream"])


def test_a_request_left_waiting_by_an_earlier_test_takes_none_of_the_next_tests_faults(
    fake: FakeUpstream,
) -> None:
    """A delayed request from before `reset` would otherwise use up a failure armed after it."""
    client = openai.OpenAI(base_url=fake.url + "/openai/v1", api_key="sk-test", max_retries=0)
    fake.delay(1.0, label="openai", n=1)
    left_waiting = threading.Thread(
        target=lambda: client.chat.completions.create(model="gpt-5.2", messages=HI), daemon=True
    )
    left_waiting.start()
    deadline = time.monotonic() + 5
    while not fake.labels() and time.monotonic() < deadline:
        time.sleep(0.01)
    fake.reset()  # the next test begins
    fake.fail_next(1, status=500, label="openai")
    left_waiting.join(5)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-5.2", messages=HI)
    client.close()
