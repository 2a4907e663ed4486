"""Anthropic requests: the client-side decoder (the gateway's door) and the provider-side encoder's rules."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from modelrouter import ir
from modelrouter.errors import BadRequest
from modelrouter.protocols import anthropic_messages as am
from tests.protocols.anthropic_support import sdk_client

A = "anthropic"
EPHEMERAL = {"type": "ephemeral"}
HOUR = ir.CacheControl(ttl="1h")
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
PDF = base64.b64encode(b"%PDF-1.7\n...").decode()


def body(**fields: Any) -> bytes:
    base: dict[str, Any] = {
        "model": "claude-sonnet-4.5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
    }
    return orjson.dumps(base | fields)


def user(*parts: ir.Part) -> ir.Message:
    return ir.Message(role="user", content=list(parts))


def assistant(*parts: ir.Part) -> ir.Message:
    return ir.Message(role="assistant", content=list(parts))


def encode(request: ir.Request, **options: Any) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(am.encode_request(request, model="claude-x", **options))
    return result


def req(*messages: ir.Message, **fields: Any) -> ir.Request:
    return ir.Request(
        model="m", messages=list(messages) or [user(ir.TextPart(text="hi"))], max_tokens=100, **fields
    )


# --- decode_request -----------------------------------------------------------------------


def test_a_full_claude_code_style_request_decodes_to_the_ir() -> None:
    wire = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 32000,
        "system": [
            {"type": "text", "text": "You are Claude Code."},
            {"type": "text", "text": "Project notes", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        ],
        "messages": [
            {"role": "user", "content": "Look at this"},
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                    {"type": "image", "source": {"type": "url", "url": "https://x.test/a.jpg"}},
                    {
                        "type": "document",
                        "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
                        "title": "spec.pdf",
                    },
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": "plain words"},
                    },
                    {
                        "type": "document",
                        "source": {"type": "url", "url": "https://x.test/b.pdf"},
                        "cache_control": EPHEMERAL,
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "c2ln"},
                    {"type": "redacted_thinking", "data": "b3BhcXVl"},
                    {"type": "text", "text": "Reading."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "Read",
                        "input": {"path": "a.py", "limit": 5},
                    },
                    {"type": "tool_use", "id": "toolu_2", "name": "Bash", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "print(1)"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_2",
                        "is_error": True,
                        "content": [
                            {"type": "text", "text": "exit 1"},
                            {
                                "type": "image",
                                "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                            },
                        ],
                        "cache_control": EPHEMERAL,
                    },
                    {"type": "text", "text": "go on", "cache_control": EPHEMERAL},
                ],
            },
        ],
        "tools": [
            {
                "name": "Read",
                "description": "Read a file",
                "input_schema": {"type": "object"},
                "strict": True,
            },
            {
                "name": "Bash",
                "input_schema": {"type": "object", "properties": {}},
                "cache_control": EPHEMERAL,
            },
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        ],
        "tool_choice": {"type": "tool", "name": "Read", "disable_parallel_tool_use": True},
        "stop_sequences": ["\n\nHuman:"],
        "temperature": 1,
        "top_p": 0.9,
        "top_k": 5,
        "thinking": {"type": "enabled", "budget_tokens": 2048, "display": "summarized"},
        "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": {"type": "object"}}},
        "metadata": {"user_id": "user-42"},
        "cache_control": EPHEMERAL,
        "stream": True,
        "service_tier": "auto",
        "container": None,
        "route": "eu-private",
        "provider": {"only": ["anthropic"]},
        "models": ["claude-opus-4.5"],
    }
    assert am.decode_request(orjson.dumps(wire)) == ir.Request(
        model="claude-sonnet-4-5",
        system=[
            ir.TextPart(text="You are Claude Code."),
            ir.TextPart(text="Project notes", cache_control=HOUR),
        ],
        messages=[
            user(
                ir.TextPart(text="Look at this"),
                ir.ImagePart(media_type="image/png", data=PNG),
                ir.ImagePart(url="https://x.test/a.jpg"),
                ir.DocumentPart(media_type="application/pdf", data=PDF, filename="spec.pdf"),
                ir.DocumentPart(media_type="text/plain", data=base64.b64encode(b"plain words").decode()),
                ir.DocumentPart(url="https://x.test/b.pdf", cache_control=ir.CacheControl()),
            ),
            assistant(
                ir.ReasoningPart(text="hmm", signature="c2ln", origin=A),
                ir.ReasoningPart(redacted="b3BhcXVl", origin=A),
                ir.TextPart(text="Reading."),
                ir.ToolCallPart(id="toolu_1", name="Read", arguments='{"path":"a.py","limit":5}'),
                ir.ToolCallPart(id="toolu_2", name="Bash", arguments="{}"),
            ),
            user(
                ir.ToolResultPart(
                    tool_call_id="toolu_1", content=[ir.TextPart(text="print(1)")], name="Read"
                ),
                ir.ToolResultPart(
                    tool_call_id="toolu_2",
                    content=[ir.TextPart(text="exit 1"), ir.ImagePart(media_type="image/png", data=PNG)],
                    is_error=True,
                    name="Bash",
                    cache_control=ir.CacheControl(),
                ),
                ir.TextPart(text="go on", cache_control=ir.CacheControl()),
            ),
        ],
        tools=[
            ir.ToolSpec(name="Read", description="Read a file", parameters={"type": "object"}, strict=True),
            ir.ToolSpec(
                name="Bash", parameters={"type": "object", "properties": {}}, cache_control=ir.CacheControl()
            ),
        ],
        tool_choice=ir.ToolChoice(mode="tool", name="Read", parallel=False),
        response_format=ir.ResponseFormat(type="json_schema", schema={"type": "object"}),
        max_tokens=32000,
        temperature=1.0,
        top_p=0.9,
        top_k=5,
        stop=["\n\nHuman:"],
        reasoning=ir.ReasoningConfig(enabled=True, budget_tokens=2048, effort="high", include_thoughts=True),
        stream=True,
        user="user-42",
        cache_control=ir.CacheControl(),
        extra={
            "service_tier": "auto",
            "container": None,
            "route": "eu-private",
            "provider": {"only": ["anthropic"]},
            "models": ["claude-opus-4.5"],
            am.SERVER_TOOLS_KEY: [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
        },
        source_protocol="anthropic_messages",
    )


def test_the_round_trip_of_that_request_keeps_server_tools_and_extra_but_not_routing() -> None:
    request = am.decode_request(
        body(
            tools=[
                {"name": "f", "input_schema": {"type": "object"}},
                {"type": "web_search_20250305", "name": "web_search"},
            ],
            service_tier="auto",
            route="eu",
            models=["a"],
            provider={"only": ["b"]},
        )
    )
    wire = encode(request)
    assert wire["tools"] == [
        {"name": "f", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search"},
    ]
    assert wire["service_tier"] == "auto"
    assert not {"route", "models", "provider", am.SERVER_TOOLS_KEY} & set(wire)
    request.source_protocol = "openai_chat"  # another protocol's extra never reaches Anthropic
    assert "service_tier" not in encode(request) and len(encode(request)["tools"]) == 1


@pytest.mark.parametrize(
    ("thinking", "output", "expected"),
    [
        ({"type": "adaptive"}, None, ir.ReasoningConfig(enabled=True)),
        (
            {"type": "adaptive", "display": "omitted"},
            {"effort": "max"},
            ir.ReasoningConfig(enabled=True, effort="max", include_thoughts=False),
        ),
        ({"type": "disabled"}, None, ir.ReasoningConfig(enabled=False)),
        (None, {"effort": "low"}, ir.ReasoningConfig(effort="low")),
        (None, None, None),
    ],
)
def test_thinking_forms(thinking: Any, output: Any, expected: ir.ReasoningConfig | None) -> None:
    fields: dict[str, Any] = {}
    if thinking is not None:
        fields["thinking"] = thinking
    if output is not None:
        fields["output_config"] = output
    assert am.decode_request(body(**fields)).reasoning == expected


def test_legacy_output_format_and_tool_choice_variants() -> None:
    decoded = am.decode_request(body(output_format={"type": "json_schema", "schema": {"type": "object"}}))
    assert decoded.response_format == ir.ResponseFormat(type="json_schema", schema={"type": "object"})
    for wire, expected in [
        ({"type": "auto"}, ir.ToolChoice(mode="auto")),
        ({"type": "any", "disable_parallel_tool_use": False}, ir.ToolChoice(mode="required", parallel=True)),
        ({"type": "none"}, ir.ToolChoice(mode="none")),
    ]:
        assert am.decode_request(body(tool_choice=wire)).tool_choice == expected


def test_system_messages_at_the_start_join_system() -> None:
    decoded = am.decode_request(
        body(
            system="first",
            messages=[
                {"role": "system", "content": "second"},
                {"role": "user", "content": "hi"},
                {"role": "user", "content": [{"type": "text", "text": "again"}]},
            ],
        )
    )
    assert decoded.system == [ir.TextPart(text="first"), ir.TextPart(text="second")]
    assert decoded.messages == [user(ir.TextPart(text="hi"), ir.TextPart(text="again"))]


def test_relayed_thinking_with_an_empty_signature_loses_its_origin() -> None:
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": ""}]},
        {"role": "user", "content": "more"},
    ]
    decoded = am.decode_request(body(messages=messages))
    assert decoded.messages[1] == assistant(ir.ReasoningPart(text="t"))
    assert encode(decoded)["messages"] == [  # nothing to send back: the turn goes, the user turns merge
        {"role": "user", "content": [{"type": "text", "text": "q"}, {"type": "text", "text": "more"}]}
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{nope", "request body is not valid JSON"),
        (b"[]", "request body: expected an object, got list"),
        (orjson.dumps({"model": "m", "messages": []}), "max_tokens: field required (an integer)"),
        (
            orjson.dumps({"model": "m", "messages": [], "max_tokens": True}),
            "max_tokens: expected an integer, got bool",
        ),
        (orjson.dumps({"messages": [], "max_tokens": 1}), "model: field required (a string), got null"),
        (orjson.dumps({"model": "m", "max_tokens": 1}), "messages: field required (a list)"),
        (
            body(messages=[{"role": "bot", "content": "x"}]),
            "messages.0.role: expected 'user' or 'assistant', got 'bot'",
        ),
        (body(messages=[{"role": "user", "content": 5}]), "messages.0.content: expected a list, got int"),
        (
            body(messages=[{"role": "user", "content": [{"type": "text"}]}]),
            "messages.0.content.0.text: field required",
        ),
        (
            body(messages=[{"role": "user", "content": [{"type": "server_tool_use"}]}]),
            "messages.0.content.0.type: content block type 'server_tool_use'",
        ),
        (
            body(
                messages=[
                    {
                        "role": "user",
                        "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}],
                    }
                ]
            ),
            "messages.0.content.0.source.type: 'file' is not supported by the gateway",
        ),
        (
            body(
                messages=[
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": "t",
                                "content": [{"type": "search_result"}],
                            }
                        ],
                    }
                ]
            ),
            "messages.0.content.0.content.0.type: 'search_result' is not supported in a tool_result",
        ),
        (
            body(
                messages=[
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "t", "name": "f", "input": []}],
                    }
                ]
            ),
            "messages.0.content.0.input: expected an object, got list",
        ),
        (
            body(messages=[{"role": "user", "content": "a"}, {"role": "system", "content": "late"}]),
            "messages.1.role: a system message after the conversation started cannot be translated",
        ),
        (body(system=[{"type": "image"}]), "system.0.type: system blocks must be of type 'text'"),
        (body(tool_choice={"type": "sometimes"}), "tool_choice.type: expected auto, any, none or tool"),
        (body(tool_choice={"type": "tool"}), "tool_choice.name: field required"),
        (body(thinking={"type": "enabled"}), "thinking.budget_tokens: field required"),
        (body(thinking={"type": "between_tools"}), "thinking.type: expected enabled, adaptive or disabled"),
        (
            body(output_config={"format": {"type": "json_object"}}),
            "output_config.format.type: expected 'json_schema'",
        ),
        (body(stop_sequences=["a", 1]), "stop_sequences: expected a list of strings"),
        (body(temperature="hot"), "temperature: expected a number, got str"),
        (body(stream="yes"), "stream: expected a boolean, got str"),
        (body(tools=[{"name": "f"}]), "tools.0.input_schema: expected an object, got null"),
        (body(cache_control={"ttl": "1h"}), "cache_control.type: field required"),
        (body(metadata={"user_id": 7}), "metadata.user_id: expected a string, got int"),
    ],
)
def test_malformed_requests_are_refused_with_the_field_path(raw: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        am.decode_request(raw)
    assert caught.value.message.startswith(message), caught.value.message
    assert caught.value.status == 400


def test_what_the_anthropic_sdk_sends_decodes() -> None:
    answer = orjson.dumps(
        {
            "id": "msg_x",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    )
    with sdk_client(content_type="application/json") as (client, box):
        box[0] = answer
        client.messages.create(
            model="claude-gateway-test",
            max_tokens=2048,
            system=[{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral", "ttl": "5m"}}],
            messages=[
                {"role": "user", "content": "What is in this image?"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "toolu_a", "name": "look", "input": {"x": 1}}],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "toolu_a", "content": "a cat"}],
                },
            ],
            tools=[
                {
                    "name": "look",
                    "description": "d",
                    "input_schema": {"type": "object", "properties": {}},
                    "strict": True,
                }
            ],
            tool_choice={"type": "auto", "disable_parallel_tool_use": True},
            thinking={"type": "adaptive"},
            output_config={"effort": "medium"},
            metadata={"user_id": "u"},
            stop_sequences=["STOP"],
        )
    sent = box[1]
    decoded = am.decode_request(orjson.dumps(sent))
    assert decoded == ir.Request(
        model="claude-gateway-test",
        system=[ir.TextPart(text="sys", cache_control=ir.CacheControl(ttl="5m"))],
        messages=[
            user(ir.TextPart(text="What is in this image?")),
            assistant(ir.ToolCallPart(id="toolu_a", name="look", arguments='{"x":1}')),
            user(ir.ToolResultPart(tool_call_id="toolu_a", content=[ir.TextPart(text="a cat")], name="look")),
        ],
        tools=[
            ir.ToolSpec(
                name="look", description="d", parameters={"type": "object", "properties": {}}, strict=True
            )
        ],
        tool_choice=ir.ToolChoice(mode="auto", parallel=False),
        max_tokens=2048,
        stop=["STOP"],
        reasoning=ir.ReasoningConfig(enabled=True, effort="medium"),
        user="u",
        source_protocol="anthropic_messages",
    )
    resent = encode(decoded)
    assert resent.pop("model") == "claude-x" and sent.pop("model") == "claude-gateway-test"
    resent["messages"][0]["content"] = resent["messages"][0]["content"][0]["text"]  # the SDK sent a string
    sent["messages"][2]["content"][0]["is_error"] = False  # the encoder always states is_error
    assert resent == sent | {"stream": False}


# --- encode_request -----------------------------------------------------------------------


def test_vertex_body_has_no_model_and_carries_the_version() -> None:
    request = req(temperature=0.5)
    vertex = encode(request, vertex=True)
    assert "model" not in vertex
    assert vertex["anthropic_version"] == "vertex-2023-10-16"
    assert vertex["temperature"] == 0.5
    modern = encode(request, vertex=True, api_version=am.API_VERSION_2026)
    assert modern["anthropic_version"] == "2026-10-21"
    assert "temperature" not in modern
    assert encode(request)["model"] == "claude-x" and "anthropic_version" not in encode(request)


def test_api_version_2026_drops_sampling_and_refuses_assistant_documents() -> None:
    request = req(temperature=0.2, top_p=0.5, top_k=3)
    assert {k: encode(request)[k] for k in ("temperature", "top_p", "top_k")} == {
        "temperature": 0.2,
        "top_p": 0.5,
        "top_k": 3,
    }
    assert not {"temperature", "top_p", "top_k"} & set(encode(request, api_version=am.API_VERSION_2026))
    documents = req(
        user(ir.TextPart(text="q")), assistant(ir.DocumentPart(media_type="application/pdf", data=PDF))
    )
    assert encode(documents)["messages"][1]["content"][0]["type"] == "document"
    with pytest.raises(BadRequest, match="rejects documents in assistant turns"):
        encode(documents, api_version=am.API_VERSION_2026)
    with pytest.raises(ValueError, match="unknown anthropic-version"):
        encode(request, api_version="2024-01-01")


def test_max_tokens_default_and_the_thinking_budget() -> None:
    no_max = ir.Request(model="m", messages=[user(ir.TextPart(text="x"))])
    assert encode(no_max)["max_tokens"] == am.DEFAULT_MAX_TOKENS == 4096
    assert encode(no_max, default_max_tokens=1000)["max_tokens"] == 1000
    no_max.reasoning = ir.ReasoningConfig(enabled=True, budget_tokens=8000)
    assert encode(no_max)["max_tokens"] == 8000 + 4096
    assert encode(no_max)["thinking"] == {"type": "enabled", "budget_tokens": 8000}
    no_max.max_tokens = 9000
    assert encode(no_max)["max_tokens"] == 9000


def test_reasoning_is_sent_back_only_with_an_anthropic_signature() -> None:
    request = req(
        user(ir.TextPart(text="q")),
        assistant(
            ir.ReasoningPart(text="mine", signature="sig", origin=A),
            ir.ReasoningPart(redacted="blob", origin=A),
            ir.ReasoningPart(text="gemini's", signature="g-sig", origin="gemini"),
            ir.ReasoningPart(text="deepseek's", origin="deepseek"),
            ir.ReasoningPart(text="unsigned", origin=A),
            ir.TextPart(text="answer"),
        ),
        assistant(
            ir.ReasoningPart(text="only foreign", signature="x", origin="openai"), ir.TextPart(text=" \n")
        ),
        user(ir.TextPart(text="")),
        user(ir.TextPart(text="next")),
    )
    assert encode(request)["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "q"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "mine", "signature": "sig"},
                {"type": "redacted_thinking", "data": "blob"},
                {"type": "text", "text": "answer"},
            ],
        },
        {"role": "user", "content": [{"type": "text", "text": "next"}]},
    ]


def test_tool_ids_are_sent_in_the_alphabet_anthropic_accepts() -> None:
    request = req(
        user(ir.TextPart(text="q")),
        assistant(ir.ToolCallPart(id="functions.get_weather:0", name="get_weather", arguments="{}")),
        user(ir.ToolResultPart(tool_call_id="functions.get_weather:0", content=[ir.TextPart(text="sunny")])),
    )
    messages = encode(request)["messages"]
    assert (
        messages[1]["content"][0]["id"]
        == messages[2]["content"][0]["tool_use_id"]
        == "functions_get_weather_0"
    )


def test_a_schema_without_type_is_sent_as_an_object_schema() -> None:
    tools = [
        ir.ToolSpec(name="f", parameters={}),
        ir.ToolSpec(name="g", parameters={"properties": {"a": {}}}),
    ]
    assert [tool["input_schema"] for tool in encode(req(tools=tools))["tools"]] == [
        {"type": "object"},
        {"type": "object", "properties": {"a": {}}},
    ]


def test_tool_results_and_calls() -> None:
    request = req(
        user(ir.TextPart(text="q")),
        assistant(
            ir.ToolCallPart(id="t1", name="f", arguments=""),
            ir.ToolCallPart(id="t2", name="g", arguments='{"a": [1]}'),
        ),
        user(
            ir.ToolResultPart(tool_call_id="t1", content=[ir.TextPart(text="")], name="f"),
            ir.ToolResultPart(
                tool_call_id="t2",
                content=[
                    ir.TextPart(text="see", cache_control=ir.CacheControl()),
                    ir.ImagePart(media_type="image/png", data=PNG),
                ],
                is_error=True,
                cache_control=HOUR,
            ),
        ),
    )
    messages = encode(request)["messages"]
    assert messages[1]["content"] == [
        {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
        {"type": "tool_use", "id": "t2", "name": "g", "input": {"a": [1]}},
    ]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "is_error": False},
        {
            "type": "tool_result",
            "tool_use_id": "t2",
            "content": [
                {"type": "text", "text": "see", "cache_control": EPHEMERAL},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            ],
            "is_error": True,
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        },
    ]
    for arguments, message in [("{bad", "arguments are not valid JSON"), ("[1]", "must be a JSON object")]:
        with pytest.raises(BadRequest, match=message):
            encode(req(assistant(ir.ToolCallPart(id="t", name="f", arguments=arguments))))


@pytest.mark.parametrize(
    ("raw", "media"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 8, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 8, "image/jpeg"),
        (b"GIF89a" + b"\0" * 8, "image/gif"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
    ],
)
def test_image_media_type_is_sniffed_when_missing(raw: bytes, media: str) -> None:
    data = base64.b64encode(raw).decode()
    block = encode(req(user(ir.ImagePart(data=data, detail="high"))))["messages"][0]["content"][0]
    assert block == {"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}


def test_image_sources() -> None:
    url = encode(req(user(ir.ImagePart(url="https://x.test/i.png", cache_control=ir.CacheControl()))))
    assert url["messages"][0]["content"][0] == {
        "type": "image",
        "source": {"type": "url", "url": "https://x.test/i.png"},
        "cache_control": EPHEMERAL,
    }
    data_url = encode(req(user(ir.ImagePart(url=f"data:image/png;base64,{PNG}"))))
    assert data_url["messages"][0]["content"][0]["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": PNG,
    }
    for part, message in [
        (ir.ImagePart(data=base64.b64encode(b"BM not a known format").decode()), "media_type is required"),
        (ir.ImagePart(), "give either base64 data or a url"),
        (ir.ImagePart(url="data:image/png,raw"), "a data: URL must be base64"),
    ]:
        with pytest.raises(BadRequest, match=message):
            encode(req(user(part)))


def test_document_sources() -> None:
    markdown = base64.b64encode("# Títle".encode()).decode()
    blocks = encode(
        req(
            user(
                ir.DocumentPart(data=PDF, filename="a.pdf"),
                ir.DocumentPart(media_type="text/markdown", data=markdown, cache_control=ir.CacheControl()),
                ir.DocumentPart(url="https://x.test/d.pdf"),
            )
        )
    )["messages"][0]["content"]
    assert blocks == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
            "title": "a.pdf",
        },
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "# Títle"},
            "cache_control": EPHEMERAL,
        },
        {"type": "document", "source": {"type": "url", "url": "https://x.test/d.pdf"}},
    ]
    for part, message in [
        (
            ir.DocumentPart(media_type="application/msword", data="AAAA"),
            "accepts PDF and plain-text documents, not application/msword",
        ),
        (ir.DocumentPart(media_type="text/plain", data="%%%"), "must be base64 of UTF-8 text"),
        (ir.DocumentPart(), "give either base64 data or a url"),
    ]:
        with pytest.raises(BadRequest, match=message):
            encode(req(user(part)))


def test_tool_choice_rules() -> None:
    tools = [ir.ToolSpec(name="f")]
    assert encode(req(tools=tools, tool_choice=ir.ToolChoice(mode="required", parallel=False)))[
        "tool_choice"
    ] == {
        "type": "any",
        "disable_parallel_tool_use": True,
    }
    assert encode(req(tools=tools, tool_choice=ir.ToolChoice(mode="none", parallel=False)))[
        "tool_choice"
    ] == {"type": "none"}
    assert encode(req(tools=tools, tool_choice=ir.ToolChoice(mode="tool", name="f", parallel=True)))[
        "tool_choice"
    ] == {
        "type": "tool",
        "name": "f",
        "disable_parallel_tool_use": False,
    }
    assert encode(req(tools=tools))["tools"] == [
        {"name": "f", "input_schema": {"type": "object", "properties": {}}}
    ]
    for mode in ("auto", "none"):
        assert "tool_choice" not in encode(req(tool_choice=ir.ToolChoice(mode=mode)))
    with pytest.raises(BadRequest, match="needs at least one tool"):
        encode(req(tool_choice=ir.ToolChoice(mode="required")))
    with pytest.raises(BadRequest, match="needs the tool's name"):
        encode(req(tools=tools, tool_choice=ir.ToolChoice(mode="tool")))


@pytest.mark.parametrize(
    ("reasoning", "thinking", "output"),
    [
        (ir.ReasoningConfig(effort="minimal"), None, {"effort": "low"}),
        (ir.ReasoningConfig(effort="none"), {"type": "disabled"}, None),
        (
            ir.ReasoningConfig(enabled=True, include_thoughts=False),
            {"type": "adaptive", "display": "omitted"},
            None,
        ),
        (
            ir.ReasoningConfig(budget_tokens=1024, include_thoughts=True),
            {"type": "enabled", "budget_tokens": 1024, "display": "summarized"},
            None,
        ),
        (ir.ReasoningConfig(enabled=False, effort="low"), {"type": "disabled"}, {"effort": "low"}),
        (ir.ReasoningConfig(), None, None),
    ],
)
def test_reasoning_config(reasoning: ir.ReasoningConfig, thinking: Any, output: Any) -> None:
    wire = encode(req(reasoning=reasoning))
    assert wire.get("thinking") == thinking
    assert wire.get("output_config") == output


def test_unknown_effort_is_refused() -> None:
    with pytest.raises(BadRequest, match="effort 'extreme' has no Anthropic equivalent"):
        encode(req(reasoning=ir.ReasoningConfig(effort="extreme")))


def test_response_format_rules() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    strict = ir.ResponseFormat(type="json_schema", schema=schema, name="n", strict=True, description="d")
    assert encode(req(response_format=strict))["output_config"] == {
        "format": {"type": "json_schema", "schema": schema}
    }
    assert "output_config" not in encode(req(response_format=ir.ResponseFormat(type="json_object")))
    assert "output_config" not in encode(req(response_format=ir.ResponseFormat(type="text")))
    with pytest.raises(BadRequest, match="needs a schema"):
        encode(req(response_format=ir.ResponseFormat(type="json_schema")))


def test_system_user_seed_stop_and_cache() -> None:
    wire = encode(
        req(
            system=[ir.TextPart(text="a"), ir.TextPart(text="")],
            user="u1",
            seed=7,
            stop=["x"],
            cache_control=HOUR,
        )
    )
    assert wire["system"] == "a"
    assert wire["metadata"] == {"user_id": "u1"}
    assert "seed" not in wire
    assert wire["stop_sequences"] == ["x"]
    assert wire["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    cached = encode(req(system=[ir.TextPart(text="a", cache_control=ir.CacheControl())]))
    assert cached["system"] == [{"type": "text", "text": "a", "cache_control": EPHEMERAL}]
    assert "system" not in encode(req(system=[ir.TextPart(text="")]))


def test_a_request_with_nothing_to_send_is_refused() -> None:
    with pytest.raises(BadRequest, match="at least one message"):
        encode(ir.Request(model="m", messages=[assistant(ir.ReasoningPart(text="x", origin="gemini"))]))
