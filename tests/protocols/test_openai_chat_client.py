"""The OpenAI front door: client requests in, answers and streams out, checked with the official SDK."""

from __future__ import annotations

from typing import Any

import openai
import orjson
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from modelrouter import ir
from modelrouter.errors import BadRequest
from modelrouter.protocols import openai_chat
from tests.protocols.openai_chat_helpers import (
    CHAT_CASSETTES,
    USER_HI,
    decode_all,
    is_stream,
    joined,
    json_answer,
    request_body,
    sdk_client,
    sse_answer,
)
from tests.recorded import cassette

# --- decode_request: malformed input -----------------------------------------------------------

BAD_REQUESTS: list[tuple[bytes, str]] = [
    (b"{not json", "the request body is not valid JSON"),
    (b"[1, 2]", "the request body must be a JSON object with `model` and `messages`"),
    (orjson.dumps({"messages": USER_HI}), "`model` is required and must be a non-empty string"),
    (orjson.dumps({"model": "m"}), "`messages` must be a list"),
    (request_body(messages=[]), "`messages` must hold at least one message"),
    (request_body(messages=["hi"]), "`messages[0]` must be an object"),
    (
        request_body(messages=[{"role": "robot", "content": "x"}]),
        "`messages[0].role` must be system, developer, user",
    ),
    (request_body(messages=[{"role": "user", "content": 3}]), "`messages[0].content` must be a list"),
    (
        request_body(messages=[{"role": "user", "content": [{"type": "video", "url": "x"}]}]),
        "`messages[0].content[0].type` must be text, image_url or file",
    ),
    (
        request_body(
            messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]}]
        ),
        "`messages[0].content[0].image_url.url` must be an https URL or a base64 data URL",
    ),
    (
        request_body(
            messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:x"}}]}]
        ),
        "`messages[0].content[0].image_url.url` must be a base64 data URL",
    ),
    (
        request_body(
            messages=[{"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1"}}]}]
        ),
        "`messages[0].content[0].file.file_id` names a file stored at OpenAI",
    ),
    (
        request_body(messages=[{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]),
        "`messages[0].content[0]`: audio input is not supported",
    ),
    (request_body(messages=[{"role": "tool", "content": "x"}]), "`messages[0].tool_call_id` is required"),
    (
        request_body(
            messages=[{"role": "assistant", "tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]}]
        ),
        "`messages[0].tool_calls[0].function.name` is required and must be a string",
    ),
    (
        request_body(messages=[{"role": "assistant", "content": [{"type": "image_url"}]}]),
        "`messages[0].content[0].type` must be text or refusal in an assistant message",
    ),
    (
        request_body(messages=[{"role": "function", "content": "x"}]),
        "`messages[0]`: legacy `function` messages are not supported",
    ),
    (
        request_body(functions=[]),
        "the legacy `functions` / `function_call` fields are not supported; use `tools`",
    ),
    (request_body(n=2), "`n` must be 1: modelrouter returns one choice per request"),
    (request_body(logprobs=True), "`logprobs` is not supported through modelrouter"),
    (request_body(modalities=["text", "audio"]), "only text output is supported"),
    (request_body(max_tokens=0), "`max_tokens` must be at least 1"),
    (request_body(max_completion_tokens="10"), "`max_completion_tokens` must be an integer"),
    (request_body(temperature=True), "`temperature` must be a number"),
    (request_body(stop=[1]), "`stop[0]` is required and must be a string"),
    (request_body(stream="yes"), "`stream` must be true or false"),
    (request_body(stream=True, stream_options=[]), "`stream_options` must be an object"),
    (request_body(tools=[{"type": "custom", "custom": {"name": "x"}}]), "`tools[0].type` must be function"),
    (request_body(tools=[{"type": "function", "function": {}}]), "`tools[0].function.name` is required"),
    (request_body(tool_choice={"type": "allowed_tools"}), "`tool_choice` must be none, auto, required"),
    (
        request_body(response_format={"type": "xml"}),
        "`response_format.type` must be text, json_object or json_schema",
    ),
    (request_body(reasoning_effort=3), "`reasoning_effort` must be a string"),
    (
        request_body(messages=[{"role": "assistant", "reasoning_details": {}}]),
        "`reasoning_details` must be a list",
    ),
]


@pytest.mark.parametrize(("body", "message"), BAD_REQUESTS)
def test_malformed_requests_are_refused_with_a_message_naming_the_field(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as raised:
        openai_chat.decode_request(body)
    assert raised.value.message.startswith(message)
    assert raised.value.status == 400


# --- decode_request: what each field becomes ----------------------------------------------------


def test_system_and_developer_messages_are_hoisted_in_order_even_mid_conversation() -> None:
    request = openai_chat.decode_request(
        request_body(
            messages=[
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                {"role": "system", "content": [{"type": "text", "text": "Now answer in French."}]},
                {"role": "assistant", "content": "Bonjour"},
            ]
        )
    )
    assert request.system == [ir.TextPart(text="Be brief."), ir.TextPart(text="Now answer in French.")]
    assert request.messages == [
        ir.Message(role="user", content=[ir.TextPart(text="Hi")]),
        ir.Message(role="assistant", content=[ir.TextPart(text="Bonjour")]),
    ]


def test_user_content_parts() -> None:
    request = openai_chat.decode_request(
        request_body(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Look", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                        {
                            "type": "image_url",
                            "image_url": {"url": "https://example.com/a.png", "detail": "high"},
                        },
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                        {
                            "type": "file",
                            "file": {
                                "file_data": "data:application/pdf;base64,JVBERi0=",
                                "filename": "a.pdf",
                            },
                        },
                    ],
                }
            ]
        )
    )
    assert request.messages[0].content == [
        ir.TextPart(text="Look", cache_control=ir.CacheControl(type="ephemeral", ttl="1h")),
        ir.ImagePart(url="https://example.com/a.png", detail="high"),
        ir.ImagePart(media_type="image/png", data="iVBORw0KGgo="),
        ir.DocumentPart(media_type="application/pdf", data="JVBERi0=", filename="a.pdf"),
    ]


