"""Provider side: Gemini's `alt=sse` stream -> IR stream events, incrementally.

Each SSE event carries a whole `GenerateContentResponse` with only its new parts; there is no
end marker, so the chunk carrying `finishReason` ends the answer (with the usage it carries);
a body that ends without one is truncated. `{"error": ...}` in the stream is a `StreamError`.
"""

from __future__ import annotations

from typing import Any

import orjson

from modelrouter import ir
from modelrouter.errors import UpstreamProtocolError
from modelrouter.protocols.gemini._wire import stop_to_ir, usage_to_ir
from modelrouter.protocols.gemini.errors import error_event
from modelrouter.protocols.gemini.parts import PartEvents
from modelrouter.protocols.sse import SSEParser

__all__ = ["StreamDecoder"]


class StreamDecoder:
    """Feed the bytes of a `streamGenerateContent?alt=sse` answer; get IR events as they complete."""

    __slots__ = ("_done", "_parser", "_parts", "_started", "_usage")

    def __init__(self) -> None:
        self._parser = SSEParser()
        self._parts: PartEvents | None = None
        self._usage: dict[str, Any] | None = None
        self._started = False
        self._done = False

    def feed(self, chunk: bytes) -> list[ir.StreamEvent]:
        """Consume `chunk` (any slice of the body) and return the events it completes."""
        out: list[ir.StreamEvent] = []
        for event in self._parser.feed(chunk):
            if self._done:
                break
            if event.data.strip():
                self._chunk(event.data, out)
        return out

    def close(self) -> list[ir.StreamEvent]:
        """End of body: without a `finishReason` the answer was cut short."""
        out: list[ir.StreamEvent] = []
        for event in self._parser.flush():
            if not self._done and event.data.strip():
                self._chunk(event.data, out)
        if not self._done:
            if self._parts is not None:
                self._parts.close(out)
            out.append(
                ir.StreamError(
                    kind="stream_truncated", message="the Gemini stream ended without a finishReason"
                )
            )
            self._done = True
        return out

    def _chunk(self, text: str, out: list[ir.StreamEvent]) -> None:
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise UpstreamProtocolError(f"Gemini stream event is not JSON: {text[:200]!r}") from exc
        if not isinstance(data, dict):
            raise UpstreamProtocolError(f"Gemini stream event is not an object: {text[:200]!r}")
        try:
            self._read(data, out)
        except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
            raise UpstreamProtocolError(f"malformed Gemini stream event {text[:200]!r}: {exc!r}") from exc

    def _read(self, data: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        if isinstance(data.get("error"), dict):
            kind, message, status = error_event(data["error"])
            if self._parts is not None:
                self._parts.close(out)
            out.append(ir.StreamError(kind=kind, message=message, status=status))
            self._done = True
            return
        if not self._started:
            self._start(data, out)
        assert self._parts is not None
        self._usage = data.get("usageMetadata") or self._usage
        candidates = data.get("candidates") or []
        candidate = candidates[0] if candidates and isinstance(candidates[0], dict) else {}
        for part in (candidate.get("content") or {}).get("parts") or []:
            self._parts.feed(part, out)
        blocked = not candidates and (data.get("promptFeedback") or {}).get("blockReason")
        finish = candidate.get("finishReason")
        if finish or blocked:
            self._parts.close(out)
            stop = "content_filter" if blocked else stop_to_ir(finish, self._parts.called_tools)
            out.append(ir.StreamEnd(stop_reason=stop, usage=usage_to_ir(self._usage)))
            self._done = True

    def _start(self, data: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        response_id = str(data.get("responseId") or "")
        self._parts = PartEvents(response_id)
        prompt = usage_to_ir(data.get("usageMetadata"))
        usage = ir.Usage(input_tokens=prompt.input_tokens, cache_read_tokens=prompt.cache_read_tokens)
        out.append(
            ir.StreamStart(
                id=response_id or "gemini-stream", model=str(data.get("modelVersion") or ""), usage=usage
            )
        )
        self._started = True
