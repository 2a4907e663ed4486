"""Provider side: ConverseStream (binary event-stream) -> IR stream events, incrementally.

Events: messageStart, then per block an optional contentBlockStart (tool use; text and
reasoning blocks start with their first delta), contentBlockDelta…, contentBlockStop, then
messageStop (the stop reason) and metadata (the usage). The answer ends at metadata, or at the
end of the body after messageStop; without messageStop it was cut short. `exception` and
`error` messages become a `StreamError` with the status Bedrock gives that exception.
"""

from __future__ import annotations

from typing import Any

import orjson

from modelrouter import ir
from modelrouter.errors import UpstreamProtocolError
from modelrouter.protocols.bedrock_converse._wire import EXCEPTION_STATUS, ORIGIN, stop_to_ir, usage_to_ir
from modelrouter.protocols.bedrock_converse.response import new_id
from modelrouter.protocols.eventstream import EventMessage, EventStreamDecoder

__all__ = ["StreamDecoder"]


class StreamDecoder:
    """Feed the bytes of a ConverseStream answer; get IR events back as they complete."""

    __slots__ = ("_blocks", "_done", "_frames", "_id", "_next", "_signed", "_started", "_stop")

    def __init__(self, *, response_id: str | None = None) -> None:
        self._frames = EventStreamDecoder()
        self._id = response_id or new_id()
        self._blocks: dict[int, tuple[int, str]] = {}
        """Bedrock block index -> (IR part index, kind) for the blocks open now."""
        self._signed: set[int] = set()
        self._next = 0
        self._stop: ir.StopReason | None = None
        self._started = False
        self._done = False

    def feed(self, chunk: bytes) -> list[ir.StreamEvent]:
        """Consume `chunk` (any slice of the body) and return the events it completes."""
        out: list[ir.StreamEvent] = []
        for message in self._frames.feed(chunk):
            if self._done:
                break
            self._message(message, out)
        return out

    def close(self) -> list[ir.StreamEvent]:
        """End of body: after messageStop the answer is complete (usage unknown), else cut short."""
        out: list[ir.StreamEvent] = []
        if not self._done:
            self._close_blocks(out)
            if self._stop is not None:
                out.append(ir.StreamEnd(stop_reason=self._stop))
            else:
                detail = f" ({self._frames.pending} bytes of a partial frame)" if self._frames.pending else ""
                out.append(
                    ir.StreamError(kind="stream_truncated", message=f"the Bedrock stream ended early{detail}")
                )
            self._done = True
        return out

    # --- messages ------------------------------------------------------------------------------

    def _message(self, message: EventMessage, out: list[ir.StreamEvent]) -> None:
        kind = message.headers.get(":message-type")
        if kind == "exception":
            name = str(message.headers.get(":exception-type") or "exception")
            self._fail(name, _message_text(message.payload), out)
            return
        if kind == "error":
            code = str(message.headers.get(":error-code") or "error")
            self._fail(code, str(message.headers.get(":error-message") or ""), out)
            return
        try:
            data = orjson.loads(message.payload) if message.payload else {}
        except orjson.JSONDecodeError as exc:
            raise UpstreamProtocolError(
                f"Bedrock stream event is not JSON: {message.payload[:200]!r}"
            ) from exc
        event = str(message.headers.get(":event-type"))
        if not self._started and event != "messageStart":
            self._start(out)
        handler = _HANDLERS.get(event)
        if handler is None:
            return
        try:
            handler(self, data, out)
        except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
            raise UpstreamProtocolError(f"malformed Bedrock {event} event: {exc!r}") from exc

    def _fail(self, name: str, text: str, out: list[ir.StreamEvent]) -> None:
        self._close_blocks(out)
        status = EXCEPTION_STATUS.get(name.lower())
        kind = "overloaded_error" if status == 503 else name
        out.append(ir.StreamError(kind=kind, message=f"Bedrock {name}: {text}", status=status))
        self._done = True

    def _start(self, out: list[ir.StreamEvent]) -> None:
        out.append(ir.StreamStart(id=self._id, model=""))
        self._started = True

    def _message_start(self, data: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        if not self._started:
            self._start(out)

    def _open(
        self,
        block: int,
        kind: str,
        part: ir.TextPart | ir.ReasoningPart | ir.ToolCallPart,
        out: list[ir.StreamEvent],
    ) -> int:
        index = self._next
        self._next += 1
        self._blocks[block] = (index, kind)
        out.append(ir.PartStart(index=index, part=part))
        return index

    def _block_start(self, data: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        use = (data.get("start") or {}).get("toolUse")
        if isinstance(use, dict):
            call = ir.ToolCallPart(id=str(use.get("toolUseId")), name=str(use.get("name")), arguments="")
            self._open(int(data.get("contentBlockIndex") or 0), "tool", call, out)

    def _block_delta(self, data: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        block = int(data.get("contentBlockIndex") or 0)
        delta = data.get("delta") or {}
        open_block = self._blocks.get(block)
        if "text" in delta:
            index = open_block[0] if open_block else self._open(block, "text", ir.TextPart(text=""), out)
            out.append(ir.TextDelta(index=index, text=str(delta["text"])))
        elif "toolUse" in delta and open_block is not None:
            out.append(
                ir.ToolArgsDelta(index=open_block[0], fragment=str(delta["toolUse"].get("input") or ""))
            )
        elif isinstance(delta.get("reasoningContent"), dict):
            self._reasoning(block, open_block, delta["reasoningContent"], out)

    def _reasoning(
        self, block: int, open_block: tuple[int, str] | None, delta: dict[str, Any], out: list[ir.StreamEvent]
    ) -> None:
        if "redactedContent" in delta:
            if open_block is not None:
                self._stop_block(block, out)
            self._open(
                block,
                "redacted",
                ir.ReasoningPart(redacted=str(delta["redactedContent"]), origin=ORIGIN),
                out,
            )
            return
        index = (
            open_block[0]
            if open_block
            else self._open(block, "reasoning", ir.ReasoningPart(origin=ORIGIN), out)
        )
        if delta.get("text"):
            out.append(ir.ReasoningDelta(index=index, text=str(delta["text"])))
        if delta.get("signature"):
            out.append(ir.ReasoningDelta(index=index, signature=str(delta["signature"])))

    def _block_stop(self, data: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        self._stop_block(int(data.get("contentBlockIndex") or 0), out)

    def _stop_block(self, block: int, out: list[ir.StreamEvent]) -> None:
        found = self._blocks.pop(block, None)
        if found is not None:
            out.append(ir.PartStop(index=found[0]))

    def _close_blocks(self, out: list[ir.StreamEvent]) -> None:
        for block in sorted(self._blocks):
            self._stop_block(block, out)

    def _message_stop(self, data: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        self._close_blocks(out)
        self._stop = stop_to_ir(data.get("stopReason"))

    def _metadata(self, data: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        usage = usage_to_ir(data.get("usage"))
        if self._stop is None:
            out.append(ir.UsageUpdate(usage=usage))
            return
        out.append(ir.StreamEnd(stop_reason=self._stop, usage=usage))
        self._done = True


_HANDLERS = {
    "messageStart": StreamDecoder._message_start,
    "contentBlockStart": StreamDecoder._block_start,
    "contentBlockDelta": StreamDecoder._block_delta,
    "contentBlockStop": StreamDecoder._block_stop,
    "messageStop": StreamDecoder._message_stop,
    "metadata": StreamDecoder._metadata,
}


def _message_text(payload: bytes) -> str:
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload[:300].decode(errors="replace")
    return str(data.get("message") or data.get("Message") or "") if isinstance(data, dict) else str(data)