def test_consecutive_tool_messages_become_one_user_turn_with_names_from_the_calls() -> None:
    request = openai_chat.decode_request(
        request_body(
            messages=[
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                        },
                        {
                            "id": "c2",
                            "type": "function",
                            "function": {"name": "weather", "arguments": '{"city":"Rome"}'},
                        },
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "18C"},
                {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "22C"}]},
                {"role": "user", "content": "Thanks"},
            ]
        )
    )
    assert request.messages[1:] == [
        ir.Message(
            role="assistant",
            content=[
                ir.ToolCallPart(id="c1", name="weather", arguments='{"city":"Paris"}'),
                ir.ToolCallPart(id="c2", name="weather", arguments='{"city":"Rome"}'),
            ],
        ),
        ir.Message(
            role="user",
            content=[
                ir.ToolResultPart(tool_call_id="c1", content=[ir.TextPart(text="18C")], name="weather"),
                ir.ToolResultPart(tool_call_id="c2", content=[ir.TextPart(text="22C")], name="weather"),
            ],
        ),
        ir.Message(role="user", content=[ir.TextPart(text="Thanks")]),
    ]


def test_options_map_onto_the_ir_and_unknown_fields_go_to_extra() -> None:
    request = openai_chat.decode_request(
        request_body(
            max_tokens=50,
            max_completion_tokens=100,
            temperature=0.2,
            top_p=0.9,
            top_k=40,
            stop="END",
            seed=7,
            user="u-1",
            reasoning_effort="high",
            stream=True,
            stream_options={"include_usage": True},
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "r", "schema": {"type": "object"}, "strict": True},
            },
            tools=[
                {
                    "type": "function",
                    "function": {"name": "f", "parameters": {"type": "object"}, "strict": True},
                }
            ],
            tool_choice={"type": "function", "function": {"name": "f"}},
            parallel_tool_calls=False,
            route="eu-private",
            metadata={"k": "v"},
        )
    )
    assert (request.max_tokens, request.temperature, request.top_p, request.top_k) == (100, 0.2, 0.9, 40)
    assert (request.stop, request.seed, request.user) == (["END"], 7, "u-1")
    assert request.reasoning == ir.ReasoningConfig(effort="high")
    assert (request.stream, request.include_usage) == (True, True)
    assert request.response_format == ir.ResponseFormat(
        type="json_schema", schema={"type": "object"}, name="r", strict=True
    )
    assert request.tools == [ir.ToolSpec(name="f", parameters={"type": "object"}, strict=True)]
    assert request.tool_choice == ir.ToolChoice(mode="tool", name="f", parallel=False)
    assert request.extra == {"top_k": 40, "route": "eu-private", "metadata": {"k": "v"}}


