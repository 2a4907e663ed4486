"""Bedrock error responses -> the exception tree.

The error code comes from the `x-amzn-ErrorType` header (`ThrottlingException:http://…`, the
part before the colon), else the body's `__type` or `code`; the message from the body's
`message` / `Message`. Context overflows are `ValidationException`s that say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from modelrouter import errors
from modelrouter.protocols.bedrock_converse._wire import ERROR_CLASSES
from modelrouter.protocols.retry_after import retry_after_seconds

__all__ = ["decode_error"]

_CONTEXT_MARKERS: Final = (
    "input is too long",
    "too many input tokens",
    "prompt is too long",
    "context window",
)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _body(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _code(headers: Mapping[str, str], data: dict[str, Any]) -> str:
    raw = _header(headers, "x-amzn-errortype") or str(data.get("__type") or data.get("code") or "")
    return raw.split(":", 1)[0].rsplit("#", 1)[-1]


def _class_for(status: int, code: str, message: str) -> type[errors.UpstreamError]:
    found = ERROR_CLASSES.get(code.lower())
    if found is not None:
        return found
    if code.lower() == "validationexception" or status == 400:
        lowered = message.lower()
        if any(marker in lowered for marker in _CONTEXT_MARKERS):
            return errors.ContextLengthExceeded
        return errors.UpstreamBadRequest
    if status == 429:
        return errors.UpstreamRateLimited
    if status == 503:
        return errors.UpstreamOverloaded
    if status in (401, 403):
        return errors.UpstreamAuthError
    if status in (408, 504):
        return errors.UpstreamTimeout
    return errors.UpstreamServerError if status >= 500 else errors.UpstreamBadRequest


def decode_error(status: int, body: bytes, headers: Mapping[str, str]) -> errors.UpstreamError:
    """Map a Bedrock error response to the exception the router acts on (never raises itself)."""
    data = _body(body)
    code = _code(headers, data)
    message = str(data.get("message") or data.get("Message") or body[:500].decode(errors="replace").strip())
    retry_after = retry_after_seconds(headers)
    label = f"{status} {code}" if code else str(status)
    cls = _class_for(status, code, message)
    return cls(f"Bedrock answered {label}: {message}", upstream_status=status, retry_after=retry_after)
