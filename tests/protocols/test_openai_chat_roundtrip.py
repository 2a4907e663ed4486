"""Hypothesis round trips: IR -> OpenAI Chat wire -> IR gives the same IR for everything the protocol can say.

The client side writes what the provider side reads (a modelrouter may sit behind another), so
each property runs one side's encoder into the other side's decoder:
answers (`encode_response` -> `decode_response`), streams (`StreamEncoder` -> `StreamDecoder`,
bytes split at random) and requests (`encode_request` -> `decode_request` -> `encode_request`).
"""

from __future__ import annotations

import string
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from modelrouter import ir
from modelrouter.protocols import openai_chat
from tests.protocols.openai_chat_helpers import decode_all

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

texts = st.text(max_size=12)
words = st.text(min_size=1, max_size=12)
ids = st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=10)
origins = st.sampled_from(["anthropic", "gemini", "openai", "xai", "deepseek", "openrouter", "bedrock"])
signatures = st.none() | words
counts = st.integers(0, 10**7)
arguments = st.dictionaries(
    st.text(max_size=4), st.integers(-(2**53), 2**53) | st.text(max_size=4), max_size=3
).map(lambda d: orjson.dumps(d).decode())
usages = st.builds(
    ir.Usage,
    input_tokens=counts,
    output_tokens=counts,
    cache_read_tokens=counts,
    cache_write_tokens=counts,
    reasoning_tokens=counts,
)
reasoning_parts = st.builds(
    ir.ReasoningPart, text=texts, signature=signatures, redacted=signatures, origin=origins
)
tool_calls = st.builds(ir.ToolCallPart, id=ids, name=texts, arguments=arguments, signature=signatures)


def _stop(has_calls: bool) -> st.SearchStrategy[ir.StopReason]:
    # end_turn with tool calls decodes as tool_use (a documented rule); the other reasons are lossy by design
    if has_calls:
        return st.sampled_from(["tool_use", "max_tokens", "content_filter"])
    return st.sampled_from(["end_turn", "tool_use", "max_tokens", "content_filter"])


# --- non-streamed answers --------------------------------------------------------------------


@st.composite
def answers(draw: st.DrawFn) -> ir.Response:
    content: list[ir.Part] = [*draw(st.lists(reasoning_parts, max_size=3))]
    content.extend(draw(st.lists(words.map(lambda t: ir.TextPart(text=t)), max_size=1)))
    calls = draw(st.lists(tool_calls, max_size=3))
    content.extend(calls)
    extra = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "system_fingerprint": words,
                "service_tier": st.sampled_from(["default", "flex", "priority"]),
            },
        )
    )
    return ir.Response(
        id=draw(texts),
        model=draw(texts),
        content=content,
        stop_reason=draw(_stop(bool(calls))),
        usage=draw(usages),
        created=draw(st.integers(0, 2**40)),
        extra=extra,
    )


@SETTINGS
@given(answer=answers())
def test_answers_round_trip_through_a_client_body(answer: ir.Response) -> None:
    body = openai_chat.encode_response(answer)
    ChatCompletion.model_validate_json(body)
    assert openai_chat.decode_response(body) == answer


# --- streams ---------------------------------------------------------------------------------


def _text_part(draw: st.DrawFn, index: int) -> list[ir.StreamEvent]:
    deltas = draw(st.lists(words, min_size=1, max_size=3))
    return [
        ir.PartStart(index=index, part=ir.TextPart(text="")),
        *(ir.TextDelta(index=index, text=t) for t in deltas),
    ]


def _reasoning_part(draw: st.DrawFn, index: int) -> list[ir.StreamEvent]:
    redacted = draw(signatures)
    events: list[ir.StreamEvent] = [
        ir.PartStart(index=index, part=ir.ReasoningPart(origin=draw(origins), redacted=redacted))
    ]
    events.extend(ir.ReasoningDelta(index=index, text=t) for t in draw(st.lists(words, max_size=3)))
    signature = draw(signatures)
    if signature is not None:
        events.append(ir.ReasoningDelta(index=index, signature=signature))
    if len(events) == 1 and redacted is None:  # a part with nothing in it is not sent at all
        events.append(ir.ReasoningDelta(index=index, text="x"))
    return events


