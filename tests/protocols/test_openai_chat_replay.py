"""Replays every recorded OpenAI-Chat-shaped exchange (OpenAI, Azure, DeepSeek, OpenRouter)."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelrouter import errors, ir
from modelrouter.protocols import openai_chat
from tests.protocols.openai_chat_helpers import CHAT_CASSETTES, decode_all, is_stream, joined, skeleton
from tests.recorded import cassette

OPENAI = "models/cassettes/test_openai/"
DEEPSEEK = "models/cassettes/test_deepseek/"
OPENROUTER = "models/cassettes/test_openrouter/"
AZURE = "providers/cassettes/test_azure/test_azure_provider_call.yaml"


def _usage(inp: int, out: int, *, cached: int = 0, reasoning: int = 0) -> ir.Usage:
    return ir.Usage(input_tokens=inp, output_tokens=out, cache_read_tokens=cached, reasoning_tokens=reasoning)


# --- requests: what was sent equals what encode_request writes ----------------------------------


def _recorded_requests() -> list[Any]:
    params = []
    for path in CHAT_CASSETTES:
        for i in range(len(cassette(path))):
            params.append(pytest.param(path, i, id=f"{path.rsplit('/', 1)[-1]}[{i}]"))
    return params


def _normalised(body: dict[str, Any]) -> dict[str, Any]:
    """pydantic-ai sometimes omits an assistant's null `content` and sometimes sends it: same meaning."""
    body = orjson.loads(orjson.dumps(body))
    for message in body["messages"]:
        if message["role"] == "assistant":
            message.setdefault("content", None)
    return body


@pytest.mark.parametrize(("path", "i"), _recorded_requests())
def test_recorded_request_decodes_and_encodes_back_field_by_field(path: str, i: int) -> None:
    sent = cassette(path)[i].request_json
    request = openai_chat.decode_request(orjson.dumps(sent))
    assert request.source_protocol == "openai_chat"
    body = orjson.loads(openai_chat.encode_request(request, model=sent["model"]))
    expected = {k: v for k, v in sent.items() if k not in openai_chat.ROUTING_FIELDS}
    assert _normalised(body) == _normalised(expected)


def test_routing_fields_stay_in_extra_and_are_not_forwarded() -> None:
    sent = cassette(OPENROUTER + "test_openrouter_with_native_options.yaml")[0].request_json
    request = openai_chat.decode_request(orjson.dumps(sent))
    assert request.extra == {
        "models": ["x-ai/grok-4"],
        "provider": {"only": ["xai"]},
        "transforms": ["middle-out"],
    }
    body = orjson.loads(openai_chat.encode_request(request, model="x-ai/grok-4"))
    assert body == {
        "model": "x-ai/grok-4",
        "messages": [{"role": "user", "content": "Who are you"}],
        "transforms": ["middle-out"],
        "stream": False,
    }


TOOLS = [
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
            "type": "object",
        },
    ),
]


def test_hand_built_tool_conversation_encodes_to_the_recorded_openai_body() -> None:
    request = ir.Request(
        model="ignored",
        messages=[
            ir.Message(
                role="user", content=[ir.TextPart(text="What is the largest city in the user country?")]
            ),
            ir.Message(
                role="assistant",
                content=[
                    ir.ToolCallPart(
                        id="call_iXFttys57ap0o16JSlC8yhYo", name="get_user_country", arguments="{}"
                    )
                ],
            ),
            ir.Message(
                role="user",
                content=[
                    ir.ToolResultPart(
                        tool_call_id="call_iXFttys57ap0o16JSlC8yhYo", content=[ir.TextPart(text="Mexico")]
                    )
                ],
            ),
        ],
        tools=TOOLS,
        tool_choice=ir.ToolChoice(mode="required"),
        extra={"n": 1},
        source_protocol="openai_chat",
    )
    sent = cassette(OPENAI + "test_openai_tool_output.yaml")[1].request_json
    body = orjson.loads(openai_chat.encode_request(request, model="gpt-4o"))
    assert _normalised(body) == _normalised(sent)