def test_max_tokens_alone_and_reasoning_effort_none() -> None:
    request = openai_chat.decode_request(request_body(max_tokens=30, reasoning_effort="none"))
    assert request.max_tokens == 30
    assert request.reasoning == ir.ReasoningConfig(effort="none", enabled=False)
    assert request.include_usage is False


def test_openrouter_reasoning_object_is_read_and_kept() -> None:
    request = openai_chat.decode_request(request_body(reasoning={"max_tokens": 2000, "exclude": True}))
    assert request.reasoning == ir.ReasoningConfig(budget_tokens=2000, include_thoughts=False)
    assert request.extra == {"reasoning": {"max_tokens": 2000, "exclude": True}}
    body = orjson.loads(openai_chat.encode_request(request, model="m"))
    assert body["reasoning"] == {"max_tokens": 2000, "exclude": True}
    assert "reasoning_effort" not in body


def test_include_usage_only_counts_when_streaming() -> None:
    request = openai_chat.decode_request(request_body(stream_options={"include_usage": True}))
    assert (request.stream, request.include_usage) == (False, False)


def test_assistant_reasoning_from_each_dialect() -> None:
    def reasoning_of(message: dict[str, Any]) -> list[ir.Part]:
        body = request_body(messages=[*USER_HI, {"role": "assistant", "content": "ok", **message}])
        return openai_chat.decode_request(body).messages[1].content[:-1]

    assert reasoning_of({"reasoning_content": "thought"}) == [
        ir.ReasoningPart(text="thought", origin="deepseek")
    ]
    assert reasoning_of({"reasoning": "thought"}) == [ir.ReasoningPart(text="thought", origin="openrouter")]
    details = [
        {
            "type": "reasoning.text",
            "text": "a",
            "signature": "s1",
            "format": "anthropic-claude-v1",
            "index": 0,
        },
        {"type": "reasoning.encrypted", "data": "blob", "format": "anthropic-claude-v1", "index": 1},
        {"type": "reasoning.summary", "summary": "sum", "format": "openai-responses-v1", "index": 2},
        {"type": "reasoning.unknown_kind", "index": 3},
    ]
    assert reasoning_of({"reasoning": "a", "reasoning_content": "a", "reasoning_details": details}) == [
        ir.ReasoningPart(text="a", signature="s1", origin="anthropic"),
        ir.ReasoningPart(redacted="blob", origin="anthropic"),
        ir.ReasoningPart(text="sum", origin="openai"),
    ]


# --- encode_response, checked by the SDK's own model ------------------------------------------


def _answer(**fields: Any) -> ir.Response:
    base: dict[str, Any] = {
        "id": "chatcmpl-1",
        "model": "claude-sonnet-4-5",
        "content": [ir.TextPart(text="Hello")],
        "usage": ir.Usage(
            input_tokens=10, output_tokens=5, cache_read_tokens=4, cache_write_tokens=2, reasoning_tokens=1
        ),
        "created": 1700000000,
    }
    return ir.Response(**{**base, **fields})


def test_encode_response_is_a_valid_chat_completion() -> None:
    body = openai_chat.encode_response(_answer(), provider="anthropic")
    assert orjson.loads(body) == {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "claude-sonnet-4-5",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "prompt_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 2},
            "completion_tokens_details": {"reasoning_tokens": 1},
        },
        "provider": "anthropic",
    }
    completion = ChatCompletion.model_validate_json(body)
    assert completion.choices[0].message.content == "Hello"
    assert completion.usage is not None and completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 4