def _tool_part(draw: st.DrawFn, index: int) -> list[ir.StreamEvent]:
    part = ir.ToolCallPart(id=draw(ids), name=draw(texts), arguments="", signature=draw(signatures))
    fragments = draw(st.lists(words, max_size=3))
    return [
        ir.PartStart(index=index, part=part),
        *(ir.ToolArgsDelta(index=index, fragment=f) for f in fragments),
    ]


@st.composite
def streams(draw: st.DrawFn) -> list[ir.StreamEvent]:
    events: list[ir.StreamEvent] = [
        ir.StreamStart(id=draw(texts), model=draw(texts), created=draw(st.integers(0, 2**40)))
    ]
    kinds = draw(st.lists(st.sampled_from(["text", "reasoning", "tool"]), max_size=6))
    kinds = [k for i, k in enumerate(kinds) if not (k == "text" and i and kinds[i - 1] == "text")]
    builders = {"text": _text_part, "reasoning": _reasoning_part, "tool": _tool_part}
    for index, kind in enumerate(kinds):
        events.extend(builders[kind](draw, index))
        events.append(ir.PartStop(index=index))
    events.append(ir.StreamEnd(stop_reason=draw(_stop("tool" in kinds)), usage=draw(usages)))
    return events


def _encode(events: list[ir.StreamEvent], include_usage: bool) -> bytes:
    encoder = openai_chat.StreamEncoder(include_usage=include_usage)
    return b"".join(encoder.encode(e) for e in events)


@SETTINGS
@given(events=streams(), data=st.data())
def test_streams_round_trip_through_client_bytes_split_anywhere(
    events: list[ir.StreamEvent], data: st.DataObject
) -> None:
    body = _encode(events, include_usage=True)
    for frame in body.split(b"\n\n")[:-2]:
        ChatCompletionChunk.model_validate_json(frame.removeprefix(b"data: "))
    cuts = sorted(set(data.draw(st.lists(st.integers(1, max(1, len(body) - 1)), max_size=12))))
    end = events[-1]
    assert isinstance(end, ir.StreamEnd) and end.usage is not None
    assert decode_all(body, cuts) == [*events[:-1], ir.UsageUpdate(usage=end.usage), end]


@SETTINGS
@given(events=streams())
def test_without_include_usage_the_stream_carries_no_usage(events: list[ir.StreamEvent]) -> None:
    end = events[-1]
    assert isinstance(end, ir.StreamEnd)
    assert decode_all(_encode(events, include_usage=False)) == [
        *events[:-1],
        ir.StreamEnd(stop_reason=end.stop_reason),
    ]


# --- requests --------------------------------------------------------------------------------

base64ish = st.text(alphabet=string.ascii_letters + string.digits + "+/=", min_size=1, max_size=16)
user_parts = st.one_of(
    texts.map(lambda t: ir.TextPart(text=t)),
    st.builds(
        ir.ImagePart,
        media_type=st.sampled_from(["image/png", "image/jpeg"]),
        data=base64ish,
        detail=st.sampled_from([None, "low", "high", "auto"]),
    ),
    st.builds(
        ir.ImagePart,
        url=words.map(lambda t: "https://example.com/" + t),
        detail=st.sampled_from([None, "low"]),
    ),
    st.builds(ir.DocumentPart, media_type=st.just("application/pdf"), data=base64ish, filename=words),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)


class _Turns:
    """Draws a conversation in the normal form the protocol can say, with unique tool-call ids."""

    def __init__(self, draw: st.DrawFn, echo: str) -> None:
        self.draw = draw
        self.echo = echo
        self.calls = 0
        self.deepseek = echo == "auto" and draw(st.booleans())

    def reasoning(self, has_calls: bool) -> list[ir.Part]:
        if self.echo == "reasoning_details":
            return list(self.draw(st.lists(reasoning_parts, max_size=2)))
        if self.deepseek and (has_calls or self.draw(st.booleans())):
            return [ir.ReasoningPart(text=self.draw(texts), origin="deepseek")]
        return []

    def assistant(self) -> tuple[ir.Message, list[ir.ToolCallPart]]:
        calls = []
        for _ in range(self.draw(st.integers(0, 3))):
            self.calls += 1
            call = self.draw(
                st.builds(ir.ToolCallPart, id=ids, name=texts, arguments=arguments, signature=signatures)
            )
            call.id = f"c{self.calls}{call.id}"
            calls.append(call)
        content: list[ir.Part] = self.reasoning(bool(calls))
        content.extend(ir.TextPart(text=t) for t in self.draw(st.lists(words, max_size=2)))
        content.extend(calls)
        return ir.Message(role="assistant", content=content), calls

    def results(self, calls: list[ir.ToolCallPart]) -> ir.Message:
        content: list[ir.Part] = []
        for call in calls:
            parts = [ir.TextPart(text=t) for t in self.draw(st.lists(texts, min_size=1, max_size=2))]
            content.append(ir.ToolResultPart(tool_call_id=call.id, content=list(parts), name=call.name))
        return ir.Message(role="user", content=content)

    def messages(self) -> list[ir.Message]:
        out: list[ir.Message] = []
        for _ in range(self.draw(st.integers(1, 4))):
            out.append(
                ir.Message(role="user", content=list(self.draw(st.lists(user_parts, min_size=1, max_size=3))))
            )
            if self.draw(st.booleans()):
                assistant, calls = self.assistant()
                out.append(assistant)
                if calls:
                    out.append(self.results(calls))
        return out


