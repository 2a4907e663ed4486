"""Provider side: Anthropic's SSE stream -> IR stream events, incrementally and chunk-boundary free.

Anthropic names every event and repeats the name as `data.type`; the decoder dispatches on
`data.type` (so `feed_json` also serves transports that carry the same JSON without SSE, such as
Bedrock's InvokeModelWithResponseStream). Blocks the IR cannot hold (server tools and their
results) are skipped with their deltas, and IR part indexes stay contiguous.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import orjson

from modelrouter import ir
from modelrouter.errors import UpstreamProtocolError
from modelrouter.protocols.anthropic_messages._wire import ERROR_TYPE_STATUS, ORIGIN, stop_to_ir, usage_to_ir
from modelrouter.protocols.sse import SSEEvent, SSEParser

__all__ = ["StreamDecoder"]

_PROTOCOL_ERROR: Final = UpstreamProtocolError.kind
_loads = orjson.loads
_TextDelta = ir.TextDelta

_Handler = Callable[[dict[str, Any], list[ir.StreamEvent]], None]


class StreamDecoder:
    """Feed the bytes of an Anthropic `stream: true` answer; get IR events back as they complete."""

    __slots__ = (
        "_done",
        "_handlers",
        "_index",
        "_next",
        "_parser",
        "_started",
        "_stop",
        "_stop_sequence",
        "_usage",
    )

    def __init__(self) -> None:
        self._parser = SSEParser()
        self._index: dict[int, int] = {}
        """Anthropic block index -> IR part index, for the blocks the IR holds."""
        self._next = 0
        self._usage: dict[str, Any] = {}
        """Anthropic's usage counters so far (message_start, overwritten by cumulative deltas)."""
        self._stop: object = None
        self._stop_sequence: str | None = None
        self._started = False
        self._done = False
        self._handlers: dict[str, _Handler] = {
            "content_block_delta": self._block_delta,
            "content_block_start": self._block_start,
            "content_block_stop": self._block_stop,
            "message_start": self._message_start,
            "message_delta": self._message_delta,
            "message_stop": self._message_stop,
            "error": self._error,
        }

    def feed(self, chunk: bytes) -> list[ir.StreamEvent]:
        """Consume `chunk` (any slice of the body) and return the events it completes."""
        out: list[ir.StreamEvent] = []
        if self._done:
            return out
        for sse in self._parser.feed(chunk):
            if sse.event != "ping":
                self._sse(sse, out)
                if self._done:
                    break
        return out

    def close(self) -> list[ir.StreamEvent]:
        """End of body: a stream without `message_stop` or `error` ends in a `stream_truncated` error."""
        out: list[ir.StreamEvent] = []
        if not self._done:
            for sse in self._parser.flush():
                self._sse(sse, out)
        if not self._done:
            self._done = True
            out.append(
                ir.StreamError(
                    kind="stream_truncated", message="the Anthropic stream ended before message_stop"
                )
            )
        return out

    def feed_json(self, event: dict[str, Any]) -> list[ir.StreamEvent]:
        """Consume one already-parsed stream event (`{"type": ..., ...}`)."""
        out: list[ir.StreamEvent] = []
        if not self._done:
            self._dispatch(event, out)
        return out

    def _sse(self, sse: SSEEvent, out: list[ir.StreamEvent]) -> None:
        try:
            event = _loads(sse.data)
        except orjson.JSONDecodeError:
            self._fail(out, f"an event's data is not JSON: {sse.data[:200]!r}")
            return
        if type(event) is dict:
            self._dispatch(event, out)
        else:
            self._fail(out, f"an event's data is not a JSON object: {sse.data[:200]!r}")

    def _dispatch(self, event: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        kind = event.get("type")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:  # ping, and event types added after this codec was written
            return
        try:
            handler(event, out)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            self._fail(out, f"malformed {event.get('type')} event: {exc!r}")

    def _fail(self, out: list[ir.StreamEvent], message: str) -> None:
        self._done = True
        out.append(ir.StreamError(kind=_PROTOCOL_ERROR, message=f"Anthropic stream: {message}", status=502))

    # --- handlers -------------------------------------------------------------------------

    def _message_start(self, event: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        if self._started:
            return
        message = event["message"]
        self._started = True
        self._usage = dict(message.get("usage") or {})
        out.append(
            ir.StreamStart(
                id=_text(message["id"]), model=_text(message["model"]), usage=usage_to_ir(self._usage)
            )
        )

    def _block_start(self, event: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        if not self._started:
            raise ValueError("content_block_start before message_start")
        block = event["content_block"]
        part, initial = _start_part(block)
        if part is None:
            return
        index = self._next
        self._next += 1
        self._index[event["index"]] = index
        out.append(ir.PartStart(index=index, part=part))
        if initial is not None:
            out.append(initial(index))

    def _block_delta(self, event: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        index = self._index.get(event["index"])
        if index is None:
            return
        delta = event["delta"]
        kind = delta["type"]
        if kind == "text_delta":
            text = delta["text"]
            if type(text) is not str:
                raise TypeError("text_delta.text is not a string")
            out.append(_TextDelta(index=index, text=text))
        elif kind == "input_json_delta":
            fragment = _text(delta["partial_json"])
            if fragment:
                out.append(ir.ToolArgsDelta(index=index, fragment=fragment))
        elif kind == "thinking_delta":
            thinking = _text(delta["thinking"])
            if thinking:
                out.append(ir.ReasoningDelta(index=index, text=thinking))
        elif kind == "signature_delta":
            out.append(ir.ReasoningDelta(index=index, signature=_text(delta["signature"])))
        # citations_delta and later delta types carry nothing the IR holds

    def _block_stop(self, event: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        index = self._index.pop(event["index"], None)
        if index is not None:
            out.append(ir.PartStop(index=index))

    def _message_delta(self, event: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        delta = event.get("delta") or {}
        self._stop = delta.get("stop_reason")
        self._stop_sequence = delta.get("stop_sequence")
        usage = self._usage
        for key, value in (event.get("usage") or {}).items():
            if value is not None:  # cumulative: each value replaces the one before
                usage[key] = value
        out.append(ir.UsageUpdate(usage=usage_to_ir(usage)))

    def _message_stop(self, event: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        self._done = True
        out.append(
            ir.StreamEnd(
                stop_reason=stop_to_ir(self._stop),
                stop_sequence=self._stop_sequence,
                usage=usage_to_ir(self._usage),
            )
        )

    def _error(self, event: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        self._done = True
        error = event.get("error")
        error = error if isinstance(error, dict) else {}
        kind = error.get("type")
        kind = kind if isinstance(kind, str) else "api_error"
        message = error.get("message")
        out.append(
            ir.StreamError(
                kind=kind,
                message=message if isinstance(message, str) else f"Anthropic stream error ({kind})",
                status=ERROR_TYPE_STATUS.get(kind, 500),
            )
        )


def _text(value: object) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


_Initial = Callable[[int], ir.StreamEvent] | None


def _start_part(
    block: dict[str, Any],
) -> tuple[ir.TextPart | ir.ReasoningPart | ir.ToolCallPart | None, _Initial]:
    """A `content_block_start` block -> its IR part and, if it already carries content, that delta."""
    kind = block["type"]
    if kind == "text":
        text = _text(block.get("text", ""))
        return ir.TextPart(text=""), (lambda i: ir.TextDelta(index=i, text=text)) if text else None
    if kind == "thinking":
        text = _text(block.get("thinking", ""))
        signature = block.get("signature") or None
        initial = (
            (lambda i: ir.ReasoningDelta(index=i, text=text, signature=signature))
            if text or signature
            else None
        )
        return ir.ReasoningPart(origin=ORIGIN), initial
    if kind == "redacted_thinking":
        return ir.ReasoningPart(redacted=_text(block["data"]), origin=ORIGIN), None
    if kind == "tool_use":
        arguments = block.get("input")
        fragment = orjson.dumps(arguments).decode() if arguments else ""
        part = ir.ToolCallPart(id=_text(block["id"]), name=_text(block["name"]), arguments="")
        return part, (lambda i: ir.ToolArgsDelta(index=i, fragment=fragment)) if fragment else None
    return None, None
