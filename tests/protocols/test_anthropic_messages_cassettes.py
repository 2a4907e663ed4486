"""Replays every recorded Anthropic exchange (../shared cassettes) through the codec."""

from __future__ import annotations

import itertools

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelrouter import errors, ir
from modelrouter.protocols import anthropic_messages as am
from tests.protocols.anthropic_support import accumulate, sdk_stream
from tests.recorded import MISSING_REASON, Interaction, cassette, cassette_paths

DIR = "models/cassettes/test_anthropic/"
ALL = cassette_paths(DIR + "*.yaml")
A = "anthropic"


def one(name: str, index: int = 0) -> Interaction:
    return cassette(DIR + name + ".yaml")[index]


STREAMS = ["test_request_stream_fallback_for_high_max_tokens", "test_anthropic_model_thinking_part_stream"]


def test_the_stream_list_covers_every_recorded_stream() -> None:
    if not ALL:
        pytest.skip(MISSING_REASON)
    found = [path for path in ALL for it in cassette(path) if it.status == 200 and it.response_json is None]
    assert sorted(found) == sorted(DIR + name + ".yaml" for name in STREAMS)


def decode_stream(body: bytes) -> list[ir.StreamEvent]:
    decoder = am.StreamDecoder()
    return decoder.feed(body) + decoder.close()


# --- every request body is what encode_request makes of its IR ----------------------------


@pytest.mark.parametrize("path", ALL)
def test_every_recorded_request_decodes_and_encodes_back_to_the_same_body(path: str) -> None:
    for it in cassette(path):
        request = am.decode_request(orjson.dumps(it.request_json))
        assert it.uri == "https://api.anthropic.com/v1/messages?beta=true"  # the SDK's beta client
        assert orjson.loads(am.encode_request(request, model=it.request_json["model"])) == it.request_json


def test_tool_output_second_request_is_the_encoding_of_the_first_answer() -> None:
    first, second = cassette(DIR + "test_anthropic_tool_output.yaml")
    tools = [
        ir.ToolSpec(
            name="get_user_country",
            description="",
            parameters={"additionalProperties": False, "properties": {}, "type": "object"},
        ),
        ir.ToolSpec(
            name="final_result",
            description="The final response which ends this conversation",
            parameters={
                "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
                "required": ["city", "country"],
                "title": "CityLocation",
                "type": "object",
            },
        ),
    ]
    question = ir.Message(
        role="user", content=[ir.TextPart(text="What is the largest city in the user country?")]
    )
    request = ir.Request(
        model="claude-sonnet-4.5",
        messages=[question],
        tools=tools,
        tool_choice=ir.ToolChoice(mode="required"),
        max_tokens=4096,
    )
    assert orjson.loads(am.encode_request(request, model="claude-sonnet-4-5")) == first.request_json
    answer = am.decode_response(first.response_body)
    request.messages += [
        ir.Message(role="assistant", content=answer.content),
        ir.Message(
            role="user",
            content=[
                ir.ToolResultPart(
                    tool_call_id="toolu_01X9wcHKKAZD9tBC711xipPa", content=[ir.TextPart(text="Mexico")]
                )
            ],
        ),
    ]
    assert orjson.loads(am.encode_request(request, model="claude-sonnet-4-5")) == second.request_json


def test_thinking_history_goes_back_with_its_signature() -> None:
    first, second = cassette(DIR + "test_anthropic_model_thinking_part.yaml")
    answer = am.decode_response(first.response_body)
    request = ir.Request(
        model="claude-sonnet-4.5",
        messages=[
            ir.Message(role="user", content=[ir.TextPart(text="How do I cross the street?")]),
            ir.Message(role="assistant", content=answer.content),
            ir.Message(
                role="user",
                content=[
                    ir.TextPart(
                        text="Considering the way to cross the street, analogously, how do I cross the river?"
                    )
                ],
            ),
        ],
        max_tokens=4096,
        reasoning=ir.ReasoningConfig(enabled=True, budget_tokens=1024),
    )
    assert orjson.loads(am.encode_request(request, model="claude-sonnet-4-5")) == second.request_json


