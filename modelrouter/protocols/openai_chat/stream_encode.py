"""Client side: IR stream events to the SSE bytes of an OpenAI `chat.completion.chunk` stream.

The chunks follow OpenAI's own order: a role chunk first, then content, reasoning and
tool-call deltas (a call's first delta carries `index`, `id`, `type` and the name with empty
arguments; later ones only argument fragments), a chunk with `delta: {}` and the
`finish_reason`, then (only when the client asked for `include_usage`) a `choices: []` chunk
with the usage, then `data: [DONE]`. An error ends the stream with `data: {"error": {...}}`
and no `[DONE]`. Every chunk's fixed JSON is built once per stream, so a text delta costs one
string serialisation and three concatenations.
"""

from __future__ import annotations

from typing import Any

import orjson

from modelrouter import ir
from modelrouter.protocols.openai_chat._common import embed_signature, encode_usage, finish_reason, format_of
from modelrouter.protocols.openai_chat.errors import error_body

__all__ = ["StreamEncoder"]

_DONE = b"data: [DONE]\n\n"


class _Tool:
    """A tool call being streamed: its wire `index`, its byte prefix, and arguments not yet sent."""

    __slots__ = ("pending", "prefix", "sent")

    def __init__(self, prefix: bytes, pending: str) -> None:
        self.prefix = prefix
        self.pending = pending
        """`PartStart`'s arguments, sent at `PartStop` only if no `ToolArgsDelta` came."""
        self.sent = False