def test_the_sdk_reads_a_full_answer_with_reasoning_tools_and_provider() -> None:
    answer = _answer(
        content=[
            ir.ReasoningPart(text="Let me think.", signature="sig-1", origin="anthropic"),
            ir.ReasoningPart(redacted="opaque", origin="anthropic"),
            ir.TextPart(text="Calling."),
            ir.ToolCallPart(id="toolu_1", name="lookup", arguments='{"q":"x"}'),
        ],
        stop_reason="tool_use",
        extra={"system_fingerprint": "fp_1"},
    )
    client = sdk_client(json_answer(openai_chat.encode_response(answer, provider="bedrock")))
    completion = client.chat.completions.create(model="m", messages=USER_HI)
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.system_fingerprint == "fp_1"
    assert (completion.model_extra or {})["provider"] == "bedrock"
    assert message.content == "Calling."
    assert message.tool_calls is not None
    assert [c.model_dump() for c in message.tool_calls] == [
        {"id": "toolu_1", "type": "function", "function": {"name": "lookup", "arguments": '{"q":"x"}'}}
    ]
    extra = message.model_extra or {}
    assert extra["reasoning_content"] == "Let me think."
    assert extra["reasoning_details"] == [
        {
            "type": "reasoning.text",
            "text": "Let me think.",
            "signature": "sig-1",
            "format": "anthropic-claude-v1",
            "index": 0,
        },
        {"type": "reasoning.encrypted", "data": "opaque", "format": "anthropic-claude-v1", "index": 1},
    ]


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("content_filter", "content_filter"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
        ("context_window_exceeded", "length"),
        ("error", "stop"),
        ("other", "stop"),
    ],
)
def test_every_stop_reason_maps_to_a_finish_reason_the_sdk_accepts(stop: ir.StopReason, finish: str) -> None:
    completion = ChatCompletion.model_validate_json(openai_chat.encode_response(_answer(stop_reason=stop)))
    assert completion.choices[0].finish_reason == finish


def test_a_tool_call_only_answer_has_null_content() -> None:
    answer = _answer(content=[ir.ToolCallPart(id="c", name="f")], stop_reason="tool_use")
    message = orjson.loads(openai_chat.encode_response(answer))["choices"][0]["message"]
    assert message == {
        "role": "assistant",
        "content": None,
        "refusal": None,
        "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
    }


# --- StreamEncoder ------------------------------------------------------------------------------

TEXT_EVENTS: list[ir.StreamEvent] = [
    ir.StreamStart(id="msg_1", model="claude-sonnet-4-5", created=1700000000),
    ir.PartStart(index=0, part=ir.TextPart(text="")),
    ir.TextDelta(index=0, text="Hel"),
    ir.TextDelta(index=0, text='lo "x"'),
    ir.PartStop(index=0),
    ir.UsageUpdate(usage=ir.Usage(input_tokens=9, output_tokens=2)),
    ir.StreamEnd(stop_reason="end_turn"),
]

META = b'data: {"id":"msg_1","object":"chat.completion.chunk","created":1700000000,"model":"gw",'
HEAD = META + b'"choices":[{"index":0,'


def test_stream_bytes_with_include_usage_are_exactly_openais() -> None:
    encoder = openai_chat.StreamEncoder(include_usage=True, model="gw")
    out = [encoder.encode(event) for event in TEXT_EVENTS]
    tail = b',"logprobs":null,"finish_reason":null}],"usage":null}\n\n'
    assert out == [
        b"",  # the role chunk goes with the first part
        HEAD + b'"delta":{"role":"assistant","content":"","refusal":null}' + tail,
        HEAD + b'"delta":{"content":"Hel"}' + tail,
        HEAD + b'"delta":{"content":"lo \\"x\\""}' + tail,
        b"",
        b"",
        HEAD
        + b'"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}\n\n'
        + META
        + b'"choices":[],'
        + b'"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,'
        + b'"prompt_tokens_details":{"cached_tokens":0,"cache_write_tokens":0},'
        + b'"completion_tokens_details":{"reasoning_tokens":0}}}\n\n'
        + b"data: [DONE]\n\n",
    ]
    for frame in b"".join(out).split(b"\n\n")[:-2]:
        ChatCompletionChunk.model_validate_json(frame.removeprefix(b"data: "))


