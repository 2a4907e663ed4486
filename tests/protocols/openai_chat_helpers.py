"""Shared helpers for the OpenAI Chat codec tests: cassette lists, event views, the real SDK on fake bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import openai
import orjson

from modelrouter import ir
from modelrouter.protocols import openai_chat
from tests.recorded import Interaction, cassette_paths

CHAT_CASSETTES = [
    *cassette_paths("models/cassettes/test_openai/*.yaml"),
    *cassette_paths("providers/cassettes/test_azure/test_azure_provider_call.yaml"),
    *cassette_paths("models/cassettes/test_deepseek/*.yaml"),
    *cassette_paths("models/cassettes/test_openrouter/*.yaml"),
]
"""Every recorded exchange that speaks OpenAI Chat Completions (empty without ../shared)."""


def is_stream(interaction: Interaction) -> bool:
    """Whether the recorded answer is an SSE stream."""
    return interaction.status == 200 and interaction.response_json is None


def decode_all(body: bytes, pieces: list[int] | None = None) -> list[ir.StreamEvent]:
    """Run a fresh decoder over `body`, split at the given offsets, then close it."""
    decoder = openai_chat.StreamDecoder()
    events: list[ir.StreamEvent] = []
    start = 0
    for cut in [*(pieces or []), len(body)]:
        events.extend(decoder.feed(body[start:cut]))
        start = cut
    events.extend(decoder.close())
    return events


def joined(events: list[ir.StreamEvent]) -> dict[int, str]:
    """Per part index, the text, reasoning text or argument fragments joined."""
    out: dict[int, str] = {}
    for event in events:
        if isinstance(event, ir.TextDelta | ir.ReasoningDelta):
            out[event.index] = out.get(event.index, "") + event.text
        elif isinstance(event, ir.ToolArgsDelta):
            out[event.index] = out.get(event.index, "") + event.fragment
    return out


def skeleton(events: list[ir.StreamEvent]) -> list[ir.StreamEvent]:
    """The events without deltas: starts, stops, usage and the end."""
    return [e for e in events if not isinstance(e, ir.TextDelta | ir.ReasoningDelta | ir.ToolArgsDelta)]


def sdk_client(answer: Callable[[httpx2.Request], httpx2.Response]) -> openai.OpenAI:
    """The official OpenAI client, strict validation on, talking to `answer` instead of a network."""
    return openai.OpenAI(
        api_key="test-key",
        base_url="http://gateway.invalid/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(answer)),
        max_retries=0,
        _strict_response_validation=True,
    )


def sse_answer(body: bytes) -> Callable[[httpx2.Request], httpx2.Response]:
    """A transport handler that answers every request with these SSE bytes."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return answer


def json_answer(body: bytes, status: int = 200) -> Callable[[httpx2.Request], httpx2.Response]:
    """A transport handler that answers every request with this JSON body."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, headers={"content-type": "application/json"}, content=body)

    return answer


USER_HI: Any = [{"role": "user", "content": "hi"}]


def request_body(**fields: Any) -> bytes:
    """A minimal client request with `fields` added or replaced."""
    return orjson.dumps({"model": "gpt-test", "messages": USER_HI, **fields})