class StreamEncoder:
    """Encode one answer's IR events for an OpenAI client; `encode` returns bytes to send at once.

    Args:
        include_usage: The client sent `stream_options.include_usage: true`.
        model: The model name the client sees in every chunk (default: `StreamStart.model`).
        created: Unix seconds for chunks when `StreamStart.created` is None (codecs read no clock).
        completion_id: The chunk `id` (default: `StreamStart.id`).
    """

    __slots__ = (
        "_created",
        "_done",
        "_head",
        "_id",
        "_include_usage",
        "_meta",
        "_model",
        "_reasoning",
        "_tail",
        "_text_head",
        "_text_tail",
        "_tools",
        "_usage",
    )

    def __init__(
        self,
        include_usage: bool = False,
        model: str | None = None,
        *,
        created: int | None = None,
        completion_id: str | None = None,
    ) -> None:
        self._include_usage = include_usage
        self._model = model
        self._created = created
        self._id = completion_id
        self._done = False
        self._usage: ir.Usage | None = None
        self._tools: dict[int, _Tool] = {}
        self._reasoning: dict[int, tuple[int, str]] = {}
        """IR part index -> (`reasoning_details` index, format)."""
        self._templates("", "", None)

    def _templates(self, chunk_id: str, model: str, created: int | None) -> None:
        self._meta = (
            b'data: {"id":'
            + orjson.dumps(self._id if self._id is not None else chunk_id)
            + b',"object":"chat.completion.chunk","created":'
            + str(created if created is not None else self._created or 0).encode()
            + b',"model":'
            + orjson.dumps(self._model if self._model is not None else model)
            + b","
        )
        self._head = self._meta + b'"choices":[{"index":0,"delta":'
        self._tail = (
            b',"logprobs":null,"finish_reason":null}]'
            + (b',"usage":null' if self._include_usage else b"")
            + b"}\n\n"
        )
        self._text_head = self._head + b'{"content":'
        self._text_tail = b"}" + self._tail

    def encode(self, event: ir.StreamEvent) -> bytes:
        """The SSE bytes for one event (often b""); nothing after `StreamEnd` or `StreamError`."""
        if self._done:
            return b""
        if type(event) is ir.TextDelta:
            return self._text_head + orjson.dumps(event.text) + self._text_tail
        if isinstance(event, ir.ToolArgsDelta):
            return self._args(event)
        if isinstance(event, ir.ReasoningDelta):
            return self._reasoning_delta(event)
        if isinstance(event, ir.PartStart):
            return self._part_start(event)
        if isinstance(event, ir.PartStop):
            return self._part_stop(event)
        return self._lifecycle(event)

    def _lifecycle(self, event: ir.StreamEvent) -> bytes:
        if isinstance(event, ir.StreamStart):
            self._templates(event.id, event.model, event.created)
            return self._head + b'{"role":"assistant","content":"","refusal":null}' + self._tail
        if isinstance(event, ir.UsageUpdate):
            self._usage = event.usage
            return b""
        if isinstance(event, ir.StreamEnd):
            return self._end(event)
        if isinstance(event, ir.StreamError):
            self._done = True
            return b"data: " + orjson.dumps(error_body(event.kind, event.message)) + b"\n\n"
        return b""

    def _chunk(self, delta: dict[str, Any]) -> bytes:
        return self._head + orjson.dumps(delta) + self._tail

    def _part_start(self, event: ir.PartStart) -> bytes:
        part = event.part
        if isinstance(part, ir.TextPart):
            return self._text_head + orjson.dumps(part.text) + self._text_tail if part.text else b""
        if isinstance(part, ir.ToolCallPart):
            wire = len(self._tools)  # calls are numbered 0, 1, ... in the order they start
            self._tools[event.index] = _Tool(
                self._head + b'{"tool_calls":[{"index":' + str(wire).encode() + b',"function":{"arguments":',
                part.arguments,
            )
            call = {
                "index": wire,
                "id": embed_signature(part.id, part.signature),
                "type": "function",
                "function": {"name": part.name, "arguments": ""},
            }
            return self._chunk({"tool_calls": [call]})
        detail_index, fmt = self._reasoning_slot(event.index, part.origin)
        details: list[dict[str, Any]] = []
        if part.redacted is not None:
            details.append(
                {"type": "reasoning.encrypted", "data": part.redacted, "format": fmt, "index": detail_index}
            )
        if part.text or part.signature:
            details.append(_text_detail(part.text, part.signature, fmt, detail_index))
        return self._reasoning_chunk(part.text, details)

    def _reasoning_slot(self, index: int, origin: str | None) -> tuple[int, str]:
        slot = self._reasoning.get(index)
        if slot is None:
            slot = self._reasoning[index] = (len(self._reasoning), format_of(origin))
        return slot

    def _reasoning_delta(self, event: ir.ReasoningDelta) -> bytes:
        if not event.text and not event.signature:
            return b""
        detail_index, fmt = self._reasoning_slot(event.index, None)
        return self._reasoning_chunk(
            event.text, [_text_detail(event.text, event.signature, fmt, detail_index)]
        )

    def _reasoning_chunk(self, text: str, details: list[dict[str, Any]]) -> bytes:
        delta: dict[str, Any] = {}
        if text:
            delta["reasoning_content"] = text
        if details:
            delta["reasoning_details"] = details
        return self._chunk(delta) if delta else b""

    def _args(self, event: ir.ToolArgsDelta) -> bytes:
        tool = self._tools.get(event.index)
        if tool is None or not event.fragment:
            return b""
        tool.sent = True
        return tool.prefix + orjson.dumps(event.fragment) + b"}}]}" + self._tail

    def _part_stop(self, event: ir.PartStop) -> bytes:
        tool = self._tools.get(event.index)
        if tool is None or tool.sent or not tool.pending:
            return b""
        tool.sent = True
        return tool.prefix + orjson.dumps(tool.pending) + b"}}]}" + self._tail

    def _end(self, event: ir.StreamEnd) -> bytes:
        self._done = True
        finish = (
            self._head
            + b'{},"logprobs":null,"finish_reason":"'
            + finish_reason(event.stop_reason).encode()
            + b'"}]'
            + (b',"usage":null' if self._include_usage else b"")
            + b"}\n\n"
        )
        if not self._include_usage:
            return finish + _DONE
        usage = event.usage or self._usage or ir.Usage()
        return (
            finish
            + self._meta
            + b'"choices":[],"usage":'
            + orjson.dumps(encode_usage(usage))
            + b"}\n\n"
            + _DONE
        )


def _text_detail(text: str, signature: str | None, fmt: str, index: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "reasoning.text"}
    if text:
        entry["text"] = text
    if signature:
        entry["signature"] = signature
    entry["format"] = fmt
    entry["index"] = index
    return entry
