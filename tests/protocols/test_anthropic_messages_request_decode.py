"""Anthropic requests at the gateway's door: `decode_request` (and what the SDK sends)."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from modelrouter import ir
from modelrouter.errors import BadRequest
from modelrouter.protocols import anthropic_messages as am
from tests.protocols.anthropic_support import (
    EPHEMERAL,
    HOUR,
    PDF,
    PNG,
    assistant,
    body,
    encode,
    sdk_client,
    user,
)

A = "anthropic"


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


def test_a_system_message_anywhere_joins_the_system_prompt() -> None:
    request = am.decode_request(
        body(
            system="first",
            messages=[
                {"role": "user", "content": "a"},
                {"role": "system", "content": [{"type": "text", "text": "late"}]},
                {"role": "user", "content": "b"},
            ],
        )
    )
    assert [p.text for p in request.system] == ["first", "late"]
    assert [[p.text for p in m.content] for m in request.messages] == [["a", "b"]]  # type: ignore[union-attr]