def test_stream_without_include_usage_has_no_usage_at_all() -> None:
    encoder = openai_chat.StreamEncoder(include_usage=False, model="gw")
    body = b"".join(encoder.encode(event) for event in TEXT_EVENTS)
    assert b"usage" not in body
    assert body.endswith(HEAD + b'"delta":{},"logprobs":null,"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
    chunks = list(
        sdk_client(sse_answer(body)).chat.completions.create(model="m", messages=USER_HI, stream=True)
    )
    assert [c.choices[0].delta.content for c in chunks] == ["", "Hel", 'lo "x"', None]
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_the_model_and_id_default_to_stream_start() -> None:
    def first_chunk(encoder: openai_chat.StreamEncoder, start: ir.StreamStart) -> Any:
        assert encoder.encode(start) == b""
        return orjson.loads(encoder.encode(TEXT_EVENTS[1]).removeprefix(b"data: "))

    chunk = first_chunk(openai_chat.StreamEncoder(), ir.StreamStart(id="abc", model="provider-model"))
    assert (chunk["id"], chunk["model"], chunk["created"]) == ("abc", "provider-model", 0)
    encoder = openai_chat.StreamEncoder(created=99, completion_id="gw-id")
    chunk = first_chunk(encoder, ir.StreamStart(id="abc", model="pm"))
    assert (chunk["id"], chunk["model"], chunk["created"]) == ("gw-id", "pm", 99)


def test_an_error_ends_the_stream_without_done_and_the_sdk_raises() -> None:
    encoder = openai_chat.StreamEncoder(include_usage=True, model="gw")
    body = b"".join(encoder.encode(event) for event in TEXT_EVENTS[:4])
    error = encoder.encode(ir.StreamError(kind="overloaded_error", message="Overloaded", status=529))
    assert error == (
        b'data: {"error":{"message":"Overloaded","type":"overloaded_error","param":null,'
        b'"code":"overloaded_error"}}\n\n'
    )
    assert encoder.encode(ir.StreamEnd(stop_reason="end_turn")) == b""
    assert encoder.encode(ir.TextDelta(index=0, text="late")) == b""
    stream = sdk_client(sse_answer(body + error)).chat.completions.create(
        model="m", messages=USER_HI, stream=True
    )
    seen: list[str | None] = []
    with pytest.raises(openai.APIError, match="Overloaded"):
        seen.extend(chunk.choices[0].delta.content for chunk in stream)
    assert seen == ["", "Hel", 'lo "x"']


TOOL_EVENTS: list[ir.StreamEvent] = [
    ir.StreamStart(id="c1", model="m", created=5),
    ir.PartStart(index=0, part=ir.ReasoningPart(origin="anthropic")),
    ir.ReasoningDelta(index=0, text="I should "),
    ir.ReasoningDelta(index=0, text="look it up."),
    ir.ReasoningDelta(index=0, signature="sig-abc"),
    ir.PartStop(index=0),
    ir.PartStart(index=1, part=ir.TextPart(text="")),
    ir.TextDelta(index=1, text="Checking."),
    ir.PartStop(index=1),
    ir.PartStart(
        index=2, part=ir.ToolCallPart(id="call_a", name="weather", arguments="", signature="gemini/sig+=")
    ),
    ir.ToolArgsDelta(index=2, fragment='{"city":'),
    ir.ToolArgsDelta(index=2, fragment='"Paris"}'),
    ir.PartStop(index=2),
    ir.PartStart(index=3, part=ir.ToolCallPart(id="call_b", name="clock")),  # no deltas: "{}" at PartStop
    ir.PartStop(index=3),
    ir.StreamEnd(
        stop_reason="tool_use", usage=ir.Usage(input_tokens=20, output_tokens=30, reasoning_tokens=12)
    ),
]


def test_tool_call_chunks_follow_openais_shape() -> None:
    encoder = openai_chat.StreamEncoder(include_usage=True, model="gw")
    frames = [encoder.encode(e) for e in TOOL_EVENTS]
    deltas = [
        orjson.loads(f.removeprefix(b"data: "))["choices"][0]["delta"] for f in frames[9:11] + frames[13:15]
    ]
    assert deltas == [
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": openai_chat.embed_signature("call_a", "gemini/sig+="),
                    "type": "function",
                    "function": {"name": "weather", "arguments": ""},
                }
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]},
        {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "clock", "arguments": ""},
                }
            ]
        },
        {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]},
    ]