def test_parallel_tool_results_and_a_string_system_prompt() -> None:
    first, second = cassette(DIR + "test_multiple_parallel_tool_calls.yaml")
    system = first.request_json["system"]
    answer = am.decode_response(first.response_body)
    calls = [part for part in answer.content if isinstance(part, ir.ToolCallPart)]
    facts = [
        "alice is bob's wife",
        "bob is alice's husband",
        "charlie is alice's son",
        "daisy is bob's daughter and charlie's younger sister",
    ]
    request = ir.Request(
        model="claude-haiku-4.5",
        system=[ir.TextPart(text=system)],
        messages=[
            ir.Message(
                role="user",
                content=[
                    ir.TextPart(text="Alice, Bob, Charlie and Daisy are a family. Who is the youngest?")
                ],
            ),
            ir.Message(role="assistant", content=answer.content),
            ir.Message(
                role="user",
                content=[
                    ir.ToolResultPart(tool_call_id=call.id, content=[ir.TextPart(text=fact)])
                    for call, fact in zip(calls, facts, strict=True)
                ],
            ),
        ],
        tools=[
            ir.ToolSpec(
                name="retrieve_entity_info",
                description="Get the knowledge about the given entity.",
                parameters={
                    "additionalProperties": False,
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"],
                    "type": "object",
                },
            )
        ],
        tool_choice=ir.ToolChoice(mode="auto"),
        max_tokens=4096,
    )
    assert orjson.loads(am.encode_request(request, model="claude-haiku-4-5")) == second.request_json


def test_sampling_effort_and_stream_flags_reach_the_body() -> None:
    hello = ir.Message(role="user", content=[ir.TextPart(text="hello")])
    sampling = ir.Request(model="x", messages=[hello], max_tokens=4096, temperature=0.2, top_k=40)
    assert (
        orjson.loads(am.encode_request(sampling, model="claude-haiku-4-5"))
        == one("test_anthropic_sampling_settings_reach_the_wire").request_json
    )
    effort = ir.Request(
        model="x",
        messages=[ir.Message(role="user", content=[ir.TextPart(text="What is 2+2?")])],
        max_tokens=4096,
        reasoning=ir.ReasoningConfig(effort="xhigh"),
    )
    assert (
        orjson.loads(am.encode_request(effort, model="claude-opus-4-6"))
        == one("test_anthropic_explicit_effort_xhigh_unsupported_model_errors").request_json
    )
    streamed = ir.Request(
        model="x",
        messages=[
            ir.Message(role="user", content=[ir.TextPart(text="What is 1+1? Answer with just the number.")])
        ],
        max_tokens=32000,
        stream=True,
    )
    assert (
        orjson.loads(am.encode_request(streamed, model="claude-sonnet-4-5"))
        == one("test_request_stream_fallback_for_high_max_tokens").request_json
    )


# --- non-streamed answers -----------------------------------------------------------------


def test_plain_answer() -> None:
    assert am.decode_response(
        one("test_anthropic_sampling_settings_reach_the_wire").response_body
    ) == ir.Response(
        id="msg_011CeEgv4QcC6bo2wwJgepD6",
        model="claude-haiku-4-5-20251001",
        content=[ir.TextPart(text="Hello! \U0001f44b How can I help you today?")],
        stop_reason="end_turn",
        usage=ir.Usage(input_tokens=8, output_tokens=16),
    )


