"""Gemini answer parts -> IR stream events: one state machine for whole answers and streams.

Gemini splits text freely and puts `thoughtSignature` on whatever part it likes, so the
rules live in one place and `decode_response` folds the same events a stream would give:

* consecutive text parts are one IR text part; consecutive thought parts one reasoning part,
  until that part has received its signature;
* a signature on a thought part is that reasoning part's signature; on a function call it is
  `ToolCallPart.signature`; on a text part it becomes a signature-only `ReasoningPart` right
  after that text (the request encoder puts it back on the part before it);
* function calls arrive whole: start, all arguments, stop; a call without an id gets a stable
  generated one;
* other kinds (executable code, inline media in answers) have no IR form and are skipped.
"""

from __future__ import annotations

from typing import Any

import orjson

from modelrouter import ir
from modelrouter.protocols.gemini._wire import ORIGIN, call_id

__all__ = ["PartEvents", "fold"]


class PartEvents:
    """Feed Gemini parts in order; get the IR events they complete."""

    __slots__ = ("_calls", "_kind", "_next", "_open", "_signed", "response_id")

    def __init__(self, response_id: str) -> None:
        self.response_id = response_id
        self._calls = 0
        self._next = 0
        self._open: int | None = None
        self._kind = ""
        self._signed = False

    @property
    def called_tools(self) -> bool:
        """Whether any function call has been seen."""
        return self._calls > 0

    def feed(self, part: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        """Append the events of one part to `out`."""
        signature = part.get("thoughtSignature")
        if "functionCall" in part:
            self._call(part.get("functionCall") or {}, signature, out)
        elif part.get("thought"):
            self._thought(str(part.get("text") or ""), signature, out)
        elif "text" in part:
            self._text(str(part.get("text") or ""), signature, out)

    def close(self, out: list[ir.StreamEvent]) -> None:
        """Close the part still open, if any."""
        if self._open is not None:
            out.append(ir.PartStop(index=self._open))
            self._open = None

    def _start(
        self, part: ir.TextPart | ir.ReasoningPart | ir.ToolCallPart, kind: str, out: list[ir.StreamEvent]
    ) -> int:
        self.close(out)
        index = self._next
        self._next += 1
        out.append(ir.PartStart(index=index, part=part))
        self._open, self._kind, self._signed = index, kind, False
        return index

    def _thought(self, text: str, signature: str | None, out: list[ir.StreamEvent]) -> None:
        if self._open is None or self._kind != "thought" or self._signed:
            self._start(ir.ReasoningPart(origin=ORIGIN), "thought", out)
        assert self._open is not None
        if text:
            out.append(ir.ReasoningDelta(index=self._open, text=text))
        if signature:
            out.append(ir.ReasoningDelta(index=self._open, signature=signature))
            self._signed = True

    def _text(self, text: str, signature: str | None, out: list[ir.StreamEvent]) -> None:
        if text:
            if self._open is None or self._kind != "text":
                self._start(ir.TextPart(text=""), "text", out)
            assert self._open is not None
            out.append(ir.TextDelta(index=self._open, text=text))
        if signature:
            index = self._start(ir.ReasoningPart(origin=ORIGIN), "signature", out)
            out.append(ir.ReasoningDelta(index=index, signature=signature))
            self.close(out)

    def _call(self, call: dict[str, Any], signature: str | None, out: list[ir.StreamEvent]) -> None:
        name = str(call.get("name") or "")
        args = call.get("args") or {}
        ident = str(call.get("id") or call_id(self.response_id, self._calls, name, args))
        self._calls += 1
        index = self._start(
            ir.ToolCallPart(id=ident, name=name, arguments="", signature=signature), "call", out
        )
        out.append(ir.ToolArgsDelta(index=index, fragment=orjson.dumps(args).decode()))
        self.close(out)


def fold(events: list[ir.StreamEvent]) -> list[ir.Part]:
    """The parts a list of part events describes."""
    parts: dict[int, ir.TextPart | ir.ReasoningPart | ir.ToolCallPart] = {}
    for event in events:
        if isinstance(event, ir.PartStart):
            parts[event.index] = event.part
        elif isinstance(event, ir.TextDelta):
            text = parts[event.index]
            assert isinstance(text, ir.TextPart)
            text.text += event.text
        elif isinstance(event, ir.ReasoningDelta):
            reasoning = parts[event.index]
            assert isinstance(reasoning, ir.ReasoningPart)
            reasoning.text += event.text
            reasoning.signature = event.signature or reasoning.signature
        elif isinstance(event, ir.ToolArgsDelta):
            call = parts[event.index]
            assert isinstance(call, ir.ToolCallPart)
            call.arguments += event.fragment
    return [parts[i] for i in sorted(parts)]
