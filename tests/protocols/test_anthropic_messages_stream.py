"""Anthropic streams: the provider-side decoder's edge cases and the client-side encoder against the SDK."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anthropic
import orjson
import pydantic
import pytest
from anthropic.types import RawMessageStreamEvent

from modelrouter import ir
from modelrouter.protocols import anthropic_messages as am
from modelrouter.protocols.sse import SSEParser, encode_event
from tests.protocols.anthropic_support import accumulate, sdk_client, sdk_stream

A = "anthropic"
RAW_EVENT: pydantic.TypeAdapter[RawMessageStreamEvent] = pydantic.TypeAdapter(RawMessageStreamEvent)


def sse(*events: Mapping[str, Any]) -> bytes:
    return b"".join(encode_event(orjson.dumps(event), str(event["type"])) for event in events)


def decode(body: bytes) -> list[ir.StreamEvent]:
    decoder = am.StreamDecoder()
    return decoder.feed(body) + decoder.close()


START: dict[str, Any] = {
    "type": "message_start",
    "message": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "cache_creation_input_tokens": 100,
            "cache_read_input_tokens": 1000,
            "cache_creation": {"ephemeral_5m_input_tokens": 40, "ephemeral_1h_input_tokens": 60},
            "output_tokens": 1,
        },
    },
}
STOP: dict[str, Any] = {"type": "message_stop"}


def block_start(index: int, block: dict[str, object]) -> dict[str, object]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta(index: int, payload: dict[str, object]) -> dict[str, object]:
    return {"type": "content_block_delta", "index": index, "delta": payload}


def block_stop(index: int) -> dict[str, object]:
    return {"type": "content_block_stop", "index": index}


def message_delta(stop: str, usage: dict[str, object], sequence: str | None = None) -> dict[str, object]:
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": sequence},
        "usage": usage,
    }


# --- decoder ------------------------------------------------------------------------------


def test_tool_use_redacted_thinking_server_blocks_and_cumulative_usage() -> None:
    body = sse(
        START,
        {"type": "ping"},
        block_start(0, {"type": "redacted_thinking", "data": "opaque"}),
        block_stop(0),
        block_start(1, {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}),
        delta(1, {"type": "input_json_delta", "partial_json": '{"query":"x"}'}),
        block_stop(1),
        block_start(2, {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}),
        block_stop(2),
        block_start(3, {"type": "text", "text": ""}),
        delta(3, {"type": "citations_delta", "citation": {"type": "char_location", "cited_text": "c"}}),
        delta(3, {"type": "text_delta", "text": "Hi"}),
        block_stop(3),
        block_start(4, {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}),
        delta(4, {"type": "input_json_delta", "partial_json": ""}),
        delta(4, {"type": "input_json_delta", "partial_json": '{"a":'}),
        delta(4, {"type": "input_json_delta", "partial_json": "1}"}),
        block_stop(4),
        {"type": "brand_new_event", "x": 1},
        message_delta(
            "tool_use",
            {"output_tokens": 30, "output_tokens_details": {"thinking_tokens": 12}, "input_tokens": None},
        ),
        STOP,
    )
    start_usage = ir.Usage(
        input_tokens=1110,
        output_tokens=1,
        cache_read_tokens=1000,
        cache_write_tokens=100,
        cache_write_1h_tokens=60,
    )
    end_usage = ir.Usage(
        input_tokens=1110,
        output_tokens=30,
        cache_read_tokens=1000,
        cache_write_tokens=100,
        cache_write_1h_tokens=60,
        reasoning_tokens=12,
    )
    assert decode(body) == [
        ir.StreamStart(id="msg_1", model="claude-x", usage=start_usage),
        ir.PartStart(index=0, part=ir.ReasoningPart(redacted="opaque", origin=A)),
        ir.PartStop(index=0),
        ir.PartStart(index=1, part=ir.TextPart(text="")),
        ir.TextDelta(index=1, text="Hi"),
        ir.PartStop(index=1),
        ir.PartStart(index=2, part=ir.ToolCallPart(id="toolu_1", name="f", arguments="")),
        ir.ToolArgsDelta(index=2, fragment='{"a":'),
        ir.ToolArgsDelta(index=2, fragment="1}"),
        ir.PartStop(index=2),
        ir.UsageUpdate(usage=end_usage),
        ir.StreamEnd(stop_reason="tool_use", usage=end_usage),
    ]


def test_stop_sequence_and_new_stop_reasons() -> None:
    for wire, expected in [
        ("stop_sequence", "stop_sequence"),
        ("model_context_window_exceeded", "context_window_exceeded"),
        ("pause_turn", "pause_turn"),
        ("refusal", "refusal"),
        ("some_future_reason", "other"),
    ]:
        events = decode(
            sse(
                START,
                message_delta(wire, {"output_tokens": 2}, "###" if wire == "stop_sequence" else None),
                STOP,
            )
        )
        end = events[-1]
        assert isinstance(end, ir.StreamEnd)
        assert (end.stop_reason, end.stop_sequence) == (expected, "###" if wire == "stop_sequence" else None)


def test_error_event_ends_the_stream_with_its_status() -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    decoder = am.StreamDecoder()
    events = decoder.feed(sse(START, block_start(0, {"type": "text", "text": ""}), error))
    assert events[-1] == ir.StreamError(kind="overloaded_error", message="Overloaded", status=529)
    assert decoder.feed(sse(STOP)) == []
    assert decoder.close() == []


@pytest.mark.parametrize(
    ("kind", "status"),
    [("rate_limit_error", 429), ("api_error", 500), ("invalid_request_error", 400), ("new", 500)],
)
def test_error_statuses(kind: str, status: int) -> None:
    events = decode(sse({"type": "error", "error": {"type": kind, "message": "m"}}))
    assert events == [ir.StreamError(kind=kind, message="m", status=status)]


def test_truncated_stream_ends_in_an_error() -> None:
    body = sse(
        START, block_start(0, {"type": "text", "text": ""}), delta(0, {"type": "text_delta", "text": "a"})
    )
    decoder = am.StreamDecoder()
    events = decoder.feed(body + b"event: message_stop\ndata: {}")  # the last event never completes
    assert events[-1] == ir.TextDelta(index=0, text="a")
    assert decoder.close() == [
        ir.StreamError(kind="stream_truncated", message="the Anthropic stream ended before message_stop")
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"event: message_start\ndata: not json\n\n", "an event's data is not JSON: 'not json'"),
        (b"event: message_start\ndata: [1]\n\n", "an event's data is not a JSON object: '[1]'"),
        (sse({"type": "message_start", "message": {"id": 5, "model": "m"}}), "malformed message_start event"),
        (sse(block_start(0, {"type": "text", "text": ""})), "malformed content_block_start event"),
        (
            sse(START, block_start(0, {"type": "text"}), delta(0, {"type": "text_delta"})),
            "malformed content_block_delta",
        ),
    ],
)
def test_malformed_events_are_protocol_errors(body: bytes, message: str) -> None:
    decoder = am.StreamDecoder()
    error = decoder.feed(body)[-1]
    assert isinstance(error, ir.StreamError)
    assert (error.kind, error.status) == ("upstream_protocol_error", 502)
    assert error.message.startswith("Anthropic stream: " + message)
    assert decoder.feed(sse(STOP)) == decoder.close() == []


def test_deltas_for_blocks_never_started_are_ignored() -> None:
    events = decode(sse(START, delta(4, {"type": "text_delta", "text": "x"}), block_stop(4), STOP))
    assert [type(event) for event in events] == [ir.StreamStart, ir.StreamEnd]


def test_feed_json_serves_already_parsed_events() -> None:
    decoder = am.StreamDecoder()
    events = [
        e
        for event in (START, block_start(0, {"type": "text", "text": "pre"}), block_stop(0), STOP)
        for e in decoder.feed_json(event)
    ]
    assert events[1:4] == [
        ir.PartStart(index=0, part=ir.TextPart(text="")),
        ir.TextDelta(index=0, text="pre"),
        ir.PartStop(index=0),
    ]
    assert isinstance(events[-1], ir.StreamEnd)


# --- encoder ------------------------------------------------------------------------------

USAGE = ir.Usage(
    input_tokens=1110,
    output_tokens=30,
    cache_read_tokens=1000,
    cache_write_tokens=100,
    cache_write_1h_tokens=60,
    reasoning_tokens=12,
)

EVENTS: list[ir.StreamEvent] = [
    ir.StreamStart(
        id="msg_up",
        model="provider-model",
        usage=ir.Usage(
            input_tokens=1110, cache_read_tokens=1000, cache_write_tokens=100, cache_write_1h_tokens=60
        ),
    ),
    ir.PartStart(index=3, part=ir.ReasoningPart(origin=A)),
    ir.ReasoningDelta(index=3, text="Let me "),
    ir.ReasoningDelta(index=3, text="think."),
    ir.ReasoningDelta(index=3, signature="sig=="),
    ir.PartStop(index=3),
    ir.PartStart(index=7, part=ir.TextPart(text="")),
    ir.TextDelta(index=7, text='Hello \u00e9 \U0001f600 "quoted"\n'),
    ir.PartStop(index=7),
    ir.PartStart(index=9, part=ir.ToolCallPart(id="toolu_9", name="lookup", arguments="")),
    ir.ToolArgsDelta(index=9, fragment='{"q":'),
    ir.ToolArgsDelta(index=9, fragment='"x"}'),
    ir.PartStop(index=9),
    ir.UsageUpdate(usage=USAGE),
    ir.StreamEnd(stop_reason="tool_use"),
]


def encode_all(events: list[ir.StreamEvent], model: str = "claude-sonnet-4.5") -> bytes:
    encoder = am.StreamEncoder(model)
    return b"".join(encoder.encode(event) for event in events)


def test_encoder_emits_the_exact_anthropic_sequence() -> None:
    wire = encode_all(EVENTS)
    parsed = SSEParser().feed(wire)
    assert [event.event for event in parsed] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    datas = [orjson.loads(event.data) for event in parsed]
    for event, data in zip(parsed, datas, strict=True):
        assert data["type"] == event.event
        RAW_EVENT.validate_python(data)  # every event is one the SDK's types accept
    assert datas[0]["message"]["id"] == "msg_up"
    assert datas[0]["message"]["model"] == "claude-sonnet-4.5"
    assert datas[0]["message"]["usage"] == {
        "input_tokens": 10,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 1000,
        "cache_creation": {"ephemeral_5m_input_tokens": 40, "ephemeral_1h_input_tokens": 60},
        "output_tokens": 0,
    }
    assert [d["index"] for d in datas[1:13]] == [0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
    assert datas[1]["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}
    assert datas[4]["delta"] == {"type": "signature_delta", "signature": "sig=="}
    assert datas[9]["content_block"] == {"type": "tool_use", "id": "toolu_9", "name": "lookup", "input": {}}
    assert datas[13] == {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use", "stop_sequence": None},
        "usage": {
            "input_tokens": 10,
            "cache_creation_input_tokens": 100,
            "cache_read_input_tokens": 1000,
            "output_tokens": 30,
            "output_tokens_details": {"thinking_tokens": 12},
        },
    }


def test_the_sdk_accumulates_what_the_encoder_emits() -> None:
    kinds, final = sdk_stream(encode_all(EVENTS))
    assert kinds.count("text") == 1 and kinds.count("thinking") == 2 and kinds.count("input_json") == 2
    assert kinds[-1] == "message_stop"
    expected = accumulate(EVENTS)
    expected.model = "claude-sonnet-4.5"
    expected.usage = USAGE
    assert am.decode_response(final) == expected
    assert orjson.loads(final)["content"][2]["input"] == {"q": "x"}


def test_a_decoded_provider_stream_reencodes_to_what_the_sdk_reads_as_the_same_message() -> None:
    upstream = sse(
        START,
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, {"type": "thinking_delta", "thinking": "hm"}),
        delta(0, {"type": "signature_delta", "signature": "c2ln"}),
        block_stop(0),
        block_start(1, {"type": "text", "text": ""}),
        delta(1, {"type": "text_delta", "text": "ok"}),
        block_stop(1),
        message_delta("end_turn", {"output_tokens": 9}),
        STOP,
    )
    _, direct = sdk_stream(upstream)
    _, relayed = sdk_stream(encode_all(decode(upstream), model="claude-x"))
    assert orjson.loads(relayed) == orjson.loads(direct)


def test_stream_error_becomes_an_error_event_and_never_message_stop() -> None:
    encoder = am.StreamEncoder("m")
    wire = b"".join(encoder.encode(event) for event in EVENTS[:8])
    wire += encoder.encode(ir.StreamError(kind="overloaded_error", message="Overloaded", status=529))
    assert encoder.encode(ir.PartStop(index=7)) == b""
    assert encoder.encode(ir.StreamEnd(stop_reason="end_turn")) == b""
    assert wire.endswith(
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )
    assert b"message_stop" not in wire and b"message_delta" not in wire
    with sdk_client() as (client, box):
        box[0] = wire
        request = client.messages.stream(model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}])
        with pytest.raises(anthropic.APIStatusError) as caught, request as s:
            for _ in s:
                pass
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }


@pytest.mark.parametrize(
    ("error", "wire_type"),
    [
        (ir.StreamError(kind="stream_truncated", message="cut"), "api_error"),
        (ir.StreamError(kind="rate_limit_exceeded", message="slow", status=429), "rate_limit_error"),
        (ir.StreamError(kind="server_error", message="x", status=503), "api_error"),
        (ir.StreamError(kind="context_length_exceeded", message="x", status=400), "invalid_request_error"),
    ],
)
def test_error_types_are_mapped_to_anthropic_vocabulary(error: ir.StreamError, wire_type: str) -> None:
    (event,) = SSEParser().feed(am.StreamEncoder("m").encode(error))
    assert event.event == "error"
    assert orjson.loads(event.data) == {
        "type": "error",
        "error": {"type": wire_type, "message": error.message},
    }


def test_events_before_stream_start_and_unclosed_parts_still_make_a_valid_stream() -> None:
    events: list[ir.StreamEvent] = [
        ir.PartStart(index=0, part=ir.TextPart(text="already")),
        ir.TextDelta(index=0, text=" here"),
        ir.TextDelta(index=5, text="no such part"),
        ir.ToolArgsDelta(index=0, fragment="wrong kind"),
        ir.StreamEnd(stop_reason="end_turn", usage=ir.Usage(input_tokens=3, output_tokens=4)),
    ]
    encoder = am.StreamEncoder("m", message_id="msg_gw")
    wire = b"".join(encoder.encode(event) for event in events)
    kinds, final = sdk_stream(wire)
    message = orjson.loads(final)
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert message["id"] == "msg_gw"
    assert message["content"] == [{"type": "text", "text": "already here", "citations": None}]
    assert message["usage"]["input_tokens"] == 3 and message["usage"]["output_tokens"] == 4
    assert encoder.encode(ir.TextDelta(index=0, text="late")) == b""


def test_foreign_reasoning_is_shown_without_its_signature() -> None:
    events: list[ir.StreamEvent] = [
        ir.StreamStart(id="x", model="gemini"),
        ir.PartStart(index=0, part=ir.ReasoningPart(origin="gemini")),
        ir.ReasoningDelta(index=0, text="thought"),
        ir.ReasoningDelta(index=0, signature="gemini-sig"),
        ir.PartStop(index=0),
        ir.PartStart(index=1, part=ir.ReasoningPart(redacted="blob", origin="bedrock")),
        ir.ReasoningDelta(index=1, text="ignored"),
        ir.PartStop(index=1),
        ir.StreamEnd(stop_reason="end_turn"),
    ]
    wire = encode_all(events)
    assert b"gemini-sig" not in wire and b"blob" not in wire
    _, final = sdk_stream(wire)
    assert orjson.loads(final)["content"] == [{"type": "thinking", "thinking": "thought", "signature": ""}]
