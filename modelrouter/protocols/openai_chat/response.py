"""Non-streamed answers: a provider's `chat.completion` to `ir.Response`, and back for clients."""

from __future__ import annotations

from typing import Any, Final

import orjson

from modelrouter import errors, ir
from modelrouter.protocols.openai_chat._common import (
    Malformed,
    decode_usage,
    embed_signature,
    encode_usage,
    finish_reason,
    reasoning_from_message,
    reasoning_to_details,
    split_tool_call_id,
    stop_reason,
    tool_call_signature,
)
from modelrouter.protocols.openai_chat.errors import classify

__all__ = ["answer_object", "decode_response", "encode_response", "error_in_body"]

_KEPT_EXTRA: Final = ("system_fingerprint", "service_tier")
"""Top-level response fields kept in `Response.extra` and written back for OpenAI clients."""


def decode_response(body: bytes) -> ir.Response:
    """Decode a provider's `chat.completion` body; only the first choice is read.

    Raises:
        UpstreamProtocolError: the body is not a chat completion.
        UpstreamError: the body is an error object sent with a success status.
    """
    data = answer_object(body)
    try:
        return _response(data)
    except Malformed as exc:
        raise errors.UpstreamProtocolError(f"the provider's answer is not a chat completion: {exc}") from exc


def answer_object(body: bytes) -> dict[str, Any]:
    """The answer's JSON object; an error object sent with a success status is raised as one."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise errors.UpstreamProtocolError(f"the provider's answer is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise errors.UpstreamProtocolError("the provider's answer is not a JSON object")
    if data.get("error") and not data.get("choices"):
        raise error_in_body(data["error"])
    return data


def error_in_body(error: object) -> errors.UpstreamError:
    """The exception for an error object a provider sent with a success status."""
    code = error.get("code") if isinstance(error, dict) else None
    status = code if isinstance(code, int) and 400 <= code <= 599 else 502
    message = str(error.get("message") or "") if isinstance(error, dict) else str(error)
    codes = "" if code is None else str(code).lower()
    return classify(status, message or "error without a message", codes)


def _response(data: dict[str, Any]) -> ir.Response:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise Malformed("`choices` must be a non-empty list of objects")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise Malformed("`choices[0].message` must be an object")
    content: list[ir.Part] = [*reasoning_from_message(message)]
    text = _text(message.get("content"))
    if text:
        content.append(ir.TextPart(text=text))
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        content.append(ir.TextPart(text=refusal))
    calls = _tool_calls(message.get("tool_calls"))
    content.extend(calls)
    stop = stop_reason(choices[0].get("finish_reason"), has_tool_calls=bool(calls))
    created = data.get("created")
    return ir.Response(
        id=str(data.get("id") or ""),
        model=str(data.get("model") or ""),
        content=content,
        stop_reason="refusal" if refusal and stop == "end_turn" else stop,
        usage=decode_usage(data.get("usage")) or ir.Usage(),
        created=created if isinstance(created, int) and not isinstance(created, bool) else None,
        extra={key: data[key] for key in _KEPT_EXTRA if isinstance(data.get(key), str)},
    )


def _text(content: object) -> str:
    """Message content: a string, or (some compatible servers) a list of text parts."""
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    raise Malformed("`message.content` must be a string, a list of parts or null")


def _tool_calls(raw: object) -> list[ir.ToolCallPart]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise Malformed("`message.tool_calls` must be a list")
    calls = []
    for i, call in enumerate(raw):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise Malformed(f"`message.tool_calls[{i}]` must have a `function` with a `name`")
        arguments = function.get("arguments")
        if isinstance(arguments, dict):
            arguments = orjson.dumps(arguments).decode()
        call_id = call.get("id")
        tool_call_id, signature = split_tool_call_id(
            call_id if isinstance(call_id, str) and call_id else f"call_{i}"
        )
        calls.append(
            ir.ToolCallPart(
                id=tool_call_id,
                name=function["name"],
                arguments=arguments if isinstance(arguments, str) else "",
                signature=tool_call_signature(call) or signature,
            )
        )
    return calls


def encode_response(response: ir.Response, provider: str | None = None) -> bytes:
    """The `chat.completion` body a client receives; `provider` adds the gateway's `"provider": ID`.

    `created` is `response.created`, or 0 when the provider reported none (codecs read no
    clock: the gateway fills `response.created` when it wants the current time).
    """
    texts: list[str] = []
    reasoning: list[ir.ReasoningPart] = []
    calls: list[dict[str, Any]] = []
    for part in response.content:
        if isinstance(part, ir.TextPart):
            texts.append(part.text)
        elif isinstance(part, ir.ReasoningPart):
            reasoning.append(part)
        elif isinstance(part, ir.ToolCallPart):
            calls.append(_tool_call(part))
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(texts) if texts else None,
        "refusal": None,
    }
    if reasoning:
        message["reasoning_content"] = "".join(p.text for p in reasoning)
        message["reasoning_details"] = reasoning_to_details(reasoning)
    if calls:
        message["tool_calls"] = calls
    body: dict[str, Any] = {
        "id": response.id,
        "object": "chat.completion",
        "created": response.created or 0,
        "model": response.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason(response.stop_reason),
            }
        ],
        "usage": encode_usage(response.usage),
    }
    body.update((key, response.extra[key]) for key in _KEPT_EXTRA if key in response.extra)
    if provider is not None:
        body["provider"] = provider
    return orjson.dumps(body)


def _tool_call(part: ir.ToolCallPart) -> dict[str, Any]:
    return {
        "id": embed_signature(part.id, part.signature),
        "type": "function",
        "function": {"name": part.name, "arguments": part.arguments},
    }
