"""Errors both ways: Anthropic (or Vertex) error bodies -> the exception tree; error bodies for clients.

Anthropic answers `{"type":"error","error":{"type","message"},"request_id"}`; Claude on Vertex
may instead answer Google's `{"error":{"code","message","status"}}` (alone or in a list) for
quota and auth failures. Both are read here; anything else keeps its raw text in the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from modelrouter import errors
from modelrouter.protocols.anthropic_messages._wire import ERROR_TYPE_STATUS
from modelrouter.protocols.retry_after import retry_after_seconds

__all__ = ["decode_error", "encode_error", "error_type"]

_CONTEXT_MARKERS: Final = (
    "prompt is too long",
    "exceed context limit",
    "exceeds the context window",
    "context window",
    "too many total text bytes",
)
_FILTER_MARKERS: Final = ("content filter", "content_filter", "content filtering policy")
_STATUS_TYPE: Final[dict[int, str]] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    410: "not_found_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_type(status: int | None, kind: str) -> str:
    """The Anthropic error `type` for a gateway error: `kind` if Anthropic knows it, else by status."""
    if kind in ERROR_TYPE_STATUS:
        return kind
    if status is None:
        return "api_error"
    if status in _STATUS_TYPE:
        return _STATUS_TYPE[status]
    return "api_error" if status >= 500 else "invalid_request_error"


def encode_error(status: int, kind: str, message: str) -> bytes:
    """An Anthropic-shaped error body; the `type` is mapped into Anthropic's vocabulary (see `error_type`)."""
    return orjson.dumps({"type": "error", "error": {"type": error_type(status, kind), "message": message}})


def _parse(body: bytes) -> tuple[str | None, str]:
    """(error type, message) from an Anthropic or Google error body, or (None, raw text)."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, body.decode("utf-8", errors="replace").strip()[:500] or "(empty body)"
    if isinstance(data, list) and data:
        data = data[0]
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, str(data)[:500]
    kind = error.get("type") or error.get("status")
    message = error.get("message")
    return (kind if isinstance(kind, str) else None), (
        message if isinstance(message, str) else str(error)[:500]
    )


def _class_for(status: int, kind: str | None, message: str) -> type[errors.UpstreamError]:
    lowered = message.lower()
    if status == 429 or kind in ("rate_limit_error", "RESOURCE_EXHAUSTED"):
        return errors.UpstreamRateLimited
    if status in (503, 529) or kind == "overloaded_error":
        return errors.UpstreamOverloaded
    if status >= 500 or status == 409:
        return errors.UpstreamServerError
    if status == 408:
        return errors.UpstreamTimeout
    if status in (401, 402, 403):
        return errors.UpstreamAuthError
    if any(marker in lowered for marker in _CONTEXT_MARKERS):
        return errors.ContextLengthExceeded
    if any(marker in lowered for marker in _FILTER_MARKERS):
        return errors.ContentFiltered
    return errors.UpstreamBadRequest


def decode_error(status: int, body: bytes, headers: Mapping[str, str]) -> errors.UpstreamError:
    """Map an Anthropic error response to the exception the router acts on (never raises itself)."""
    kind, message = _parse(body)
    cls = _class_for(status, kind, message)
    label = f"{status} {kind}" if kind else str(status)
    return cls(
        f"Anthropic answered {label}: {message}",
        upstream_status=status,
        retry_after=retry_after_seconds(headers),
    )
