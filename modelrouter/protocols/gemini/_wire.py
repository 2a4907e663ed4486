"""Gemini wire vocabulary shared by the request, response and stream modules."""

from __future__ import annotations

import hashlib
from typing import Any, Final

from modelrouter import ir

PROTOCOL: Final = "gemini"
ORIGIN: Final = "gemini"
"""The `ReasoningPart.origin` of Gemini thought signatures."""

FINISH_REASONS: Final[dict[str, ir.StopReason]] = {
    "STOP": "end_turn",
    "MAX_TOKENS": "max_tokens",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "MODEL_ARMOR": "content_filter",
    "LANGUAGE": "other",
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "TOO_MANY_TOOL_CALLS": "error",
    "MISSING_THOUGHT_SIGNATURE": "error",
    "MALFORMED_RESPONSE": "error",
}


def stop_to_ir(finish: str | None, called_tools: bool) -> ir.StopReason:
    """Gemini's finishReason as an IR stop reason; a normal stop after function calls is `tool_use`."""
    if finish in (None, "STOP", "FINISH_REASON_UNSPECIFIED"):
        return "tool_use" if called_tools else "end_turn"
    return FINISH_REASONS.get(str(finish), "other")


def usage_to_ir(metadata: dict[str, Any] | None) -> ir.Usage:
    """`usageMetadata` as IR usage: input includes cached and tool-use prompt tokens, output thoughts."""
    if not metadata:
        return ir.Usage()
    thoughts = int(metadata.get("thoughtsTokenCount") or 0)
    return ir.Usage(
        input_tokens=int(metadata.get("promptTokenCount") or 0)
        + int(metadata.get("toolUsePromptTokenCount") or 0),
        output_tokens=int(metadata.get("candidatesTokenCount") or 0) + thoughts,
        cache_read_tokens=int(metadata.get("cachedContentTokenCount") or 0),
        reasoning_tokens=thoughts,
    )


def call_id(response_id: str, number: int, name: str, args: Any) -> str:
    """An id for a Gemini call that came without one: stable within an answer, unique across answers."""
    digest = hashlib.sha256(f"{response_id}\0{number}\0{name}\0{args!r}".encode()).hexdigest()
    return f"call_{digest[:24]}"
