"""The Responses API door's codec: input items to IR, IR to response objects and events."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openai.types.responses import Response

from modelrouter import ir
from modelrouter.errors import BadRequest
from modelrouter.protocols import openai_responses as rs


def decode(**fields: Any) -> ir.Request:
    return rs.decode_request(orjson.dumps({"model": "m", **fields}))


def test_input_items_become_turns() -> None:
    request = decode(
        instructions="be brief",
        input=[
            {"role": "developer", "content": "no jokes"},
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "look"},
                    {"type": "input_image", "image_url": "data:image/png;base64,iVBOR", "detail": "low"},
                ],
            },
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": "thinking"}],
                "encrypted_content": "gAAA",
            },
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": '{"a": 1}'},
            {"type": "function_call_output", "call_id": "c1", "output": "done"},
            {"role": "user", "content": "and?"},
        ],
        tools=[{"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": True}],
        tool_choice={"type": "function", "name": "f"},
        parallel_tool_calls=False,
        text={"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": True}},
        reasoning={"effort": "high", "summary": "auto"},
        max_output_tokens=300,
        store=False,
        include=["reasoning.encrypted_content"],
    )
    assert [p.text for p in request.system] == ["be brief", "no jokes"]
    user, assistant, results = request.messages
    assert user.content[1] == ir.ImagePart(media_type="image/png", data="iVBOR", detail="low")
    assert assistant.content == [
        ir.ReasoningPart(text="thinking", redacted="gAAA", origin="openai_responses"),
        ir.ToolCallPart(id="c1", name="f", arguments='{"a": 1}'),
    ]
    assert results.content == [
        ir.ToolResultPart(tool_call_id="c1", content=[ir.TextPart(text="done")]),
        ir.TextPart(text="and?"),
    ]
    assert request.tool_choice == ir.ToolChoice(mode="tool", name="f", parallel=False)
    assert request.response_format == ir.ResponseFormat(
        type="json_schema", schema={"type": "object"}, name="out", strict=True
    )
    assert request.reasoning == ir.ReasoningConfig(enabled=True, effort="high", include_thoughts=True)
    assert request.max_tokens == 300 and request.extra == {}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"input": "x", "previous_response_id": "resp_1"}, "previous_response_id"),
        ({"input": "x", "background": True}, "background"),
        ({"input": [{"type": "web_search_call"}]}, "not supported"),
        ({"input": "x", "tools": [{"type": "teleport"}]}, "not supported"),
        ({"input": "x", "max_output_tokens": "lots"}, "integer"),
        ({"input": 3}, "input"),
        ({"input": [{"role": "tool", "content": "x"}]}, "role"),
    ],
)
def test_refusals(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        decode(**fields)


def test_answers_parse_as_the_sdks_response_model() -> None:
    answer = ir.Response(
        id="x",
        model="m",
        content=[
            ir.ReasoningPart(text="hmm", origin="anthropic", signature="s"),
            ir.TextPart(text="Hello "),
            ir.TextPart(text="there"),
            ir.ToolCallPart(id="c9", name="f", arguments="{}"),
        ],
        stop_reason="max_tokens",
        usage=ir.Usage(input_tokens=10, output_tokens=7, cache_read_tokens=4, reasoning_tokens=2),
        created=1,
    )
    parsed = Response.model_validate_json(rs.encode_response(answer, provider="anthropic"))
    assert parsed.output_text == "Hello there"
    assert [item.type for item in parsed.output] == ["reasoning", "message", "function_call"]
    assert parsed.status == "incomplete" and parsed.incomplete_details is not None
    assert parsed.incomplete_details.reason == "max_output_tokens"
    assert parsed.usage is not None and parsed.usage.input_tokens_details.cached_tokens == 4
    assert parsed.usage.output_tokens_details.reasoning_tokens == 2


def test_every_stream_event_validates_as_the_sdks_event_model() -> None:
    from openai.types.responses import ResponseStreamEvent
    from pydantic import TypeAdapter

    encoder = rs.StreamEncoder(model="m", created=1)
    events: list[ir.StreamEvent] = [
        ir.StreamStart(id="x", model="m", usage=ir.Usage(input_tokens=5)),
        ir.PartStart(index=0, part=ir.ReasoningPart(origin="gemini")),
        ir.ReasoningDelta(index=0, text="hmm"),
        ir.PartStop(index=0),
        ir.PartStart(index=1, part=ir.TextPart(text="")),
        ir.TextDelta(index=1, text="Hi"),
        ir.PartStop(index=1),
        ir.PartStart(index=2, part=ir.ToolCallPart(id="c1", name="f", arguments="")),
        ir.ToolArgsDelta(index=2, fragment='{"a":'),
        ir.ToolArgsDelta(index=2, fragment="1}"),
        ir.PartStop(index=2),
        ir.StreamEnd(stop_reason="tool_use", usage=ir.Usage(input_tokens=5, output_tokens=9)),
    ]
    wire = b"".join(encoder.encode(e) for e in events).decode()
    adapter: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
    parsed = [adapter.validate_json(block.split("data: ", 1)[1]) for block in wire.strip().split("\n\n")]
    assert [p.sequence_number for p in parsed] == list(range(len(parsed)))
    final = parsed[-1].response
    assert parsed[-1].type == "response.completed" and final.output_text == "Hi"
    assert [i.type for i in final.output] == ["reasoning", "message", "function_call"]
    assert final.output[2].arguments == '{"a":1}' and final.usage.output_tokens == 9
