"""Pieces both directions of the OpenAI Chat codec share: stop reasons, usage, reasoning, tool-call ids.

Everything here is a pure function over wire JSON (already parsed) or IR values. Malformed wire
data raises `Malformed`; each public entry point turns it into the exception its side needs
(`BadRequest` for a client's request, `UpstreamProtocolError` for a provider's answer).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Final

from modelrouter import ir

__all__ = [
    "PROTOCOL",
    "ROUTING_FIELDS",
    "SIGNATURE_SEPARATOR",
    "Malformed",
    "decode_usage",
    "embed_signature",
    "encode_usage",
    "finish_reason",
    "format_of",
    "origin_of",
    "reasoning_from_message",
    "reasoning_to_details",
    "split_tool_call_id",
    "stop_reason",
    "tool_call_signature",
]

PROTOCOL: Final = "openai_chat"
"""The value of `ir.Request.source_protocol` for requests this codec decoded."""

ROUTING_FIELDS: Final = frozenset({"route", "provider", "models"})
"""Gateway routing fields a client may send; kept in `Request.extra`, never forwarded upstream."""

SIGNATURE_SEPARATOR: Final = "__thought__"
"""Joins a tool-call id and its encoded Gemini thought signature in ids sent to clients."""

ORIGIN_REASONING_CONTENT: Final = "deepseek"
"""Origin of reasoning read from `reasoning_content` (the field DeepSeek introduced)."""

ORIGIN_OPENROUTER: Final = "openrouter"
"""Origin of reasoning read from OpenRouter's plain `reasoning` text or an unknown-format detail."""


_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]+")


class Malformed(ValueError):
    """Wire JSON that does not have the shape the protocol requires."""


_FINISH_TO_STOP: Final[dict[str, ir.StopReason]] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "content_filter",
    "error": "error",
}

_STOP_TO_FINISH: Final[dict[str, str]] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "pause_turn": "stop",
    "context_window_exceeded": "length",
    "error": "stop",
    "other": "stop",
}


def stop_reason(finish: object, *, has_tool_calls: bool) -> ir.StopReason:
    """Map a provider's `finish_reason` to the IR; "stop" with tool calls means tool use.

    Some OpenAI-compatible servers (older vLLM and Ollama builds) answer `stop` even when the
    message carries tool calls; clients of other protocols need `tool_use` to run them.
    """
    if finish is None:
        return "tool_use" if has_tool_calls else "end_turn"
    reason = _FINISH_TO_STOP.get(finish, "other") if isinstance(finish, str) else "other"
    if reason == "end_turn" and has_tool_calls:
        return "tool_use"
    return reason


def finish_reason(stop: ir.StopReason) -> str:
    """The OpenAI `finish_reason` a client sees for an IR stop reason (lossy; see the package doc)."""
    return _STOP_TO_FINISH.get(stop, "stop")


# --- usage -------------------------------------------------------------------------------


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def decode_usage(raw: object) -> ir.Usage | None:
    """Read an OpenAI `usage` object (plus DeepSeek's cache-hit field); None when absent."""
    if not isinstance(raw, dict):
        return None
    prompt = raw.get("prompt_tokens_details")
    completion = raw.get("completion_tokens_details")
    cache_read = _int(prompt.get("cached_tokens")) if isinstance(prompt, dict) else 0
    if not cache_read:
        # https://api-docs.deepseek.com/guides/kv_cache: prompt_cache_hit_tokens + miss = prompt_tokens
        cache_read = _int(raw.get("prompt_cache_hit_tokens"))
    return ir.Usage(
        input_tokens=_int(raw.get("prompt_tokens")),
        output_tokens=_int(raw.get("completion_tokens")),
        cache_read_tokens=cache_read,
        cache_write_tokens=_int(prompt.get("cache_write_tokens")) if isinstance(prompt, dict) else 0,
        reasoning_tokens=_int(completion.get("reasoning_tokens")) if isinstance(completion, dict) else 0,
    )