def test_tool_call_answers_carry_parsed_arguments() -> None:
    first, second = cassette(DIR + "test_anthropic_tool_output.yaml")
    assert am.decode_response(first.response_body) == ir.Response(
        id="msg_012TXW181edhmR5JCsQRsBKx",
        model="claude-sonnet-4-5-20250929",
        content=[
            ir.ToolCallPart(id="toolu_01X9wcHKKAZD9tBC711xipPa", name="get_user_country", arguments="{}")
        ],
        stop_reason="tool_use",
        usage=ir.Usage(input_tokens=445, output_tokens=23),
    )
    final = am.decode_response(second.response_body)
    assert final.content == [
        ir.ToolCallPart(
            id="toolu_01LZABsgreMefH2Go8D5PQbW",
            name="final_result",
            arguments='{"city":"Mexico City","country":"Mexico"}',
        )
    ]
    assert final.usage == ir.Usage(input_tokens=497, output_tokens=56)
    call = final.content[0]
    assert isinstance(call, ir.ToolCallPart)
    assert call.input() == {"city": "Mexico City", "country": "Mexico"}


def test_parallel_tool_calls() -> None:
    answer = am.decode_response(one("test_multiple_parallel_tool_calls").response_body)
    assert answer.stop_reason == "tool_use"
    assert answer.usage == ir.Usage(input_tokens=423, output_tokens=202)
    assert answer.content[0] == ir.TextPart(
        text="I'll help you find out who is the youngest by retrieving information about each family member. "
        "I'll retrieve their entity information to compare their ages."
    )
    assert answer.content[1:] == [
        ir.ToolCallPart(
            id="toolu_0167cfEnoQaPviGdVXA95zcu", name="retrieve_entity_info", arguments='{"name":"Alice"}'
        ),
        ir.ToolCallPart(
            id="toolu_01EEe2V5HD1Ac4rKiUR4HD2T", name="retrieve_entity_info", arguments='{"name":"Bob"}'
        ),
        ir.ToolCallPart(
            id="toolu_01XFyAjstT3966qvRynZyVPo", name="retrieve_entity_info", arguments='{"name":"Charlie"}'
        ),
        ir.ToolCallPart(
            id="toolu_013mnQZbgtK2oe3Mo3XKJsx3", name="retrieve_entity_info", arguments='{"name":"Daisy"}'
        ),
    ]


def test_thinking_text_and_tool_call_in_one_answer() -> None:
    recorded = one("test_anthropic_tool_with_thinking")
    thinking = recorded.response_json["content"][0]
    answer = am.decode_response(recorded.response_body)
    assert answer == ir.Response(
        id="msg_01WvueFjZVbHcj4H4zUzeGv2",
        model="claude-sonnet-4-20250514",
        content=[
            ir.ReasoningPart(text=thinking["thinking"], signature=thinking["signature"], origin=A),
            ir.TextPart(
                text="I'll help you find the largest city in your country. "
                "First, let me determine which country you're from."
            ),
            ir.ToolCallPart(id="toolu_01YGzqpRE16Vricda3Aqcejo", name="get_user_country", arguments="{}"),
        ],
        stop_reason="tool_use",
        usage=ir.Usage(input_tokens=398, output_tokens=155),
    )
    assert thinking["signature"].startswith("EqEECkYICxgCKkAo3UA4")
    assert thinking["thinking"].endswith("Let me call the get_user_country function first.")


def test_thinking_answers() -> None:
    for it, usage in zip(
        cassette(DIR + "test_anthropic_model_thinking_part.yaml"),
        [ir.Usage(input_tokens=43, output_tokens=321), ir.Usage(input_tokens=354, output_tokens=525)],
        strict=True,
    ):
        answer = am.decode_response(it.response_body)
        thinking, text = it.response_json["content"]
        assert answer.content == [
            ir.ReasoningPart(text=thinking["thinking"], signature=thinking["signature"], origin=A),
            ir.TextPart(text=text["text"]),
        ]
        assert (answer.stop_reason, answer.usage) == ("end_turn", usage)


def test_recorded_error() -> None:
    it = one("test_anthropic_explicit_effort_xhigh_unsupported_model_errors")
    error = am.decode_error(it.status, it.response_body, {"content-type": "application/json"})
    assert type(error) is errors.UpstreamBadRequest
    assert error.upstream_status == 400
    assert error.message == (
        "Anthropic answered 400 invalid_request_error: This model does not support effort level 'xhigh'. "
        "Supported levels: high, low, max, medium."
    )
    with pytest.raises(errors.UpstreamProtocolError):
        am.decode_response(it.response_body)


