"""Tool-call arguments as the JSON object that Gemini and Bedrock require (the IR keeps raw text)."""

from __future__ import annotations

from typing import Any

import orjson

from modelrouter import ir
from modelrouter.errors import BadRequest

__all__ = ["tool_input"]


def tool_input(part: ir.ToolCallPart, target: str) -> dict[str, Any]:
    """The call's arguments parsed; `BadRequest` naming `target` when they are not a JSON object."""
    try:
        value = part.input()
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"tool call {part.id!r}: arguments are not JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise BadRequest(f"tool call {part.id!r}: {target} takes tool arguments as a JSON object")
    return value
