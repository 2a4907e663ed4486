"""Errors: a provider's error answer to the exception tree, and the gateway's errors as OpenAI bodies.

Providers speaking this protocol disagree on the error shape: OpenAI, Azure and DeepSeek send
`{"error": {"message", "type", "param", "code"}}`, OpenRouter sends an integer `code` with
`metadata.raw` from the upstream, xAI sends a flat `{"code": "<gRPC text>", "error": "<message>"}`,
and FastAPI-based local servers send `{"detail": ...}`. All are read; a body that is not JSON
becomes the message as is (shortened). API keys echoed in messages are redacted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import orjson

from modelrouter import errors
from modelrouter.protocols.retry_after import retry_after_seconds

__all__ = ["classify", "decode_error", "encode_error", "error_body"]

_MAX_MESSAGE: Final = 600
_SECRET: Final = re.compile(r"(?:sk-|xai-|AIza|Bearer\s+)[A-Za-z0-9_\-\*\.]{4,}")
_RETRY_IN_BODY: Final = re.compile(
    r"(?:retry after|try again in)\s+(\d+(?:\.\d+)?)\s*(ms|s|sec|seconds?)?\b", re.I
)
_CONTEXT_HINTS: Final = (
    "context_length_exceeded",
    "maximum context length",
    "maximum prompt length",
    "context window",
    "prompt is too long",
    "too many tokens",
    "reduce the length of the messages",
    "input is too long",
)
_FILTER_HINTS: Final = (
    "content_filter",
    "content_policy_violation",
    "responsibleaipolicyviolation",
    "content management policy",
    "flagged",
    "moderation",
)


def encode_error(status: int, kind: str, message: str) -> bytes:
    """An OpenAI error body `{"error": {"message", "type", "param", "code"}}`; the status is the HTTP one."""
    del status  # OpenAI bodies do not repeat the HTTP status
    return orjson.dumps(error_body(kind, message))


def error_body(kind: str, message: str) -> dict[str, Any]:
    """The error object, shared by `encode_error` and the in-stream error event."""
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


def decode_error(status: int, body: bytes, headers: Mapping[str, str]) -> errors.UpstreamError:
    """Map a provider's error response (any of the shapes in the module doc) to the exception tree."""
    try:
        payload: Any = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        payload = None
    if isinstance(payload, dict):
        message, codes = _fields(payload)
    else:
        message, codes = body.decode("utf-8", errors="replace").strip(), ""
    return classify(status, message or f"HTTP {status}", codes, retry_after=_retry_after(headers, message))


def _fields(payload: dict[str, Any]) -> tuple[str, str]:
    """(message, lower-cased code and type words) of a JSON error body."""
    error = payload.get("error")
    if isinstance(error, dict):
        message = str(error.get("message") or "")
        metadata = error.get("metadata")
        if isinstance(metadata, dict):  # OpenRouter: the upstream's own words are in metadata.raw
            raw = metadata.get("raw")
            if isinstance(raw, str) and raw:
                message = f"{message}: {raw}" if message else raw
            if metadata.get("reasons") or metadata.get("flagged_input"):
                message = f"{message} (moderation)"
        inner = error.get("innererror")
        inner_code = inner.get("code") if isinstance(inner, dict) else None
        codes = " ".join(str(v) for v in (error.get("code"), error.get("type"), inner_code) if v is not None)
        return message, codes.lower()
    if isinstance(error, str):  # xAI: {"code": "<gRPC status text>", "error": "<message>"}
        return error, str(payload.get("code") or "").lower()
    detail = payload.get("detail", payload.get("message"))
    return ("" if detail is None else str(detail)), ""


def classify(
    status: int, message: str, codes: str = "", *, retry_after: float | None = None
) -> errors.UpstreamError:
    """The `UpstreamError` subclass for an HTTP status, message and provider error codes."""
    message = _SECRET.sub("[redacted]", message)
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    kind = _kind(status, message.lower(), codes)
    text = f"the provider answered {status}: {message}"
    if kind is errors.UpstreamAuthError:
        text += " (check this provider's credentials, quota or credit in modelrouter.yaml)"
    return kind(text, upstream_status=status, retry_after=retry_after)


def _kind(status: int, lowered: str, codes: str) -> type[errors.UpstreamError]:
    if status == 429:
        # insufficient_quota is billing, not throttling: waiting does not help, another offering may.
        return errors.UpstreamAuthError if "insufficient_quota" in codes else errors.UpstreamRateLimited
    if status in (503, 529):
        return errors.UpstreamOverloaded
    if status == 408:
        return errors.UpstreamTimeout
    if status >= 500 or status == 409:  # the OpenAI SDK retries 409 as well
        return errors.UpstreamServerError
    if any(hint in codes or hint in lowered for hint in _FILTER_HINTS):
        return errors.ContentFiltered
    if any(hint in codes or hint in lowered for hint in _CONTEXT_HINTS):
        return errors.ContextLengthExceeded
    if status in (401, 402, 403) or (status == 400 and "api key" in lowered):
        return errors.UpstreamAuthError  # xAI answers a bad key with 400
    return errors.UpstreamBadRequest


def _retry_after(headers: Mapping[str, str], message: str) -> float | None:
    """Seconds to wait, from the headers (every form) or the message ("retry after 20s").

    A header that says "now" (a date already past) gives way to a wait the message names.
    """
    from_headers = retry_after_seconds(headers)
    if from_headers:
        return from_headers
    match = _RETRY_IN_BODY.search(message)
    if match is None:
        return from_headers
    seconds = float(match.group(1))
    return seconds / 1000 if (match.group(2) or "").lower() == "ms" else seconds
