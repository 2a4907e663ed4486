"""Gemini (and Vertex) error bodies -> the exception tree.

Google answers `{"error": {"code", "message", "status", "details"}}` (Vertex sometimes wraps it
in a list); the retry hint is `RetryInfo.retryDelay` in `details` ("17s"), else a Retry-After
header. Anything that does not parse keeps its raw text in the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from modelrouter import errors
from modelrouter.protocols.retry_after import retry_after_seconds

__all__ = ["decode_error", "error_event"]

_CONTEXT_MARKERS: Final = (
    "exceeds the maximum number of tokens",
    "input token count",
    "too many tokens",
    "context",
)
_STATUS_CLASSES: Final[dict[str, type[errors.UpstreamError]]] = {
    "RESOURCE_EXHAUSTED": errors.UpstreamRateLimited,
    "UNAVAILABLE": errors.UpstreamOverloaded,
    "DEADLINE_EXCEEDED": errors.UpstreamTimeout,
    "UNAUTHENTICATED": errors.UpstreamAuthError,
    "PERMISSION_DENIED": errors.UpstreamAuthError,
    "INTERNAL": errors.UpstreamServerError,
}


def _error_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(data, list) and data:
        data = data[0]
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else None


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(str(value).removesuffix("s"))
    except ValueError:
        return None
    return seconds if seconds >= 0 and seconds == seconds and seconds != float("inf") else None


def _retry_after(error: dict[str, Any] | None, headers: Mapping[str, str]) -> float | None:
    for detail in (error or {}).get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
            found = _seconds(detail.get("retryDelay"))
            if found is not None:
                return found
    return retry_after_seconds(headers)


def _class_for(status: int, google_status: str, message: str) -> type[errors.UpstreamError]:
    if status == 429:
        return errors.UpstreamRateLimited
    if status == 503:
        return errors.UpstreamOverloaded
    if status in (408, 504):
        return errors.UpstreamTimeout
    if status in (401, 403):
        return errors.UpstreamAuthError
    if status >= 500:
        return _STATUS_CLASSES.get(google_status, errors.UpstreamServerError)
    lowered = message.lower()
    if status == 400 and "token" in lowered and any(m in lowered for m in _CONTEXT_MARKERS):
        return errors.ContextLengthExceeded
    return _STATUS_CLASSES.get(google_status, errors.UpstreamBadRequest)


def decode_error(status: int, body: bytes, headers: Mapping[str, str]) -> errors.UpstreamError:
    """Map a Gemini error response to the exception the router acts on (never raises itself)."""
    error = _error_object(body)
    if error is None:
        message, google_status = body[:500].decode(errors="replace").strip() or "(empty body)", ""
    else:
        message, google_status = str(error.get("message") or ""), str(error.get("status") or "")
    label = f"{status} {google_status}" if google_status else str(status)
    cls = _class_for(status, google_status, message)
    return cls(
        f"Gemini answered {label}: {message}",
        upstream_status=status,
        retry_after=_retry_after(error, headers),
    )


def error_event(error: dict[str, Any]) -> tuple[str, str, int | None]:
    """An in-stream `{"error": ...}` as (kind, message, status)."""
    code = error.get("code")
    status = code if isinstance(code, int) else None
    kind = str(error.get("status") or "error").lower()
    if status == 503 or kind == "unavailable":
        kind = "overloaded_error"
    return kind, str(error.get("message") or ""), status
