"""Provider side: a Gemini `GenerateContentResponse` -> an IR response."""

from __future__ import annotations

from typing import Any

import orjson

from modelrouter import errors, ir
from modelrouter.protocols.gemini._wire import stop_to_ir, usage_to_ir
from modelrouter.protocols.gemini.errors import decode_error
from modelrouter.protocols.gemini.parts import PartEvents, fold

__all__ = ["decode_response"]


def _candidate(data: dict[str, Any]) -> dict[str, Any]:
    candidates = data.get("candidates")
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
        return candidates[0]
    return {}


def decode_response(body: bytes) -> ir.Response:
    """Decode a non-streamed answer; a body that is not a response is `UpstreamProtocolError`."""
    try:
        data = orjson.loads(body)
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            raise decode_error(int(data["error"].get("code") or 500), body, {})
        if not isinstance(data, dict) or not ("candidates" in data or "promptFeedback" in data):
            raise TypeError("not a GenerateContentResponse")
        candidate = _candidate(data)
        response_id = str(data.get("responseId") or "")
        reader = PartEvents(response_id)
        events: list[ir.StreamEvent] = []
        for part in (candidate.get("content") or {}).get("parts") or []:
            reader.feed(part, events)
        reader.close(events)
        usage = usage_to_ir(data.get("usageMetadata"))
    except errors.UpstreamError:
        raise
    except (orjson.JSONDecodeError, TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
        raise errors.UpstreamProtocolError(f"Gemini answer does not parse: {exc!r}") from exc
    blocked = not data.get("candidates") and (data.get("promptFeedback") or {}).get("blockReason")
    stop = "content_filter" if blocked else stop_to_ir(candidate.get("finishReason"), reader.called_tools)
    extra = {"block_reason": blocked} if blocked else {}
    return ir.Response(
        id=response_id or "gemini-response",
        model=str(data.get("modelVersion") or ""),
        content=list(fold(events)),
        stop_reason=stop,
        usage=usage,
        extra=extra,
    )