# --- streams ------------------------------------------------------------------------------


def test_short_stream_events_exactly() -> None:
    usage = ir.Usage(input_tokens=20, output_tokens=5)
    assert decode_stream(one("test_request_stream_fallback_for_high_max_tokens").response_body) == [
        ir.StreamStart(
            id="msg_018E1hg8GoVTGEKQY3ovMcSJ",
            model="claude-sonnet-4-5-20250929",
            usage=ir.Usage(input_tokens=20, output_tokens=1),
        ),
        ir.PartStart(index=0, part=ir.TextPart(text="")),
        ir.TextDelta(index=0, text="2"),
        ir.PartStop(index=0),
        ir.UsageUpdate(usage=usage),
        ir.StreamEnd(stop_reason="end_turn", usage=usage),
    ]


def test_thinking_stream() -> None:
    events = decode_stream(one("test_anthropic_model_thinking_part_stream").response_body)
    assert events[:3] == [
        ir.StreamStart(
            id="msg_01ALwQ87pTS7hH1PjSdC9wJD",
            model="claude-sonnet-4-20250514",
            usage=ir.Usage(input_tokens=43, output_tokens=1),
        ),
        ir.PartStart(index=0, part=ir.ReasoningPart(origin=A)),
        ir.ReasoningDelta(index=0, text="This"),
    ]
    kinds = [type(event).__name__ for event in events]
    assert kinds.count("ReasoningDelta") == 14  # 13 thinking deltas (one empty one skipped) + signature
    assert kinds.count("TextDelta") == 95
    assert events[-3:] == [
        ir.PartStop(index=1),
        ir.UsageUpdate(usage=ir.Usage(input_tokens=43, output_tokens=282)),
        ir.StreamEnd(stop_reason="end_turn", usage=ir.Usage(input_tokens=43, output_tokens=282)),
    ]
    answer = accumulate(events)
    reasoning, text = answer.content
    assert isinstance(reasoning, ir.ReasoningPart)
    assert reasoning == ir.ReasoningPart(
        text="This is a straightforward question about pedestrian safety. I should provide clear, helpful "
        "advice about how to safely cross a street. This is basic safety information that could help "
        "prevent accidents.",
        signature=reasoning.signature,
        origin=A,
    )
    assert reasoning.signature is not None and reasoning.signature.startswith(
        "EvMCCkYICxgCKkCHP2cSuEdcJK/0rFwqES"
    )
    assert isinstance(text, ir.TextPart)
    assert text.text.startswith(
        "Here are the basic steps for safely crossing the street:\n\n**At intersections"
    )
    assert text.text.endswith("Always prioritize safety over speed when crossing streets.")


@pytest.mark.parametrize("name", STREAMS)
def test_decoded_streams_match_what_the_sdk_accumulates(name: str) -> None:
    it = one(name)
    _, final = sdk_stream(it.response_body)
    assert accumulate(decode_stream(it.response_body)) == am.decode_response(final)


@pytest.mark.parametrize("name", STREAMS)
def test_every_two_piece_split_of_every_recorded_stream(name: str) -> None:
    body = one(name).response_body
    whole = decode_stream(body)
    for cut in range(len(body) + 1):
        decoder = am.StreamDecoder()
        assert decoder.feed(body[:cut]) + decoder.feed(body[cut:]) + decoder.close() == whole, cut


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_multi_splits_of_recorded_streams(data: st.DataObject) -> None:
    body = one(data.draw(st.sampled_from(STREAMS))).response_body
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(body)), max_size=40))
    decoder = am.StreamDecoder()
    events: list[ir.StreamEvent] = []
    for start, end in itertools.pairwise([0, *sorted(cuts), len(body)]):
        events += decoder.feed(body[start:end])
    assert events + decoder.close() == decode_stream(body)
