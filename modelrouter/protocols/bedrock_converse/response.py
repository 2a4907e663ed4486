"""Provider side: a Converse answer -> an IR response."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from modelrouter import errors, ir
from modelrouter.protocols.bedrock_converse._wire import ORIGIN, stop_to_ir, usage_to_ir

__all__ = ["block_to_part", "decode_response", "new_id"]


def new_id() -> str:
    """An answer id (Converse answers carry none; clients expect one)."""
    return f"msg_bdrk_{uuid.uuid4().hex[:24]}"


def block_to_part(block: dict[str, Any]) -> ir.Part | None:
    """One Converse content block as an IR part; None for kinds the IR cannot hold."""
    if "text" in block:
        return ir.TextPart(text=str(block["text"]))
    if "toolUse" in block:
        use = block["toolUse"]
        arguments = orjson.dumps(use.get("input") if use.get("input") is not None else {}).decode()
        return ir.ToolCallPart(id=str(use["toolUseId"]), name=str(use["name"]), arguments=arguments)
    reasoning = block.get("reasoningContent")
    if isinstance(reasoning, dict):
        if "redactedContent" in reasoning:
            return ir.ReasoningPart(redacted=str(reasoning["redactedContent"]), origin=ORIGIN)
        text = reasoning.get("reasoningText") or {}
        return ir.ReasoningPart(
            text=str(text.get("text") or ""), signature=text.get("signature"), origin=ORIGIN
        )
    return None


def decode_response(body: bytes, *, response_id: str | None = None) -> ir.Response:
    """Decode a non-streamed Converse answer; anything else is `UpstreamProtocolError`."""
    try:
        data = orjson.loads(body)
        message = data["output"]["message"]
        parts = [block_to_part(block) for block in message.get("content") or []]
        usage = usage_to_ir(data.get("usage"))
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        raise errors.UpstreamProtocolError(f"Bedrock answer does not parse: {exc!r}") from exc
    extra: dict[str, Any] = {}
    if data.get("additionalModelResponseFields"):
        extra["additional_model_response_fields"] = data["additionalModelResponseFields"]
    return ir.Response(
        id=response_id or new_id(),
        model="",
        content=[p for p in parts if p is not None],
        stop_reason=stop_to_ir(data.get("stopReason")),
        usage=usage,
        extra=extra,
    )