def encode_usage(usage: ir.Usage) -> dict[str, Any]:
    """An OpenAI `usage` object; `cache_write_1h_tokens` has no field and is folded into the total."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {
            "cached_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
        },
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


# --- reasoning -----------------------------------------------------------------------------

_FORMAT_TO_ORIGIN: Final = {
    "anthropic-claude-v1": "anthropic",
    "google-gemini-v1": "gemini",
    "openai-responses-v1": "openai",
    "xai-responses-v1": "xai",
    "unknown": ORIGIN_OPENROUTER,
}
_ORIGIN_TO_FORMAT: Final = {origin: fmt for fmt, origin in _FORMAT_TO_ORIGIN.items()}
_DETAIL_TYPES: Final = frozenset({"reasoning.text", "reasoning.summary", "reasoning.encrypted"})


def origin_of(fmt: object) -> str:
    """The IR origin of a `reasoning_details` entry's `format` (OpenRouter's names, else verbatim)."""
    if not isinstance(fmt, str) or not fmt:
        return ORIGIN_OPENROUTER
    return _FORMAT_TO_ORIGIN.get(fmt, fmt)


def format_of(origin: str | None) -> str:
    """The `reasoning_details` `format` for an IR origin (the inverse of `origin_of`)."""
    if origin is None:
        return "unknown"
    return _ORIGIN_TO_FORMAT.get(origin, origin)


def detail_fields(entry: object, position: int) -> tuple[int, str, str | None, str | None, str] | None:
    """(index, text, signature, encrypted data, origin) of one `reasoning_details` entry, or None.

    Entries of unknown `type` are skipped. Fields are read whatever the known `type` says,
    because a client that accumulates streamed entries the way the OpenAI SDK does (strings
    concatenated, `type` replaced) ends up with one entry holding text, signature and data.
    """
    if not isinstance(entry, dict):
        raise Malformed("each `reasoning_details` entry must be an object")
    kind = entry.get("type")
    if not isinstance(kind, str) or kind not in _DETAIL_TYPES:
        return None
    text = _opt_str(entry.get("text"), "reasoning_details[].text") or _opt_str(
        entry.get("summary"), "reasoning_details[].summary"
    )
    signature = _opt_str(entry.get("signature"), "reasoning_details[].signature") or None
    data = _opt_str(entry.get("data"), "reasoning_details[].data") or None
    index = entry.get("index")
    index = index if isinstance(index, int) and not isinstance(index, bool) else position
    return index, text or "", signature, data, origin_of(entry.get("format"))


def _opt_str(value: object, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise Malformed(f"`{where}` must be a string")


def _parts_from_details(details: list[Any]) -> list[ir.ReasoningPart]:
    parts: dict[int, ir.ReasoningPart] = {}
    for position, entry in enumerate(details):
        fields = detail_fields(entry, position)
        if fields is None:
            continue
        index, text, signature, data, origin = fields
        part = parts.get(index)
        if part is None:
            part = parts[index] = ir.ReasoningPart(origin=origin)
        part.text += text
        if signature:
            part.signature = signature
        if data:
            part.redacted = data
    return list(parts.values())


def reasoning_from_message(message: dict[str, Any]) -> list[ir.ReasoningPart]:
    """Reasoning of one assistant message: `reasoning_details`, else `reasoning_content`, else `reasoning`.

    OpenRouter sends `reasoning` and `reasoning_details` together (the same text twice); the
    details win because they carry signatures and the format. A `reasoning_content` that is
    present but empty still yields a part: DeepSeek wants the field echoed on tool-call turns.
    """
    details = message.get("reasoning_details")
    if details is not None and not isinstance(details, list):
        raise Malformed("`reasoning_details` must be a list")
    if details:
        return _parts_from_details(details)
    content = _opt_str(message.get("reasoning_content"), "reasoning_content")
    if content is not None:
        return [ir.ReasoningPart(text=content, origin=ORIGIN_REASONING_CONTENT)]
    text = _opt_str(message.get("reasoning"), "reasoning")
    if text:
        return [ir.ReasoningPart(text=text, origin=ORIGIN_OPENROUTER)]
    return []


def reasoning_to_details(parts: list[ir.ReasoningPart]) -> list[dict[str, Any]]:
    """OpenRouter-style `reasoning_details`: one entry per part (two when it has text and a blob)."""
    details: list[dict[str, Any]] = []
    for index, part in enumerate(parts):
        fmt = format_of(part.origin)
        if part.text or part.signature or part.redacted is None:
            entry: dict[str, Any] = {"type": "reasoning.text", "text": part.text}
            if part.signature:
                entry["signature"] = part.signature
            entry["format"] = fmt
            entry["index"] = index
            details.append(entry)
        if part.redacted is not None:
            details.append(
                {"type": "reasoning.encrypted", "data": part.redacted, "format": fmt, "index": index}
            )
    return details


# --- tool calls ------------------------------------------------------------------------------


def embed_signature(tool_call_id: str, signature: str | None) -> str:
    """The id a client sees: `<id>__thought__<base64url of the signature>` when there is one.

    Clients of the OpenAI protocol echo tool-call ids (in `tool_calls[].id` and the `tool`
    message's `tool_call_id`) but nothing else of a call, so the Gemini thought signature rides
    in the id. Base64url without padding keeps the id within `[A-Za-z0-9_-]` when the original
    id is, and `split_tool_call_id` reverses it exactly.
    """
    if not signature:
        return tool_call_id
    encoded = base64.urlsafe_b64encode(signature.encode()).rstrip(b"=").decode("ascii")
    return f"{tool_call_id}{SIGNATURE_SEPARATOR}{encoded}"


def split_tool_call_id(wire_id: str) -> tuple[str, str | None]:
    """The original id and signature of an id made by `embed_signature` (ids without one pass)."""
    base, sep, encoded = wire_id.partition(SIGNATURE_SEPARATOR)
    if not sep or _BASE64URL.fullmatch(encoded) is None:
        return wire_id, None
    try:
        signature = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return wire_id, None
    return base, signature


def tool_call_signature(call: dict[str, Any]) -> str | None:
    """Gemini's signature from Google's OpenAI-compatible `extra_content.google.thought_signature`."""
    extra = call.get("extra_content")
    if not isinstance(extra, dict):
        return None
    google = extra.get("google")
    if not isinstance(google, dict):
        return None
    signature = google.get("thought_signature")
    return signature if isinstance(signature, str) and signature else None