def test_an_answer_opening_with_a_tool_call_carries_the_role_in_that_chunk() -> None:
    encoder = openai_chat.StreamEncoder(model="gw")
    assert encoder.encode(TOOL_EVENTS[0]) == b""
    first = encoder.encode(ir.PartStart(index=0, part=ir.ToolCallPart(id="call_1", name="f", arguments="")))
    assert orjson.loads(first.removeprefix(b"data: "))["choices"][0]["delta"] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
        ],
        "refusal": None,
    }


def test_an_empty_answer_still_sends_the_role_then_finish_and_done() -> None:
    encoder = openai_chat.StreamEncoder(model="gw")
    body = encoder.encode(TOOL_EVENTS[0]) + encoder.encode(ir.StreamEnd(stop_reason="max_tokens"))
    chunks = list(
        sdk_client(sse_answer(body)).chat.completions.create(model="m", messages=USER_HI, stream=True)
    )
    assert [(c.choices[0].delta.role, c.choices[0].finish_reason) for c in chunks] == [
        ("assistant", None),
        (None, "length"),
    ]


def test_an_error_before_any_part_is_the_only_frame() -> None:
    encoder = openai_chat.StreamEncoder(model="gw")
    assert encoder.encode(TOOL_EVENTS[0]) == b""
    error = encoder.encode(ir.StreamError(kind="rate_limit_error", message="slow down", status=429))
    assert error.startswith(b'data: {"error":') and b"[DONE]" not in error


def test_the_sdk_stream_helper_accumulates_our_stream_into_the_same_answer() -> None:
    encoder = openai_chat.StreamEncoder(include_usage=True, model="gw")
    body = b"".join(encoder.encode(e) for e in TOOL_EVENTS)
    with sdk_client(sse_answer(body)).chat.completions.stream(model="m", messages=USER_HI) as stream:
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage is not None and final.usage.total_tokens == 50
    assert message.content == "Checking."
    assert message.tool_calls is not None
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls] == [
        (openai_chat.embed_signature("call_a", "gemini/sig+="), "weather", '{"city":"Paris"}'),
        ("call_b", "clock", "{}"),
    ]
    extra = message.model_extra or {}
    assert extra["reasoning_content"] == "I should look it up."
    assert extra["reasoning_details"] == [
        {
            "type": "reasoning.text",
            "text": "I should look it up.",
            "format": "anthropic-claude-v1",
            "index": 0,
            "signature": "sig-abc",
        }
    ]


def test_a_client_echoing_the_accumulated_message_gives_back_reasoning_and_signatures() -> None:
    """The Gemini signature survives a client that echoes only ids; Claude's thinking survives an echo."""
    encoder = openai_chat.StreamEncoder(include_usage=True, model="gw")
    body = b"".join(encoder.encode(e) for e in TOOL_EVENTS)
    with sdk_client(sse_answer(body)).chat.completions.stream(model="m", messages=USER_HI) as stream:
        message = stream.get_final_completion().choices[0].message
    assert message.tool_calls is not None
    echoed = message.model_dump(exclude_none=True, exclude={"parsed"})
    for call in echoed["tool_calls"]:
        call["function"].pop("parsed_arguments", None)
        call.pop("index", None)
    results = [{"role": "tool", "tool_call_id": c.id, "content": "ok"} for c in message.tool_calls]
    request = openai_chat.decode_request(request_body(messages=[*USER_HI, echoed, *results]))
    assert request.messages[1:] == [
        ir.Message(
            role="assistant",
            content=[
                ir.ReasoningPart(text="I should look it up.", signature="sig-abc", origin="anthropic"),
                ir.TextPart(text="Checking."),
                ir.ToolCallPart(
                    id="call_a", name="weather", arguments='{"city":"Paris"}', signature="gemini/sig+="
                ),
                ir.ToolCallPart(id="call_b", name="clock", arguments="{}"),
            ],
        ),
        ir.Message(
            role="user",
            content=[
                ir.ToolResultPart(tool_call_id="call_a", content=[ir.TextPart(text="ok")], name="weather"),
                ir.ToolResultPart(tool_call_id="call_b", content=[ir.TextPart(text="ok")], name="clock"),
            ],
        ),
    ]


