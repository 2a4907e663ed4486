"""Anthropic requests to the provider: `encode_request` and its rules (versions, Vertex, drops)."""

from __future__ import annotations

import base64
from typing import Any

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
    encode,
    req,
    user,
)

A = "anthropic"


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