def _deepseek_conversation() -> list[ir.Message]:
    load = ir.ToolCallPart(
        id="call_00_sXqYgMESDht75NCLLZtt9804", name="load_capability", arguments='{"id": "DICE_ROLL"}'
    )
    search = ir.ToolCallPart(
        id="auto_load_eb5fc31bb581b4e7", name="search_tools", arguments='{"queries":["DICE_ROLL"]}'
    )
    name = ir.ToolCallPart(id="call_00_6edlnw3Z1MgeMfey687g8451", name="get_player_name", arguments="{}")
    roll = ir.ToolCallPart(id="call_01_km02sac7sHxNDPATKLZy7705", name="roll_dice", arguments="{}")
    first = (
        "The user wants to play a dice game. I need to roll a die and compare it to the user's guess of 4. "
        "But the DICE_ROLL capability is deferred - I need to load it first using the `load_capability` tool."
        "\n\nLet me load the capability first."
    )
    second = (
        "Great, now I have access to the dice roll tool. "
        "Let me first get the player's name and then roll the die."
    )
    discovered = (
        '{"discovered_tools":[{"name":"get_player_name","description":"Get the player\'s name."},'
        '{"name":"roll_dice","description":"Roll a six-sided die and return the result."}]}'
    )

    def result(call: ir.ToolCallPart, text: str) -> ir.ToolResultPart:
        return ir.ToolResultPart(tool_call_id=call.id, content=[ir.TextPart(text=text)], name=call.name)

    return [
        ir.Message(role="user", content=[ir.TextPart(text="My guess is 4")]),
        ir.Message(
            role="assistant",
            content=[
                ir.ReasoningPart(text=first, origin="deepseek"),
                ir.TextPart(text="Let me load the dice rolling capability!"),
                load,
            ],
        ),
        ir.Message(role="user", content=[result(load, "{}")]),
        ir.Message(role="assistant", content=[search]),  # no reasoning: the encoder adds reasoning_content ""
        ir.Message(role="user", content=[result(search, discovered)]),
        ir.Message(
            role="assistant",
            content=[
                ir.ReasoningPart(text=second, origin="deepseek"),
                ir.TextPart(text="Let me get your name and roll the die!"),
                name,
                roll,
            ],
        ),
        ir.Message(role="user", content=[result(name, "Anne"), result(roll, "4")]),
    ]


def test_hand_built_deepseek_tool_loop_encodes_to_the_recorded_body() -> None:
    sent = cassette(DEEPSEEK + "test_deepseek_deferred_capability_with_thinking.yaml")[2].request_json
    decoded = openai_chat.decode_request(orjson.dumps(sent))
    request = ir.Request(
        model="deepseek-reasoner",
        system=decoded.system,
        messages=_deepseek_conversation(),
        tools=decoded.tools,
        tool_choice=ir.ToolChoice(mode="auto"),
    )
    assert [p.text for p in decoded.system][1].startswith("The following capabilities are deferred")
    assert len(decoded.system) == 2
    body = orjson.loads(openai_chat.encode_request(request, model="deepseek-reasoner"))
    assert body == sent
    # and the recorded body decodes to the same turns (the empty reasoning_content is kept as a part)
    assert decoded.messages[3].content[0] == ir.ReasoningPart(text="", origin="deepseek")
    assert decoded.messages[:3] == request.messages[:3]
    assert decoded.messages[4:] == request.messages[4:]


# --- non-streamed answers --------------------------------------------------------------------


def test_openai_plain_answer() -> None:
    [exchange] = cassette(OPENAI + "test_openai_instructions.yaml")
    assert openai_chat.decode_response(exchange.response_body) == ir.Response(
        id="chatcmpl-BJjf61mLb9z5H45ClJzbx0UWKwjo1",
        model="gpt-4o-2024-08-06",
        content=[ir.TextPart(text="The capital of France is Paris.")],
        stop_reason="end_turn",
        usage=_usage(24, 8),
        created=1744043456,
        extra={"system_fingerprint": "fp_898ac29719", "service_tier": "default"},
    )


def test_openai_tool_call_answers() -> None:
    first, second = cassette(OPENAI + "test_openai_tool_output.yaml")
    one = openai_chat.decode_response(first.response_body)
    assert one.content == [
        ir.ToolCallPart(id="call_iXFttys57ap0o16JSlC8yhYo", name="get_user_country", arguments="{}")
    ]
    assert (one.stop_reason, one.usage) == ("tool_use", _usage(68, 12))
    two = openai_chat.decode_response(second.response_body)
    assert two.content == [
        ir.ToolCallPart(
            id="call_gmD2oUZUzSoCkmNmp3JPUF7R",
            name="final_result",
            arguments='{"city": "Mexico City", "country": "Mexico"}',
        )
    ]
    assert (two.stop_reason, two.usage, two.id) == (
        "tool_use",
        _usage(89, 36),
        "chatcmpl-BSXk1xGHYzbhXgUkSutK08bdoNv5s",
    )