def test_signature_ids_reverse_exactly_and_plain_ids_pass() -> None:
    for signature in ["CiQB0e2Kb+/x==", "x", "\u00e9\u6f22\U0001f600", "a" * 1500]:
        wire = openai_chat.embed_signature("call_1", signature)
        assert all(c.isalnum() or c in "_-" for c in wire)
        assert openai_chat.split_tool_call_id(wire) == ("call_1", signature)
    assert openai_chat.embed_signature("call_1", None) == "call_1"
    assert openai_chat.split_tool_call_id("call_1") == ("call_1", None)
    assert openai_chat.split_tool_call_id("odd__thought__") == ("odd__thought__", None)
    assert openai_chat.split_tool_call_id("odd__thought__!!!") == ("odd__thought__!!!", None)


def test_an_echoed_stream_error_message_reaches_the_sdk_as_api_error_body() -> None:
    body = openai_chat.encode_error(404, "not_found_error", "no model named x; see GET /v1/models")
    client = sdk_client(json_answer(body, status=404))
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="x", messages=USER_HI)
    assert raised.value.code == "not_found_error"
    assert raised.value.type == "not_found_error"
    assert raised.value.body == {
        "message": "no model named x; see GET /v1/models",
        "type": "not_found_error",
        "param": None,
        "code": "not_found_error",
    }


# --- every recorded provider stream, translated for an OpenAI client ----------------------------


def _recorded_streams() -> list[Any]:
    return [
        pytest.param(path, i, id=f"{path.rsplit('/', 1)[-1]}[{i}]")
        for path in CHAT_CASSETTES
        for i, exchange in enumerate(cassette(path))
        if is_stream(exchange)
    ]


@pytest.mark.parametrize(("path", "i"), _recorded_streams())
def test_recorded_streams_reencoded_parse_in_the_sdk_to_the_same_content(path: str, i: int) -> None:
    events = decode_all(cassette(path)[i].response_body)
    encoder = openai_chat.StreamEncoder(include_usage=True)
    body = b"".join(encoder.encode(e) for e in events)
    with sdk_client(sse_answer(body)).chat.completions.stream(model="m", messages=USER_HI) as stream:
        final = stream.get_final_completion()
    message = final.choices[0].message
    starts = {e.index: e.part for e in events if isinstance(e, ir.PartStart)}
    text = joined(events)
    assert message.content == (
        "".join(text[k] for k, p in starts.items() if isinstance(p, ir.TextPart)) or None
    )
    reasoning = "".join(text[k] for k, p in starts.items() if isinstance(p, ir.ReasoningPart))
    assert (message.model_extra or {}).get("reasoning_content") == (reasoning or None)
    calls = [(p.id, p.name, text.get(k, "")) for k, p in starts.items() if isinstance(p, ir.ToolCallPart)]
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []] == calls
    end = events[-1]
    assert isinstance(end, ir.StreamEnd) and end.usage is not None and final.usage is not None
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (
        end.usage.input_tokens,
        end.usage.output_tokens,
    )
    assert final.id == events[0].id if isinstance(events[0], ir.StreamStart) else False


def test_a_delta_without_its_part_start_still_reaches_the_client_after_the_role() -> None:
    encoder = openai_chat.StreamEncoder(model="gw")
    body = b"".join(
        encoder.encode(e)
        for e in [TEXT_EVENTS[0], ir.TextDelta(index=0, text="orphan"), ir.StreamEnd(stop_reason="end_turn")]
    )
    chunks = list(
        sdk_client(sse_answer(body)).chat.completions.create(model="m", messages=USER_HI, stream=True)
    )
    assert [(c.choices[0].delta.role, c.choices[0].delta.content) for c in chunks] == [
        ("assistant", ""),
        (None, "orphan"),
        (None, None),
    ]