def _tools(draw: st.DrawFn) -> tuple[list[ir.ToolSpec], ir.ToolChoice | None]:
    names = draw(st.lists(words, unique=True, max_size=2))
    tools = [
        ir.ToolSpec(
            name=name,
            description=draw(st.none() | texts),
            parameters=draw(
                st.just({"type": "object", "properties": {}})
                | st.dictionaries(words, json_values, max_size=2)
            ),
            strict=draw(st.none() | st.booleans()),
        )
        for name in names
    ]
    if not tools or draw(st.booleans()):
        return tools, None
    parallel = draw(st.none() | st.booleans())
    if draw(st.booleans()):
        return tools, ir.ToolChoice(mode="tool", name=draw(st.sampled_from(names)), parallel=parallel)
    return tools, ir.ToolChoice(mode=draw(st.sampled_from(["none", "auto", "required"])), parallel=parallel)


formats = st.one_of(
    st.none(),
    st.just(ir.ResponseFormat(type="text")),
    st.just(ir.ResponseFormat(type="json_object")),
    st.builds(
        ir.ResponseFormat,
        type=st.just("json_schema"),
        schema=st.dictionaries(words, json_values, max_size=2),
        name=words,
        strict=st.none() | st.booleans(),
        description=st.none() | texts,
    ),
)
reasoning_configs = st.one_of(
    st.none(),
    st.sampled_from(["minimal", "low", "medium", "high"]).map(lambda e: ir.ReasoningConfig(effort=e)),
    st.just(ir.ReasoningConfig(effort="none", enabled=False)),
)
floats = st.none() | st.floats(0, 2, allow_nan=False)


@st.composite
def requests(draw: st.DrawFn, echo: str) -> ir.Request:
    tools, choice = _tools(draw)
    stream = draw(st.booleans())
    return ir.Request(
        model="provider-model",
        system=[ir.TextPart(text=t) for t in draw(st.lists(texts, max_size=2))],
        messages=_Turns(draw, echo).messages(),
        tools=tools,
        tool_choice=choice,
        response_format=draw(formats),
        max_tokens=draw(st.none() | st.integers(1, 10**6)),
        temperature=draw(floats),
        top_p=draw(floats),
        stop=draw(st.lists(words, max_size=4)),
        seed=draw(st.none() | st.integers(-(2**53), 2**53)),
        reasoning=draw(reasoning_configs),
        stream=stream,
        include_usage=stream,
        user=draw(st.none() | texts),
        extra=draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "metadata": st.dictionaries(words, texts, max_size=2),
                    "store": st.booleans(),
                    "n": st.just(1),
                    "prompt_cache_key": words,
                },
            )
        ),
        source_protocol="openai_chat",
    )


def _round_trip(request: ir.Request, echo: Any) -> None:
    body = openai_chat.encode_request(request, model="provider-model", reasoning_echo=echo)
    decoded = openai_chat.decode_request(body)
    assert decoded == request
    assert openai_chat.encode_request(decoded, model="provider-model", reasoning_echo=echo) == body


@SETTINGS
@given(request=requests("reasoning_details"))
def test_requests_round_trip_with_openrouter_reasoning_details(request: ir.Request) -> None:
    _round_trip(request, "reasoning_details")


@SETTINGS
@given(request=requests("auto"))
def test_requests_round_trip_with_deepseek_reasoning_content(request: ir.Request) -> None:
    _round_trip(request, "auto")