def test_azure_answer_ignores_content_filter_annotations() -> None:
    [exchange] = cassette(AZURE)
    assert openai_chat.decode_response(exchange.response_body) == ir.Response(
        id="chatcmpl-BAeyRj7gU6aCNSSAskAFbupBWYMIT",
        model="gpt-4o-2024-11-20",
        content=[ir.TextPart(text="The capital of France is **Paris**.")],
        stop_reason="end_turn",
        usage=_usage(14, 9),
        created=1741880483,
        extra={"system_fingerprint": "fp_ded0d14823"},
    )


def test_deepseek_reasoning_content_answer() -> None:
    [exchange] = cassette(DEEPSEEK + "test_deepseek_model_thinking_part.yaml")
    response = openai_chat.decode_response(exchange.response_body)
    message = exchange.response_json["choices"][0]["message"]
    reasoning, text = response.content
    assert reasoning == ir.ReasoningPart(text=message["reasoning_content"], origin="deepseek")
    assert reasoning.text.startswith("Okay, the user is asking how to cross the street.")
    assert text == ir.TextPart(text=message["content"])
    assert text.text.endswith("stay alert until you've fully crossed.")
    assert response.usage == _usage(12, 789, reasoning=415)
    assert (response.stop_reason, response.model) == ("end_turn", "deepseek-reasoner")


def test_deepseek_tool_loop_answers() -> None:
    answers = [
        openai_chat.decode_response(e.response_body)
        for e in cassette(DEEPSEEK + "test_deepseek_deferred_capability_with_thinking.yaml")
    ]
    expected = _deepseek_conversation()
    assert answers[0].content == expected[1].content
    assert answers[1].content == expected[5].content
    assert answers[2].content == [
        ir.ReasoningPart(
            text="The player's name is Anne, and the die rolled a 4. The user guessed 4, so they win!",
            origin="deepseek",
        ),
        ir.TextPart(
            text="\U0001f389 **Congratulations, Anne!** You're a winner! \U0001f389\n\n"
            "The die rolled exactly **4** -- matching your guess perfectly! Lucky you! \U0001f3b2"
        ),
    ]
    assert [a.stop_reason for a in answers] == ["tool_use", "tool_use", "end_turn"]
    assert [a.usage for a in answers] == [
        _usage(563, 116, cached=512, reasoning=60),
        _usage(875, 79, reasoning=26),
        _usage(976, 61, cached=896, reasoning=25),
    ]


def test_openrouter_answers() -> None:
    [tool] = cassette(OPENROUTER + "test_openrouter_tool_calling.yaml")
    answer = openai_chat.decode_response(tool.response_body)
    assert answer.content == [
        ir.ToolCallPart(
            id="3sniiMddS",
            name="divide",
            arguments='{"numerator": 123, "denominator": 456, "on_inf": "infinity"}',
        )
    ]
    assert (answer.stop_reason, answer.usage, answer.extra) == ("tool_use", _usage(134, 43), {})
    [native] = cassette(OPENROUTER + "test_openrouter_with_native_options.yaml")
    answer = openai_chat.decode_response(native.response_body)
    assert answer.model == "x-ai/grok-4"
    assert answer.content == [ir.TextPart(text=native.response_json["choices"][0]["message"]["content"])]
    assert answer.usage == _usage(687, 240, cached=682, reasoning=165)


# --- streams ---------------------------------------------------------------------------------


def test_openai_tool_call_stream() -> None:
    first, _ = cassette(OPENAI + "test_run_stream_sync_streams_real_model.yaml")
    assert decode_all(first.response_body) == [
        ir.StreamStart(
            id="chatcmpl-Dx0XpqH8w09uBXwq1zFGYdETjtnEl", model="gpt-4o-mini-2024-07-18", created=1782955817
        ),
        ir.PartStart(
            index=0,
            part=ir.ToolCallPart(id="call_ZR5UUuTt3pf61kjwAJIYdVMj", name="get_capital", arguments=""),
        ),
        ir.ToolArgsDelta(index=0, fragment='{"'),
        ir.ToolArgsDelta(index=0, fragment="country"),
        ir.ToolArgsDelta(index=0, fragment='":"'),
        ir.ToolArgsDelta(index=0, fragment="UK"),
        ir.ToolArgsDelta(index=0, fragment='"}'),
        ir.PartStop(index=0),
        ir.UsageUpdate(usage=_usage(53, 15)),
        ir.StreamEnd(stop_reason="tool_use", usage=_usage(53, 15)),
    ]


