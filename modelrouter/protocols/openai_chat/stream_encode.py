"""Client side: IR stream events to the SSE bytes of an OpenAI `chat.completion.chunk` stream.

The chunks follow OpenAI's own order: a role chunk first (sent with the first part, merged into
the first tool-call delta when the answer opens with one, as OpenAI does), then content, reasoning and
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


class _Reasoning:
    """A reasoning part being streamed: its `reasoning_details` index and format (sent once)."""

    __slots__ = ("announced", "format", "index")

    def __init__(self, index: int, fmt: str) -> None:
        self.index = index
        self.format = fmt
        self.announced = False

    def detail(self, kind: str, **fields: str) -> dict[str, Any]:
        """One entry; `format` only on the first, since SDK accumulators concatenate repeated strings."""
        entry: dict[str, Any] = {"type": kind, **fields}
        if not self.announced:
            entry["format"] = self.format
            self.announced = True
        entry["index"] = self.index
        return entry


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
        "_role_pending",
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
        self._role_pending = True
        """The role chunk waits for the first part: OpenAI merges it into a leading tool call."""
        self._usage: ir.Usage | None = None
        self._tools: dict[int, _Tool] = {}
        self._reasoning: dict[int, _Reasoning] = {}
        """IR part index -> its `reasoning_details` slot."""
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
        if type(event) is ir.TextDelta and not self._role_pending:
            return self._text_head + orjson.dumps(event.text) + self._text_tail
        if self._role_pending and isinstance(event, ir.TEXT_DELTAS):
            self._role_pending = False  # a delta without its PartStart: still send the role first
            return self._role() + self.encode(event)
        if isinstance(event, ir.ToolArgsDelta):
            return self._args(event)
        if isinstance(event, ir.ReasoningDelta):
            return self._reasoning_delta(event)
        if isinstance(event, ir.PartStart):
            if not self._role_pending:
                return self._part_start(event)
            self._role_pending = False
            if isinstance(event.part, ir.ToolCallPart):
                return self._part_start(event, role=True)
            return self._role() + self._part_start(event)
        if isinstance(event, ir.PartStop):
            return self._part_stop(event)
        return self._lifecycle(event)

    def _lifecycle(self, event: ir.StreamEvent) -> bytes:
        if isinstance(event, ir.StreamStart):
            self._templates(event.id, event.model, event.created)
            return b""
        if isinstance(event, ir.UsageUpdate):
            self._usage = event.usage
            return b""
        if isinstance(event, ir.StreamEnd):
            return self._end(event)
        if isinstance(event, ir.StreamError):
            self._done = True
            return b"data: " + orjson.dumps(error_body(event.kind, event.message)) + b"\n\n"
        return b""

    def _role(self) -> bytes:
        return self._head + b'{"role":"assistant","content":"","refusal":null}' + self._tail

    def _chunk(self, delta: dict[str, Any]) -> bytes:
        return self._head + orjson.dumps(delta) + self._tail

    def _part_start(self, event: ir.PartStart, *, role: bool = False) -> bytes:
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
            if role:  # OpenAI's first chunk of an answer that opens with a tool call
                return self._chunk(
                    {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}
                )
            return self._chunk({"tool_calls": [call]})
        slot = self._reasoning_slot(event.index, part.origin)
        details: list[dict[str, Any]] = []
        if part.redacted is not None:
            details.append(slot.detail("reasoning.encrypted", data=part.redacted))
        if part.text or part.signature:
            details.append(slot.detail("reasoning.text", **_text_fields(part.text, part.signature)))
        return self._reasoning_chunk(part.text, details)

    def _reasoning_slot(self, index: int, origin: str | None) -> _Reasoning:
        slot = self._reasoning.get(index)
        if slot is None:
            slot = self._reasoning[index] = _Reasoning(len(self._reasoning), format_of(origin))
        return slot

    def _reasoning_delta(self, event: ir.ReasoningDelta) -> bytes:
        if not event.text and not event.signature:
            return b""
        slot = self._reasoning_slot(event.index, None)
        detail = slot.detail("reasoning.text", **_text_fields(event.text, event.signature))
        return self._reasoning_chunk(event.text, [detail])

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
            (self._role() if self._role_pending else b"")
            + self._head
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


def _text_fields(text: str, signature: str | None) -> dict[str, str]:
    fields = {"text": text} if text else {}
    if signature:
        fields["signature"] = signature
    return fields
