"""Round-trip properties over the expressible subset of the IR (hypothesis).

* answers: IR -> `encode_response` (client side) -> `decode_response` (provider side) -> same IR;
* streams: IR events -> `StreamEncoder` -> bytes cut anywhere -> `StreamDecoder` -> same events,
  and the anthropic SDK accumulates those bytes into the same answer;
* requests: IR -> `encode_request` -> `decode_request` -> same IR, and the other wire spellings of
  the same request (string content, split turns, system blocks) decode to it too.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
from typing import Any, Literal

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelrouter import ir
from modelrouter.protocols import anthropic_messages as am
from tests.protocols.anthropic_support import accumulate, sdk_stream

A = "anthropic"
TEXT = st.text(min_size=1, max_size=12)
WORDS = TEXT.filter(lambda s: not s.isspace())  # blank text blocks are dropped by rule
ID = st.from_regex(r"[A-Za-z0-9_]{1,12}", fullmatch=True)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
ARGUMENTS = st.dictionaries(st.text(max_size=5), JSON_VALUE, max_size=3).map(
    lambda d: orjson.dumps(d).decode()
)
B64 = st.binary(min_size=1, max_size=12).map(lambda b: base64.b64encode(b).decode())
CACHE = st.none() | st.builds(ir.CacheControl, ttl=st.sampled_from([None, "5m", "1h"]))

# --- answers ------------------------------------------------------------------------------

REASONING = st.builds(
    ir.ReasoningPart, text=st.text(max_size=12), signature=B64, origin=st.just(A)
) | st.builds(ir.ReasoningPart, redacted=B64, origin=st.just(A))
CALL = st.builds(ir.ToolCallPart, id=ID, name=ID, arguments=ARGUMENTS)
ANSWER_PART = st.one_of(st.builds(ir.TextPart, text=WORDS), REASONING, CALL)


@st.composite
def usages(draw: st.DrawFn, *, one_hour: int | None = None) -> ir.Usage:
    written = draw(st.integers(0, 10**6))
    read = draw(st.integers(0, 10**6))
    output = draw(st.integers(0, 10**5))
    return ir.Usage(
        input_tokens=written + read + draw(st.integers(0, 10**6)),
        output_tokens=output,
        cache_read_tokens=read,
        cache_write_tokens=written,
        cache_write_1h_tokens=draw(st.integers(0, written)) if one_hour is None else min(one_hour, written),
        reasoning_tokens=draw(st.integers(0, output)),
    )


@st.composite
def answers(draw: st.DrawFn) -> ir.Response:
    stop = draw(st.sampled_from(sorted(set(am._wire.STOP_TO_IR.values()))))
    return ir.Response(
        id=draw(ID),
        model=draw(TEXT),
        content=draw(st.lists(ANSWER_PART, max_size=5)),
        stop_reason=stop,
        stop_sequence=draw(TEXT) if stop == "stop_sequence" else None,
        usage=draw(usages()),
    )


@given(answers())
def test_answers_round_trip(response: ir.Response) -> None:
    assert am.decode_response(am.encode_response(response)) == response


# --- streams ------------------------------------------------------------------------------


def chunks(draw: st.DrawFn, text: str) -> list[str]:
    cuts = sorted(draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=3))) if len(text) > 1 else []
    pieces = [text[a:b] for a, b in itertools.pairwise([0, *cuts, len(text)])]
    return [piece for piece in pieces if piece]


def part_events(draw: st.DrawFn, index: int, part: ir.Part) -> list[ir.StreamEvent]:
    events: list[ir.StreamEvent]
    if isinstance(part, ir.TextPart):
        events = [ir.PartStart(index=index, part=ir.TextPart(text=""))]
        events += [ir.TextDelta(index=index, text=c) for c in chunks(draw, part.text)]
    elif isinstance(part, ir.ToolCallPart):
        events = [ir.PartStart(index=index, part=ir.ToolCallPart(id=part.id, name=part.name, arguments=""))]
        events += [ir.ToolArgsDelta(index=index, fragment=c) for c in chunks(draw, part.arguments)]
    else:
        assert isinstance(part, ir.ReasoningPart)
        if part.redacted is not None:
            return [ir.PartStart(index=index, part=part), ir.PartStop(index=index)]
        events = [ir.PartStart(index=index, part=ir.ReasoningPart(origin=A))]
        events += [ir.ReasoningDelta(index=index, text=c) for c in chunks(draw, part.text)]
        events.append(ir.ReasoningDelta(index=index, signature=part.signature))
    return [*events, ir.PartStop(index=index)]


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[ir.StreamEvent], list[ir.StreamEvent]]:
    """(what goes into the encoder, what the decoder must give back)."""
    answer = draw(answers())
    start_usage = draw(usages())
    start_usage.output_tokens = start_usage.reasoning_tokens = 0
    end_usage = draw(usages(one_hour=start_usage.cache_write_1h_tokens))
    if end_usage.cache_write_tokens < start_usage.cache_write_1h_tokens:
        end_usage.cache_write_1h_tokens = 0
        start_usage.cache_write_1h_tokens = 0
    body = [event for i, part in enumerate(answer.content) for event in part_events(draw, i, part)]
    head: list[ir.StreamEvent] = [ir.StreamStart(id=answer.id, model=answer.model, usage=start_usage)]
    tail: list[ir.StreamEvent] = [
        ir.StreamEnd(stop_reason=answer.stop_reason, stop_sequence=answer.stop_sequence, usage=end_usage)
    ]
    spread = draw(st.integers(1, 5))  # IR indexes need not be contiguous; the wire's are
    sent = head + [_reindex(event, spread) for event in body] + [ir.UsageUpdate(usage=end_usage), *tail]
    expected = head + body + [ir.UsageUpdate(usage=end_usage), *tail]
    return sent, expected


def _reindex(event: ir.StreamEvent, spread: int) -> ir.StreamEvent:
    index = getattr(event, "index", None)
    return event if index is None else dataclasses.replace(event, index=index * spread + 7)


def decode_in_pieces(wire: bytes, cuts: list[int]) -> list[ir.StreamEvent]:
    decoder = am.StreamDecoder()
    events: list[ir.StreamEvent] = []
    for start, end in itertools.pairwise([0, *sorted(c % (len(wire) + 1) for c in cuts), len(wire)]):
        events += decoder.feed(wire[start:end])
    return events + decoder.close()


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.lists(st.integers(0, 10**6), max_size=8))
def test_streams_round_trip_through_the_wire_cut_anywhere(
    pair: tuple[list[ir.StreamEvent], list[ir.StreamEvent]], cuts: list[int]
) -> None:
    sent, expected = pair
    start = sent[0]
    assert isinstance(start, ir.StreamStart)
    encoder = am.StreamEncoder(start.model)
    wire = b"".join(encoder.encode(event) for event in sent)
    assert decode_in_pieces(wire, cuts) == expected


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_the_sdk_reads_every_encoded_stream_as_the_same_answer(
    pair: tuple[list[ir.StreamEvent], list[ir.StreamEvent]],
) -> None:
    sent, expected = pair
    start = sent[0]
    assert isinstance(start, ir.StreamStart)
    encoder = am.StreamEncoder(start.model)
    _, final = sdk_stream(b"".join(encoder.encode(event) for event in sent))
    assert am.decode_response(final) == accumulate(expected)


# --- requests -----------------------------------------------------------------------------

MEDIA = st.sampled_from(["image/png", "image/jpeg", "image/gif", "image/webp"])
IMAGE = st.builds(ir.ImagePart, media_type=MEDIA, data=B64, cache_control=CACHE) | st.builds(
    ir.ImagePart, url=TEXT.map(lambda s: "https://x.test/" + s), cache_control=CACHE
)
DOCUMENT = st.one_of(
    st.builds(
        ir.DocumentPart,
        media_type=st.just("application/pdf"),
        data=B64,
        filename=st.none() | TEXT,
        cache_control=CACHE,
    ),
    st.builds(
        ir.DocumentPart,
        media_type=st.just("text/plain"),
        data=TEXT.map(lambda s: base64.b64encode(s.encode()).decode()),
        filename=st.none() | TEXT,
        cache_control=CACHE,
    ),
    st.builds(ir.DocumentPart, url=TEXT.map(lambda s: "https://x.test/" + s), cache_control=CACHE),
)
TEXT_PART = st.builds(ir.TextPart, text=WORDS, cache_control=CACHE)
RESULT = st.builds(
    ir.ToolResultPart,
    tool_call_id=ID.map(lambda s: "r_" + s),  # never an id of a call here, so `name` stays None
    content=st.lists(st.one_of(TEXT_PART, IMAGE, DOCUMENT), max_size=3),
    is_error=st.booleans(),
    cache_control=CACHE,
)
USER_PART = st.one_of(TEXT_PART, IMAGE, DOCUMENT, RESULT)
ASSISTANT_PART = st.one_of(
    TEXT_PART,
    REASONING,
    CALL.map(lambda c: ir.ToolCallPart(id="c_" + c.id, name=c.name, arguments=c.arguments)),
)
TOOL = st.builds(
    ir.ToolSpec,
    name=ID,
    description=st.none() | st.text(max_size=8),
    parameters=st.just({"type": "object", "properties": {"a": {"type": "string"}}}),
    strict=st.none() | st.booleans(),
    cache_control=CACHE,
)
REASONING_CONFIG = st.one_of(
    st.none(),
    st.builds(
        ir.ReasoningConfig,
        enabled=st.just(True),
        budget_tokens=st.none() | st.integers(1024, 64000),
        effort=st.none() | st.sampled_from(sorted(am._wire.EFFORTS)),
        include_thoughts=st.none() | st.booleans(),
    ),
    st.builds(
        ir.ReasoningConfig, enabled=st.just(False), effort=st.none() | st.sampled_from(["low", "high"])
    ),
    st.builds(ir.ReasoningConfig, effort=st.sampled_from(sorted(am._wire.EFFORTS))),
)
UNIT = st.floats(0, 1, allow_nan=False)


@st.composite
def messages(draw: st.DrawFn) -> list[ir.Message]:
    count = draw(st.integers(1, 5))
    return [
        ir.Message(role="user", content=draw(st.lists(USER_PART, min_size=1, max_size=4)))
        if i % 2 == 0
        else ir.Message(role="assistant", content=draw(st.lists(ASSISTANT_PART, min_size=1, max_size=4)))
        for i in range(count)
    ]


@st.composite
def requests(draw: st.DrawFn) -> ir.Request:
    tools = draw(st.lists(TOOL, max_size=3))
    choice = None
    if tools:
        modes: list[Literal["auto", "required", "none", "tool"]] = ["auto", "required", "none", "tool"]
        mode = draw(st.sampled_from(modes))
        choice = ir.ToolChoice(
            mode=mode,
            name=tools[0].name if mode == "tool" else None,
            parallel=None if mode == "none" else draw(st.none() | st.booleans()),
        )
    extra: dict[str, Any] = draw(
        st.sampled_from([{}, {"service_tier": "auto"}, {"inference_geo": "eu", "speed": "fast"}])
    )
    if draw(st.booleans()):
        extra[am.SERVER_TOOLS_KEY] = [{"type": "web_search_20250305", "name": "web_search"}]
    return ir.Request(
        model=draw(TEXT),
        messages=draw(messages()),
        system=draw(st.lists(TEXT_PART, max_size=3)),
        tools=tools,
        tool_choice=choice,
        response_format=draw(
            st.none()
            | st.builds(ir.ResponseFormat, type=st.just("json_schema"), schema=st.just({"type": "object"}))
        ),
        max_tokens=draw(st.integers(1, 200000)),
        temperature=draw(st.none() | UNIT),
        top_p=draw(st.none() | UNIT),
        top_k=draw(st.none() | st.integers(1, 500)),
        stop=draw(st.lists(TEXT, max_size=3)),
        reasoning=draw(REASONING_CONFIG),
        stream=draw(st.booleans()),
        user=draw(st.none() | TEXT),
        cache_control=draw(CACHE),
        extra=extra,
        source_protocol=am.PROTOCOL,
    )


@given(requests())
def test_requests_round_trip(request: ir.Request) -> None:
    assert am.decode_request(am.encode_request(request, model=request.model)) == request


def respell(wire: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """Another spelling of the same request: string content, split turns, system as blocks."""
    turns: list[dict[str, Any]] = []
    for message in wire["messages"]:
        blocks = message["content"]
        cut = data.draw(st.integers(1, len(blocks)))
        for piece in (blocks[:cut], blocks[cut:]):
            if piece:
                only_text = len(piece) == 1 and set(piece[0]) == {"type", "text"}
                turns.append({"role": message["role"], "content": piece[0]["text"] if only_text else piece})
    system = wire.get("system")
    if isinstance(system, str):
        wire["system"] = [{"type": "text", "text": system}]
    return wire | {"messages": turns}


@given(requests(), st.data())
def test_other_wire_spellings_decode_to_the_same_request(request: ir.Request, data: st.DataObject) -> None:
    wire = orjson.loads(am.encode_request(request, model=request.model))
    respelled = orjson.dumps(respell(wire, data))
    decoded = am.decode_request(respelled)
    assert decoded == request
    assert am.decode_request(am.encode_request(decoded, model=decoded.model)) == decoded
