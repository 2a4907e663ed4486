"""Every recorded answer, from every provider protocol, re-encoded for both client doors.

Each recorded 200 answer (JSON or stream) is decoded by its provider's codec, then encoded
for an OpenAI client and for an Anthropic client, answers and streams both, and read back
by the official SDKs. What the caller sees must carry the same text, tool calls, reasoning
text and usage as the IR the provider's bytes decoded to: this is the translation a client
of the gateway gets, proven on real traffic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from modelrouter import ir
from modelrouter.protocols import anthropic_messages, codec, openai_chat
from tests.protocols import openai_chat_helpers as oh
from tests.protocols.anthropic_support import accumulate, sdk_message, sdk_stream
from tests.recorded import MISSING_REASON, RECORDED, Interaction, cassette, cassette_paths

SPOKEN = {
    "models/cassettes/test_openai/": "openai_chat",
    "providers/cassettes/test_azure/": "openai_chat",
    "models/cassettes/test_deepseek/": "openai_chat",
    "models/cassettes/test_openrouter/": "openai_chat",
    "models/cassettes/test_anthropic/": "anthropic_messages",
    "models/cassettes/test_google/": "gemini",
    "models/cassettes/test_bedrock/": "bedrock_converse",
}
"""Recorded folders and the codec of the protocol they speak."""

NOT_SPOKEN = {
    "models/cassettes/test_openai_responses/": "OpenAI's Responses API is not a protocol modelrouter "
    "speaks upstream (it reaches OpenAI and Azure by Chat Completions)",
    "models/cassettes/test_xai/": "recorded from xAI's gRPC SDK, not HTTP; modelrouter reaches xAI "
    "by its OpenAI-compatible REST API",
}
"""Recorded folders outside the four upstream protocols, each with why."""


def _protocol(path: str) -> str:
    return next(protocol for folder, protocol in SPOKEN.items() if path.startswith(folder))


def _answers() -> list[Any]:
    cases = []
    for folder in SPOKEN:
        for path in cassette_paths(folder + "*.yaml"):
            for index, interaction in enumerate(cassette(path)):
                if interaction.status == 200:
                    cases.append(pytest.param(path, index, id=f"{path.rsplit('/', 1)[-1]}#{index}"))
    return cases or [pytest.param(None, 0, marks=pytest.mark.skip(reason=MISSING_REASON))]


def test_every_recorded_file_is_replayed_or_out_of_scope_with_a_reason() -> None:
    if not RECORDED.is_dir():
        pytest.skip(MISSING_REASON)
    files = [str(p.relative_to(RECORDED)) for p in RECORDED.rglob("*.yaml")]
    assert len(files) == 40
    unclaimed = [f for f in files if not any(f.startswith(d) for d in [*SPOKEN, *NOT_SPOKEN])]
    assert unclaimed == []


def _is_stream(interaction: Interaction) -> bool:
    return interaction.response_json is None


def _decoded(protocol: str, interaction: Interaction) -> tuple[ir.Response, list[ir.StreamEvent] | None]:
    module = codec(protocol)
    if not _is_stream(interaction):
        return module.decode_response(interaction.response_body), None
    decoder = module.StreamDecoder()
    events: list[ir.StreamEvent] = decoder.feed(interaction.response_body) + decoder.close()
    assert not [e for e in events if isinstance(e, ir.StreamError)]
    return accumulate(events), events


@dataclass(frozen=True)
class Seen:
    """What a client gets out of an answer, in terms every protocol shares."""

    text: str
    tool_calls: list[tuple[str, Any]]
    reasoning: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int


def _ir_view(response: ir.Response) -> Seen:
    parts = response.content
    return Seen(
        text="".join(p.text for p in parts if isinstance(p, ir.TextPart)),
        tool_calls=[(p.name, p.input()) for p in parts if isinstance(p, ir.ToolCallPart)],
        reasoning="".join(p.text for p in parts if isinstance(p, ir.ReasoningPart)),
        input_tokens=response.usage.input_tokens,
        output_tokens=response.usage.output_tokens,
        cache_read_tokens=response.usage.cache_read_tokens,
    )


def _openai_view(message: Any, usage: Any) -> Seen:
    extra = message.model_extra or {}
    calls = [(c.function.name, json.loads(c.function.arguments or "{}")) for c in message.tool_calls or []]
    details = usage.prompt_tokens_details
    return Seen(
        text=message.content or "",
        tool_calls=calls,
        reasoning=extra.get("reasoning_content") or "",
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        cache_read_tokens=(details.cached_tokens or 0) if details else 0,
    )


def _anthropic_view(message: Any) -> Seen:
    usage = message.usage
    cache_read = usage.cache_read_input_tokens or 0
    return Seen(
        text="".join(b.text for b in message.content if b.type == "text"),
        tool_calls=[(b.name, b.input) for b in message.content if b.type == "tool_use"],
        reasoning="".join(b.thinking for b in message.content if b.type == "thinking"),
        input_tokens=usage.input_tokens + cache_read + (usage.cache_creation_input_tokens or 0),
        output_tokens=usage.output_tokens,
        cache_read_tokens=cache_read,
    )


def _openai_stream_view(wire: bytes) -> Seen:
    """Read an SSE stream with the openai SDK and fold its chunks as a client would."""
    client = oh.sdk_client(oh.sse_answer(wire))
    text, reasoning = "", ""
    calls: dict[int, list[str]] = {}
    usage = None
    for chunk in client.chat.completions.create(model="m", messages=oh.USER_HI, stream=True):
        usage = chunk.usage or usage
        for choice in chunk.choices:
            delta = choice.delta
            text += delta.content or ""
            reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
            for call in delta.tool_calls or []:
                slot = calls.setdefault(call.index, ["", ""])
                if call.function and call.function.name:
                    slot[0] = call.function.name
                slot[1] += (call.function.arguments or "") if call.function else ""
    assert usage is not None, "the usage chunk was asked for (include_usage) and must come"
    details = usage.prompt_tokens_details
    return Seen(
        text=text,
        tool_calls=[(name, json.loads(args or "{}")) for name, args in (calls[i] for i in sorted(calls))],
        reasoning=reasoning,
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        cache_read_tokens=(details.cached_tokens or 0) if details else 0,
    )


@pytest.mark.parametrize(("path", "index"), _answers())
def test_recorded_answer_reaches_an_openai_client_intact(path: str, index: int) -> None:
    interaction = cassette(path)[index]
    response, events = _decoded(_protocol(path), interaction)
    expected = _ir_view(response)
    assert expected.text or expected.tool_calls, "a recorded answer says something"
    body = openai_chat.encode_response(response, provider="recorded")
    completion = oh.sdk_client(oh.json_answer(body)).chat.completions.create(model="m", messages=oh.USER_HI)
    assert completion.usage is not None
    assert _openai_view(completion.choices[0].message, completion.usage) == expected
    if events is not None:
        encoder = openai_chat.StreamEncoder(include_usage=True, model=response.model, created=1)
        wire = b"".join(encoder.encode(e) for e in events)
        assert _openai_stream_view(wire) == expected


@pytest.mark.parametrize(("path", "index"), _answers())
def test_recorded_answer_reaches_an_anthropic_client_intact(path: str, index: int) -> None:
    interaction = cassette(path)[index]
    response, events = _decoded(_protocol(path), interaction)
    expected = _ir_view(response)
    assert _anthropic_view(sdk_message(anthropic_messages.encode_response(response))) == expected
    if events is not None:
        encoder = anthropic_messages.StreamEncoder(model=response.model)
        wire = b"".join(encoder.encode(e) for e in events)
        kinds, final = sdk_stream(wire)
        assert kinds[-1] == "message_stop"
        from anthropic.types import Message

        assert _anthropic_view(Message.model_validate_json(final)) == expected
