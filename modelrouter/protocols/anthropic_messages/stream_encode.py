"""Client side: IR stream events -> the SSE byte stream the anthropic SDKs (and Claude Code) parse.

The SDK accumulates blocks by list position (`content[event.index]`), so block indexes are
renumbered 0, 1, 2... in the order parts start, whatever the IR indexes were. Event sequence:
`message_start` (with usage), per part `content_block_start` / deltas / `content_block_stop`,
then `message_delta` (stop reason and final usage) and `message_stop` on `StreamEnd` only.
A `StreamError` becomes `event: error` with Anthropic's error shape, and the stream says
nothing more: never a `message_stop` after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import orjson

from modelrouter import ir
from modelrouter.protocols.anthropic_messages._wire import (
    SIGNATURE_ORIGINS,
    STOP_FROM_IR,
    delta_usage_from_ir,
    usage_from_ir,
)
from modelrouter.protocols.anthropic_messages.errors import error_type
from modelrouter.protocols.sse import encode_event

__all__ = ["StreamEncoder"]

_DELTA_HEAD: Final = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
_DELTA_TAIL: Final = b"}}\n\n"
_TEXT, _THINKING, _TOOL, _OTHER = 0, 1, 2, 3


class _Block:
    """One open content block: its wire index, kind, and its pre-built delta prefixes."""

    __slots__ = ("index", "kind", "open", "prefix", "signed")

    def __init__(self, index: int, kind: int, signed: bool) -> None:
        self.index = index
        self.kind = kind
        self.signed = signed
        self.open = True
        self.prefix = _DELTA_HEAD + str(index).encode() + b',"delta":{"type":'


class StreamEncoder:
    """Turns IR events into Anthropic SSE bytes for one answer; the gateway names the `model`."""

    __slots__ = ("_blocks", "_done", "_handlers", "_message_id", "_model", "_next", "_started", "_usage")

    def __init__(self, model: str, *, message_id: str | None = None) -> None:
        """Start an encoder; `message_id` overrides the provider's id (and stands in if none comes)."""
        self._model = model
        self._message_id = message_id
        self._blocks: dict[int, _Block] = {}
        self._next = 0
        self._usage: ir.Usage | None = None
        self._started = False
        self._done = False
        self._handlers: dict[type, Callable[[Any], bytes]] = {
            ir.TextDelta: self._text,
            ir.ToolArgsDelta: self._args,
            ir.ReasoningDelta: self._reasoning,
            ir.PartStart: self._part_start,
            ir.PartStop: self._part_stop,
            ir.UsageUpdate: self._usage_update,
            ir.StreamStart: self._stream_start,
            ir.StreamEnd: self._stream_end,
            ir.StreamError: self._stream_error,
        }

    def encode(self, event: ir.StreamEvent) -> bytes:
        """The SSE bytes for `event` (possibly b""); nothing is written after the stream ended."""
        if self._done:
            return b""
        return self._handlers[type(event)](event)

    # --- deltas (the hot path) ------------------------------------------------------------

    def _text(self, event: ir.TextDelta) -> bytes:
        block = self._blocks.get(event.index)
        if block is None or block.kind != _TEXT or not event.text:
            return b""
        return block.prefix + b'"text_delta","text":' + orjson.dumps(event.text) + _DELTA_TAIL

    def _args(self, event: ir.ToolArgsDelta) -> bytes:
        block = self._blocks.get(event.index)
        if block is None or block.kind != _TOOL or not event.fragment:
            return b""
        return (
            block.prefix + b'"input_json_delta","partial_json":' + orjson.dumps(event.fragment) + _DELTA_TAIL
        )

    def _reasoning(self, event: ir.ReasoningDelta) -> bytes:
        block = self._blocks.get(event.index)
        if block is None or block.kind != _THINKING:
            return b""
        out = b""
        if event.text:
            out = block.prefix + b'"thinking_delta","thinking":' + orjson.dumps(event.text) + _DELTA_TAIL
        if event.signature and block.signed:
            out += (
                block.prefix + b'"signature_delta","signature":' + orjson.dumps(event.signature) + _DELTA_TAIL
            )
        return out

    # --- parts ----------------------------------------------------------------------------

    def _part_start(self, event: ir.PartStart) -> bytes:
        out = self._ensure_started()
        previous = self._blocks.get(event.index)
        if previous is not None and previous.open:
            out += self._close(previous)
        part = event.part
        if isinstance(part, ir.TextPart):
            wire: dict[str, Any] | None = {"type": "text", "text": ""}
            kind, signed = _TEXT, False
        elif isinstance(part, ir.ToolCallPart):
            wire, kind, signed = (
                {"type": "tool_use", "id": part.id, "name": part.name, "input": {}},
                _TOOL,
                False,
            )
        else:
            signed = part.origin in SIGNATURE_ORIGINS
            wire, kind = _reasoning_start(part, signed)
        if wire is None:  # reasoning the client cannot be shown (see _wire.client_block)
            self._blocks.pop(event.index, None)
            return out
        block = _Block(self._next, kind, signed)
        self._next += 1
        self._blocks[event.index] = block
        start = {"type": "content_block_start", "index": block.index, "content_block": wire}
        return (
            out + encode_event(orjson.dumps(start), "content_block_start") + self._initial(event.index, part)
        )

    def _initial(self, index: int, part: ir.TextPart | ir.ReasoningPart | ir.ToolCallPart) -> bytes:
        """Content a decoder put in the `PartStart` itself, sent as the block's first delta."""
        if isinstance(part, ir.TextPart):
            return self._text(ir.TextDelta(index=index, text=part.text))
        if isinstance(part, ir.ToolCallPart):
            if part.arguments in ("", "{}"):  # "{}" is the IR default: no content yet
                return b""
            return self._args(ir.ToolArgsDelta(index=index, fragment=part.arguments))
        return self._reasoning(ir.ReasoningDelta(index=index, text=part.text, signature=part.signature))

    def _part_stop(self, event: ir.PartStop) -> bytes:
        block = self._blocks.get(event.index)
        if block is None or not block.open:
            return b""
        return self._close(block)

    def _close(self, block: _Block) -> bytes:
        block.open = False
        data = b'{"type":"content_block_stop","index":' + str(block.index).encode() + b"}"
        return encode_event(data, "content_block_stop")

    # --- message --------------------------------------------------------------------------

    def _ensure_started(self, event: ir.StreamStart | None = None) -> bytes:
        if self._started:
            return b""
        self._started = True
        message: dict[str, Any] = {
            "id": self._message_id or (event.id if event is not None else "msg_modelrouter"),
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage_from_ir(event.usage if event is not None else None),
        }
        return encode_event(orjson.dumps({"type": "message_start", "message": message}), "message_start")

    def _stream_start(self, event: ir.StreamStart) -> bytes:
        if event.usage is not None:
            self._usage = event.usage
        return self._ensure_started(event)

    def _usage_update(self, event: ir.UsageUpdate) -> bytes:
        self._usage = event.usage
        return b""

    def _stream_end(self, event: ir.StreamEnd) -> bytes:
        out = self._ensure_started()
        for block in self._blocks.values():
            if block.open:
                out += self._close(block)
        self._done = True
        usage = event.usage or self._usage or ir.Usage()
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": STOP_FROM_IR[event.stop_reason], "stop_sequence": event.stop_sequence},
            "usage": delta_usage_from_ir(usage),
        }
        return (
            out
            + encode_event(orjson.dumps(delta), "message_delta")
            + encode_event(b'{"type":"message_stop"}', "message_stop")
        )

    def _stream_error(self, event: ir.StreamError) -> bytes:
        self._done = True
        error = {
            "type": "error",
            "error": {"type": error_type(event.status, event.kind), "message": event.message},
        }
        return encode_event(orjson.dumps(error), "error")


def _reasoning_start(part: ir.ReasoningPart, signed: bool) -> tuple[dict[str, Any] | None, int]:
    """The `content_block_start` block for reasoning, by the rule of `_wire.client_block`.

    Thinking starts empty (its text and signature follow as deltas, as Anthropic sends them);
    a redacted blob is complete at the start, and a foreign one with no text is not shown.
    """
    if part.redacted is not None and (signed or not part.text):
        return ({"type": "redacted_thinking", "data": part.redacted} if signed else None), _OTHER
    return {"type": "thinking", "thinking": "", "signature": ""}, _THINKING
