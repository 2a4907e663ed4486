"""Client side: IR stream events -> the Responses API's named SSE events, one event at a time.

Order: `response.created`, `response.in_progress`; per part `response.output_item.added`
(and for text `response.content_part.added`), its deltas (`response.output_text.delta`,
`response.function_call_arguments.delta`, `response.reasoning_summary_text.delta`), the
matching `.done` events and `response.output_item.done`; then `response.completed` (or
`response.incomplete`) with the whole response and its usage. A provider error after the
start is an `error` event followed by `response.failed`: never a false completion.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from modelrouter import ir
from modelrouter.protocols.openai_responses.response import (
    _status,
    item_for,
    new_id,
    response_object,
)

__all__ = ["StreamEncoder"]

_DELTAS = (ir.TextDelta, ir.ToolArgsDelta, ir.ReasoningDelta)  # a tuple: see ir.TEXT_DELTAS
_PREFIX = {ir.TextPart: "msg", ir.ToolCallPart: "fc", ir.ReasoningPart: "rs"}


class StreamEncoder:
    """Encode one answer's IR events as Responses API SSE bytes."""

    def __init__(self, model: str, *, created: int | None = None) -> None:
        self.model = model
        self.created = created or int(time.time())
        self.response_id = new_id("resp")
        self._sequence = 0
        self._output: list[dict[str, Any]] = []
        self._open: dict[int, tuple[int, ir.TextPart | ir.ReasoningPart | ir.ToolCallPart, str]] = {}
        """IR part index -> (output index, the part being filled, its item id)."""
        self._summary_started: set[int] = set()
        self._usage: ir.Usage | None = None

    def _event(self, kind: str, **fields: Any) -> bytes:
        data = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return f"event: {kind}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"

    def _snapshot(self, status: str, **extra: Any) -> dict[str, Any]:
        return response_object(
            self.response_id, self.model, self.created, list(self._output), status=status, **extra
        )

    def encode(self, event: ir.StreamEvent) -> bytes:
        """The SSE bytes for one IR event (possibly none)."""
        if isinstance(event, _DELTAS):
            return self._delta(event)
        if isinstance(event, ir.StreamStart):
            self.model = event.model or self.model
            self._usage = event.usage
            snapshot = self._snapshot("in_progress")
            return self._event("response.created", response=snapshot) + self._event(
                "response.in_progress", response=snapshot
            )
        if isinstance(event, ir.PartStart):
            return self._start(event)
        if isinstance(event, ir.PartStop):
            return self._stop(event.index)
        if isinstance(event, ir.UsageUpdate):
            self._usage = event.usage
            return b""
        if isinstance(event, ir.StreamEnd):
            return self._end(event)
        return self._error(event)

    def _start(self, event: ir.PartStart) -> bytes:
        part = event.part
        item_id = new_id(_PREFIX[type(part)])
        fresh: ir.TextPart | ir.ReasoningPart | ir.ToolCallPart
        if isinstance(part, ir.TextPart):
            fresh = ir.TextPart(text="")
        elif isinstance(part, ir.ToolCallPart):
            fresh = ir.ToolCallPart(id=part.id, name=part.name, arguments="")
        else:
            fresh = ir.ReasoningPart(origin=part.origin)
        output_index = len(self._output)
        item = item_for(fresh, item_id, status="in_progress")
        assert item is not None
        if isinstance(fresh, ir.TextPart):
            item["content"] = []
        self._output.append(item)
        self._open[event.index] = (output_index, fresh, item_id)
        out = self._event("response.output_item.added", output_index=output_index, item=item)
        if isinstance(fresh, ir.TextPart):
            part_object = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            out += self._event(
                "response.content_part.added",
                item_id=item_id,
                output_index=output_index,
                content_index=0,
                part=part_object,
            )
        return out

    def _delta(self, event: ir.TextDelta | ir.ToolArgsDelta | ir.ReasoningDelta) -> bytes:
        found = self._open.get(event.index)
        if found is None:
            return b""
        output_index, part, item_id = found
        if isinstance(event, ir.TextDelta) and isinstance(part, ir.TextPart):
            part.text += event.text
            return self._event(
                "response.output_text.delta",
                item_id=item_id,
                output_index=output_index,
                content_index=0,
                delta=event.text,
                logprobs=[],
            )
        if isinstance(event, ir.ToolArgsDelta) and isinstance(part, ir.ToolCallPart):
            part.arguments += event.fragment
            return self._event(
                "response.function_call_arguments.delta",
                item_id=item_id,
                output_index=output_index,
                delta=event.fragment,
            )
        if isinstance(event, ir.ReasoningDelta) and isinstance(part, ir.ReasoningPart) and event.text:
            out = b""
            if event.index not in self._summary_started:
                self._summary_started.add(event.index)
                out += self._event(
                    "response.reasoning_summary_part.added",
                    item_id=item_id,
                    output_index=output_index,
                    summary_index=0,
                    part={"type": "summary_text", "text": ""},
                )
            part.text += event.text
            return out + self._event(
                "response.reasoning_summary_text.delta",
                item_id=item_id,
                output_index=output_index,
                summary_index=0,
                delta=event.text,
            )
        return b""

    def _stop(self, index: int) -> bytes:
        found = self._open.pop(index, None)
        if found is None:
            return b""
        output_index, part, item_id = found
        item = item_for(part, item_id)
        assert item is not None
        self._output[output_index] = item
        out = b""
        if isinstance(part, ir.TextPart):
            out += self._event(
                "response.output_text.done",
                item_id=item_id,
                output_index=output_index,
                content_index=0,
                text=part.text,
                logprobs=[],
            )
            out += self._event(
                "response.content_part.done",
                item_id=item_id,
                output_index=output_index,
                content_index=0,
                part=item["content"][0],
            )
        elif isinstance(part, ir.ToolCallPart):
            out += self._event(
                "response.function_call_arguments.done",
                item_id=item_id,
                output_index=output_index,
                name=part.name,
                arguments=part.arguments,
            )
        elif index in self._summary_started:
            out += self._event(
                "response.reasoning_summary_text.done",
                item_id=item_id,
                output_index=output_index,
                summary_index=0,
                text=part.text,
            )
            out += self._event(
                "response.reasoning_summary_part.done",
                item_id=item_id,
                output_index=output_index,
                summary_index=0,
                part={"type": "summary_text", "text": part.text},
            )
        return out + self._event("response.output_item.done", output_index=output_index, item=item)

    def _end(self, event: ir.StreamEnd) -> bytes:
        out = b"".join(self._stop(index) for index in list(self._open))
        status, incomplete = _status(event.stop_reason)
        usage = event.usage or self._usage or ir.Usage()
        snapshot = self._snapshot(status, usage=usage, incomplete=incomplete)
        kind = "response.completed" if status == "completed" else "response.incomplete"
        return out + self._event(kind, response=snapshot)

    def _error(self, event: ir.StreamError) -> bytes:
        error = {"code": event.kind, "message": event.message}
        out = self._event("error", code=event.kind, message=event.message, param=None)
        return out + self._event("response.failed", response=self._snapshot("failed", error=error))
