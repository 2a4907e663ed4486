"""Non-streamed answers: Anthropic `Message` JSON -> IR (provider side) and IR -> `Message` (client side)."""

from __future__ import annotations

from typing import Any

import orjson

from modelrouter import ir
from modelrouter.errors import UpstreamProtocolError
from modelrouter.protocols.anthropic_messages._wire import (
    ORIGIN,
    STOP_FROM_IR,
    client_block,
    stop_to_ir,
    usage_from_ir,
    usage_to_ir,
)

__all__ = ["decode_response", "encode_response"]


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _block_to_part(block: dict[str, Any]) -> ir.TextPart | ir.ReasoningPart | ir.ToolCallPart | None:
    """One response content block -> its IR part; None for blocks the IR cannot hold (server tools)."""
    kind = block.get("type")
    if kind == "text":
        return ir.TextPart(text=_str(block["text"]))
    if kind == "thinking":
        return ir.ReasoningPart(
            text=_str(block.get("thinking", "")), signature=block.get("signature") or None, origin=ORIGIN
        )
    if kind == "redacted_thinking":
        return ir.ReasoningPart(redacted=_str(block["data"]), origin=ORIGIN)
    if kind == "tool_use":
        arguments = block.get("input")
        return ir.ToolCallPart(
            id=_str(block["id"]),
            name=_str(block["name"]),
            arguments=orjson.dumps(arguments).decode() if arguments else "{}",
        )
    return None


def decode_response(body: bytes) -> ir.Response:
    """Decode Anthropic's non-streamed answer; a body that is not a `Message` is `UpstreamProtocolError`."""
    try:
        data = orjson.loads(body)
        if not isinstance(data, dict) or data.get("type") == "error":
            raise TypeError("not a message object")
        parts = [_block_to_part(block) for block in data["content"]]
        extra: dict[str, Any] = {}
        if data.get("stop_details") is not None:
            extra["stop_details"] = data["stop_details"]
        return ir.Response(
            id=_str(data["id"]),
            model=_str(data["model"]),
            content=[part for part in parts if part is not None],
            stop_reason=stop_to_ir(data.get("stop_reason")),
            stop_sequence=data.get("stop_sequence"),
            usage=usage_to_ir(data.get("usage") or {}),
            extra=extra,
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise UpstreamProtocolError(f"Anthropic answered something that is not a Message: {exc}") from exc


def _tool_input(part: ir.ToolCallPart) -> dict[str, Any]:
    """The arguments of a call as the JSON object Anthropic's `tool_use.input` must be."""
    try:
        value = part.input()
    except orjson.JSONDecodeError as exc:
        raise UpstreamProtocolError(
            f"the model's tool call {part.id} has arguments that are not JSON"
        ) from exc
    if not isinstance(value, dict):
        raise UpstreamProtocolError(
            f"the model's tool call {part.id} has arguments that are not a JSON object"
        )
    return value


def _client_block(part: ir.Part) -> dict[str, Any] | None:
    if isinstance(part, ir.TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ir.ReasoningPart):
        return client_block(part)
    if isinstance(part, ir.ToolCallPart):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": _tool_input(part)}
    return None  # user-side parts never belong in an answer


def encode_response(response: ir.Response) -> bytes:
    """Encode an answer as the Anthropic `Message` a client SDK parses."""
    blocks = [block for block in map(_client_block, response.content) if block is not None]
    message: dict[str, Any] = {
        "id": response.id,
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": blocks,
        "stop_reason": STOP_FROM_IR[response.stop_reason],
        "stop_sequence": response.stop_sequence,
        "usage": usage_from_ir(response.usage),
    }
    stop_details = response.extra.get("stop_details")
    if stop_details is not None:
        message["stop_details"] = stop_details
    return orjson.dumps(message)