def test_openai_text_stream() -> None:
    _, second = cassette(OPENAI + "test_run_stream_sync_streams_real_model.yaml")
    words = ["The", " capital", " of", " the", " UK", " is", " London", "."]
    assert decode_all(second.response_body) == [
        ir.StreamStart(
            id="chatcmpl-Dx0Xq5Xx9rHB2ehcHZCRDsnuymUXc", model="gpt-4o-mini-2024-07-18", created=1782955818
        ),
        ir.PartStart(index=0, part=ir.TextPart(text="")),
        *[ir.TextDelta(index=0, text=w) for w in words],
        ir.PartStop(index=0),
        ir.UsageUpdate(usage=_usage(78, 9)),
        ir.StreamEnd(stop_reason="end_turn", usage=_usage(78, 9)),
    ]


def test_openai_stream_with_moderation_chunk_after_usage() -> None:
    [exchange] = cassette(OPENAI + "test_openai_moderation_stream.yaml")
    assert decode_all(exchange.response_body) == [
        ir.StreamStart(
            id="chatcmpl-E4Rjs6IxaJVge9Ntk5keJsaeDy6vS", model="gpt-5-2025-08-07", created=1784728648
        ),
        ir.PartStart(index=0, part=ir.TextPart(text="")),
        ir.TextDelta(index=0, text="Paris"),
        ir.TextDelta(index=0, text="."),
        ir.PartStop(index=0),
        ir.UsageUpdate(usage=_usage(13, 11)),
        ir.StreamEnd(stop_reason="end_turn", usage=_usage(13, 11)),
    ]


def test_deepseek_reasoning_stream() -> None:
    [exchange] = cassette(DEEPSEEK + "test_deepseek_model_thinking_stream.yaml")
    events = decode_all(exchange.response_body)
    usage = _usage(6, 212, reasoning=198)
    assert skeleton(events) == [
        ir.StreamStart(
            id="33be18fc-3842-486c-8c29-dd8e578f7f20", model="deepseek-reasoner", created=1752169304
        ),
        ir.PartStart(index=0, part=ir.ReasoningPart(origin="deepseek")),
        ir.PartStop(index=0),
        ir.PartStart(index=1, part=ir.TextPart(text="")),
        ir.PartStop(index=1),
        ir.UsageUpdate(usage=usage),
        ir.StreamEnd(stop_reason="end_turn", usage=usage),
    ]
    text = joined(events)
    assert text[0].startswith('Hmm, the user just said "Hello". It\'s a simple greeting')
    assert text[0].endswith("they might not reply further - and that's okay too.")
    assert len(text[0]) == 882
    assert text[1] == "Hello there! \U0001f60a How can I help you today?"
    assert sum(isinstance(e, ir.ReasoningDelta) for e in events) == 198
    assert sum(isinstance(e, ir.TextDelta) for e in events) == 11


def test_openrouter_reasoning_details_stream_with_signature() -> None:
    [exchange] = cassette(OPENROUTER + "test_openrouter_streaming_reasoning.yaml")
    events = decode_all(exchange.response_body)
    signature = events[5].signature if isinstance(events[5], ir.ReasoningDelta) else None
    assert signature is not None
    assert (len(signature), signature[:20], signature[-8:]) == (304, "Et0BCkgIChACGAIqQA2s", "vIcYAQ==")
    usage = _usage(43, 36, reasoning=13)
    assert events == [
        ir.StreamStart(
            id="gen-1765226419-AGrwjunAftQIAgweibL8", model="anthropic/claude-sonnet-4.5", created=1765226419
        ),
        ir.PartStart(index=0, part=ir.ReasoningPart(origin="anthropic")),
        ir.ReasoningDelta(index=0, text="This"),
        ir.ReasoningDelta(index=0, text=" is a simple arithmetic question. "),
        ir.ReasoningDelta(index=0, text="2+2 equals 4."),
        ir.ReasoningDelta(index=0, text="", signature=signature),
        ir.PartStop(index=0),
        ir.PartStart(index=1, part=ir.TextPart(text="")),
        ir.TextDelta(index=1, text="2 "),
        ir.TextDelta(index=1, text="+ 2 = 4"),
        ir.PartStop(index=1),
        ir.UsageUpdate(usage=usage),
        ir.StreamEnd(stop_reason="end_turn", usage=usage),
    ]


# --- every recorded stream, split anywhere ------------------------------------------------------


