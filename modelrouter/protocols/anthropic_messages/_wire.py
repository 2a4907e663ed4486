"""Anthropic Messages vocabulary shared by every direction: versions, stop reasons, usage, caching.

Kept in one place so the request, response and stream halves agree on each mapping (the
package docstring in `__init__` states the rules these tables implement).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from modelrouter import ir

PROTOCOL: Final = "anthropic_messages"
"""`Request.source_protocol` of requests decoded here; `extra` is re-emitted only for it."""

API_VERSION: Final = "2023-06-01"
"""The `anthropic-version` this codec's bodies target by default; the provider adapter sends it."""

API_VERSION_2026: Final = "2026-10-21"
"""The SDK 2.x version: rejects `temperature`/`top_p`/`top_k` and documents in assistant turns."""

API_VERSIONS: Final = frozenset({API_VERSION, API_VERSION_2026})

VERTEX_VERSION: Final = "vertex-2023-10-16"
"""The body's `anthropic_version` on Vertex for the classic API (the 2026 version is sent as is)."""

DEFAULT_MAX_TOKENS: Final = 4096
"""`max_tokens` when the IR has none (Anthropic requires it; the codec cannot know the model's limit)."""

SIGNATURE_ORIGINS: Final = frozenset({"anthropic"})
"""Reasoning origins whose signatures Anthropic accepts back (Claude direct and Claude on Vertex)."""

ORIGIN: Final = "anthropic"
"""The `ReasoningPart.origin` this codec stamps on thinking it decodes."""

ROUTING_FIELDS: Final = frozenset({"route", "provider", "models"})
"""Gateway routing fields kept in `Request.extra` for the router; never sent upstream."""

SERVER_TOOLS_KEY: Final = "anthropic_server_tools"
"""`Request.extra` key holding server tools (typed `tools` entries) for an Anthropic target."""

EFFORTS: Final = frozenset({"low", "medium", "high", "xhigh", "max"})

STOP_TO_IR: Final[dict[str, ir.StopReason]] = {
    "end_turn": "end_turn",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_use",
    "pause_turn": "pause_turn",
    "refusal": "refusal",
    "model_context_window_exceeded": "context_window_exceeded",
}

STOP_FROM_IR: Final[dict[str, str]] = {
    **{value: key for key, value in STOP_TO_IR.items()},
    "content_filter": "refusal",
    "error": "end_turn",
    "other": "end_turn",
}

ERROR_TYPE_STATUS: Final[dict[str, int]] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "conflict_error": 409,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
"""Anthropic's error `type` -> the HTTP status it stands for (its documented table)."""


def stop_to_ir(value: object) -> ir.StopReason:
    """Anthropic `stop_reason` -> IR; null or a value added after this codec was written is "other"."""
    return STOP_TO_IR.get(value, "other") if isinstance(value, str) else "other"


def _count(value: object) -> int:
    return value if type(value) is int else 0


def usage_to_ir(raw: Mapping[str, Any]) -> ir.Usage:
    """Anthropic usage -> IR, adding cache reads and writes back into `input_tokens`."""
    written = _count(raw.get("cache_creation_input_tokens"))
    read = _count(raw.get("cache_read_input_tokens"))
    creation = raw.get("cache_creation")
    details = raw.get("output_tokens_details")
    return ir.Usage(
        input_tokens=_count(raw.get("input_tokens")) + written + read,
        output_tokens=_count(raw.get("output_tokens")),
        cache_read_tokens=read,
        cache_write_tokens=written,
        cache_write_1h_tokens=_count(creation.get("ephemeral_1h_input_tokens"))
        if isinstance(creation, dict)
        else 0,
        reasoning_tokens=_count(details.get("thinking_tokens")) if isinstance(details, dict) else 0,
    )


def usage_from_ir(usage: ir.Usage | None) -> dict[str, Any]:
    """IR usage -> Anthropic `usage` of a message (uncached input only, cache split by TTL)."""
    usage = usage or ir.Usage()
    out: dict[str, Any] = delta_usage_from_ir(usage)
    one_hour = usage.cache_write_1h_tokens
    out["cache_creation"] = {
        "ephemeral_5m_input_tokens": max(0, usage.cache_write_tokens - one_hour),
        "ephemeral_1h_input_tokens": one_hour,
    }
    return out


def delta_usage_from_ir(usage: ir.Usage) -> dict[str, Any]:
    """IR usage -> the `usage` of a `message_delta` event (no `cache_creation` breakdown there)."""
    out: dict[str, Any] = {
        "input_tokens": max(0, usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens),
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "output_tokens": usage.output_tokens,
    }
    if usage.reasoning_tokens:
        out["output_tokens_details"] = {"thinking_tokens": usage.reasoning_tokens}
    return out


def cache_control_from_ir(control: ir.CacheControl) -> dict[str, Any]:
    """IR cache breakpoint -> Anthropic `cache_control` (ttl only when set)."""
    out: dict[str, Any] = {"type": control.type}
    if control.ttl is not None:
        out["ttl"] = control.ttl
    return out


def client_block(part: ir.ReasoningPart) -> dict[str, Any] | None:
    """Reasoning -> the block an Anthropic *client* receives, by the package's reasoning rule.

    Anthropic-origin reasoning is sent as is. Other reasoning keeps its text in a thinking block
    with an empty signature (a foreign signature would come back labelled as Anthropic's), and
    is left out when it has no text (an opaque foreign blob means nothing to the client).
    """
    if part.origin in SIGNATURE_ORIGINS:
        if part.redacted is not None:
            return {"type": "redacted_thinking", "data": part.redacted}
        return {"type": "thinking", "thinking": part.text, "signature": part.signature or ""}
    if not part.text:
        return None
    return {"type": "thinking", "thinking": part.text, "signature": ""}
