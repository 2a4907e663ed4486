"""Client side: IR answers as Responses API objects (whole, and the snapshots a stream carries)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from modelrouter import ir
from modelrouter.protocols.openai_chat.errors import error_body

__all__ = ["encode_error", "encode_response", "item_for", "response_object", "usage_object"]


def new_id(prefix: str) -> str:
    """An id in OpenAI's style (`resp_…`, `msg_…`, `fc_…`, `rs_…`)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def usage_object(usage: ir.Usage) -> dict[str, Any]:
    """IR usage as Responses usage (input includes cached tokens, output includes reasoning)."""
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def item_for(part: ir.Part, item_id: str, status: str = "completed") -> dict[str, Any] | None:
    """The output item of one IR part (text parts become a message item)."""
    if isinstance(part, ir.TextPart):
        content = [{"type": "output_text", "text": part.text, "annotations": [], "logprobs": []}]
        return {"type": "message", "id": item_id, "status": status, "role": "assistant", "content": content}
    if isinstance(part, ir.ToolCallPart):
        return {
            "type": "function_call",
            "id": item_id,
            "call_id": part.id,
            "name": part.name,
            "arguments": part.arguments,
            "status": status,
        }
    if isinstance(part, ir.ReasoningPart):
        summary = [{"type": "summary_text", "text": part.text}] if part.text else []
        item: dict[str, Any] = {"type": "reasoning", "id": item_id, "summary": summary}
        if part.redacted and part.origin == "openai_responses":
            item["encrypted_content"] = part.redacted
        return item
    return None


def _status(stop: ir.StopReason) -> tuple[str, dict[str, str] | None]:
    if stop == "max_tokens":
        return "incomplete", {"reason": "max_output_tokens"}
    if stop in ("content_filter", "refusal"):
        return "incomplete", {"reason": "content_filter"}
    return "completed", None


def response_object(
    response_id: str,
    model: str,
    created_at: int,
    output: list[dict[str, Any]],
    *,
    status: str,
    usage: ir.Usage | None = None,
    incomplete: dict[str, str] | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A `response` object with the fields the SDKs expect."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "error": error,
        "incomplete_details": incomplete,
        "instructions": None,
        "max_output_tokens": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": usage_object(usage) if usage is not None else None,
        "user": None,
        "metadata": {},
    }


def _merged_output(parts: list[ir.Part]) -> list[dict[str, Any]]:
    output: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, ir.TextPart) and output and output[-1]["type"] == "message":
            output[-1]["content"][0]["text"] += part.text
            continue
        item = item_for(part, new_id({ir.TextPart: "msg", ir.ToolCallPart: "fc"}.get(type(part), "rs")))
        if item is not None:
            output.append(item)
    return output


def encode_response(response: ir.Response, provider: str | None = None) -> bytes:
    """A complete Responses API answer."""
    status, incomplete = _status(response.stop_reason)
    body = response_object(
        new_id("resp"),
        response.model,
        response.created or int(time.time()),
        _merged_output(response.content),
        status=status,
        usage=response.usage,
        incomplete=incomplete,
    )
    if provider:
        body["provider"] = provider
    return orjson.dumps(body)


def encode_error(status: int, kind: str, message: str) -> bytes:
    """An OpenAI-shaped error body (the Responses API shares Chat Completions' error shape)."""
    del status
    return orjson.dumps(error_body(kind, message))