def _streams() -> list[Any]:
    params = []
    for path in CHAT_CASSETTES:
        for i, exchange in enumerate(cassette(path)):
            if is_stream(exchange):
                params.append(pytest.param(path, i, id=f"{path.rsplit('/', 1)[-1]}[{i}]"))
    return params


def _state(decoder: openai_chat.StreamDecoder) -> Any:
    """Everything a decoder (and its SSE parser) remembers, as comparable values."""
    state: Any = decoder.__getstate__()
    slots: dict[str, Any] = state[1]
    parser: Any = slots["_sse"].__getstate__()
    return {**slots, "_sse": parser[1]}


@pytest.mark.parametrize(("path", "i"), _streams())
def test_every_two_piece_split_gives_the_same_events(path: str, i: int) -> None:
    """Split at every byte: identical events, and identical decoder state at the next event boundary.

    Re-decoding a 78 kB stream once per byte takes minutes, so each cut restarts from a copy of
    the decoder taken at the SSE event boundary before the cut, feeds the two pieces up to the
    next boundary, and compares the events and the whole internal state with the unsplit run.
    The decoder is deterministic, so equal state there means equal events for the rest.
    """
    body = cassette(path)[i].response_body
    whole = decode_all(body)
    assert isinstance(whole[-1], ir.StreamEnd)
    bounds = [0, *(k + 2 for k in range(len(body)) if body.startswith(b"\n\n", k)), len(body)]
    bounds = sorted(set(bounds))
    reference = openai_chat.StreamDecoder()
    events: list[ir.StreamEvent] = []
    for start, end in itertools.pairwise(bounds):
        before = copy.deepcopy(reference)
        window = reference.feed(body[start:end])
        events.extend(window)
        after = _state(reference)
        for cut in range(start + 1, end):
            split = copy.deepcopy(before)
            assert split.feed(body[start:cut]) + split.feed(body[cut:end]) == window, f"split at byte {cut}"
            assert _state(split) == after, f"split at byte {cut}"
    assert events + reference.close() == whole


@pytest.mark.parametrize(
    "path", [p for p in CHAT_CASSETTES if p.endswith(("moderation_stream.yaml", "streaming_reasoning.yaml"))]
)
def test_every_two_piece_split_by_brute_force(path: str) -> None:
    """The plain form of the check above, on the short streams, to keep the shortcut honest."""
    body = cassette(path)[0].response_body
    whole = decode_all(body)
    for cut in range(1, len(body)):
        assert decode_all(body, [cut]) == whole, f"split at byte {cut}"


@pytest.mark.parametrize(("path", "i"), _streams())
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_multi_splits_give_the_same_events(path: str, i: int, data: st.DataObject) -> None:
    body = cassette(path)[i].response_body
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(body) - 1), max_size=40))))
    assert decode_all(body, cuts) == decode_all(body)


@pytest.mark.parametrize(("path", "i"), _streams())
def test_a_stream_cut_before_done_is_truncated(path: str, i: int) -> None:
    body = cassette(path)[i].response_body
    cut = body.rindex(b"data: [DONE]")
    events = decode_all(body[:cut])
    assert events[-1] == ir.StreamError(
        kind="stream_truncated", message="the provider's stream ended before `data: [DONE]`"
    )
    assert not any(isinstance(e, ir.StreamEnd) for e in events)
    assert events[:-1] == decode_all(body)[:-1]  # everything else came through as it arrived


# --- recorded errors ---------------------------------------------------------------------------


def test_openai_400_is_an_upstream_bad_request() -> None:
    [exchange] = cassette(OPENAI + "test_openai_web_search_tool_model_not_supported.yaml")
    error = openai_chat.decode_error(exchange.status, exchange.response_body, {})
    assert type(error) is errors.UpstreamBadRequest
    assert error.message == "the provider answered 400: Web search options not supported with this model."
    assert (error.upstream_status, error.fallback, error.retryable) == (400, False, False)


def test_openrouter_429_carries_the_upstream_words() -> None:
    exchange = cassette(OPENROUTER + "test_openrouter_errors_raised.yaml")[0]
    error = openai_chat.decode_error(exchange.status, exchange.response_body, {"Retry-After": "7"})
    assert type(error) is errors.UpstreamRateLimited
    assert error.message.startswith(
        "the provider answered 429: Provider returned error: "
        "google/gemini-2.0-flash-exp:free is temporarily rate-limited"
    )
    assert (error.retry_after, error.retryable) == (7.0, True)
