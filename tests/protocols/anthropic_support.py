"""Helpers for the Anthropic codec tests: IR stream accumulation and the real anthropic SDK as an oracle."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anthropic
import httpx2
import orjson
from anthropic.types import Message

from modelrouter import ir
from modelrouter.protocols import anthropic_messages as am


def _delta(parts: dict[int, ir.Part], event: ir.StreamEvent) -> None:
    if isinstance(event, ir.TextDelta):
        text = parts[event.index]
        assert isinstance(text, ir.TextPart)
        text.text += event.text
    elif isinstance(event, ir.ReasoningDelta):
        reasoning = parts[event.index]
        assert isinstance(reasoning, ir.ReasoningPart)
        reasoning.text += event.text
        if event.signature is not None:
            reasoning.signature = event.signature
    elif isinstance(event, ir.ToolArgsDelta):
        call = parts[event.index]
        assert isinstance(call, ir.ToolCallPart)
        call.arguments += event.fragment


def accumulate(events: list[ir.StreamEvent]) -> ir.Response:
    """Fold an IR event stream into the Response it describes (the test's own reference fold)."""
    response = ir.Response(id="", model="")
    parts: dict[int, ir.Part] = {}
    for event in events:
        if isinstance(event, ir.StreamStart):
            response.id, response.model = event.id, event.model
            response.usage = event.usage or ir.Usage()
        elif isinstance(event, ir.PartStart):
            parts[event.index] = dataclasses.replace(event.part)
        elif isinstance(event, ir.UsageUpdate):
            response.usage = event.usage
        elif isinstance(event, ir.StreamEnd):
            response.stop_reason, response.stop_sequence = event.stop_reason, event.stop_sequence
            response.usage = event.usage or response.usage
        else:
            _delta(parts, event)
    for part in parts.values():
        if isinstance(part, ir.ToolCallPart) and not part.arguments:
            part.arguments = "{}"
    response.content = [parts[i] for i in sorted(parts)]
    return response


@contextmanager
def sdk_client(
    status: int = 200, content_type: str = "text/event-stream"
) -> Iterator[tuple[anthropic.Anthropic, list[Any]]]:
    """An anthropic client whose transport answers with the bytes put in `box[0]`; it records requests."""
    box: list[Any] = [b""]

    def answer(request: httpx2.Request) -> httpx2.Response:
        box.append(orjson.loads(request.content))
        return httpx2.Response(status, content=box[0], headers={"content-type": content_type})

    http = httpx2.Client(transport=httpx2.MockTransport(answer))
    client = anthropic.Anthropic(
        api_key="test", base_url="http://gateway.test", http_client=http, max_retries=0
    )
    try:
        yield client, box
    finally:
        client.close()


def sdk_stream(wire: bytes) -> tuple[list[str], bytes]:
    """Feed SSE bytes through the SDK's own stream machinery: its event types and final message JSON."""
    with sdk_client() as (client, box):
        box[0] = wire
        with client.messages.stream(
            model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}]
        ) as s:
            kinds: list[str] = [event.type for event in s]
            final = s.get_final_message()
    return kinds, orjson.dumps(final.model_dump(mode="json"))


def sdk_message(body: bytes) -> Message:
    """Parse a non-streamed body through the SDK client, as a real caller would receive it."""
    with sdk_client(content_type="application/json") as (client, box):
        box[0] = body
        return client.messages.create(model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}])


# --- request-building shorthands shared by the request tests ------------------------------

EPHEMERAL = {"type": "ephemeral"}
HOUR = ir.CacheControl(ttl="1h")
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
PDF = base64.b64encode(b"%PDF-1.7\n...").decode()


def body(**fields: Any) -> bytes:
    """A minimal valid `/v1/messages` body with `fields` replaced."""
    base: dict[str, Any] = {
        "model": "claude-sonnet-4.5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
    }
    return orjson.dumps(base | fields)


def user(*parts: ir.Part) -> ir.Message:
    """A user turn."""
    return ir.Message(role="user", content=list(parts))


def assistant(*parts: ir.Part) -> ir.Message:
    """An assistant turn."""
    return ir.Message(role="assistant", content=list(parts))


def encode(request: ir.Request, **options: Any) -> dict[str, Any]:
    """`encode_request` for model "claude-x", parsed back to a dict."""
    result: dict[str, Any] = orjson.loads(am.encode_request(request, model="claude-x", **options))
    return result


def req(*messages: ir.Message, **fields: Any) -> ir.Request:
    """A request with these turns (a single "hi" by default) and `max_tokens=100`."""
    return ir.Request(
        model="m", messages=list(messages) or [user(ir.TextPart(text="hi"))], max_tokens=100, **fields
    )
