"""Provider side: an OpenAI-compatible SSE stream of `chat.completion.chunk`s to IR stream events.

The decoder is a state machine fed raw bytes in any split. It opens an IR part when a new kind
of delta begins (reasoning, text, a tool call of a new `index`) and closes the open part
then, so parts never interleave. It reads only the first choice. Usage may arrive in the
finish chunk (DeepSeek), in a `choices: []` chunk after it (OpenAI with `include_usage`), or in
a chunk with an empty delta after it (OpenRouter), so `StreamEnd` waits for `data: [DONE]`.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from modelrouter import ir
from modelrouter.protocols.openai_chat._common import (
    ORIGIN_OPENROUTER,
    ORIGIN_REASONING_CONTENT,
    Malformed,
    decode_usage,
    detail_fields,
    split_tool_call_id,
    stop_reason,
    tool_call_signature,
)
from modelrouter.protocols.openai_chat.errors import classify
from modelrouter.protocols.sse import SSEParser

__all__ = ["StreamDecoder"]

_KEY_REASONING_CONTENT: Final = "reasoning_content"
_KEY_REASONING: Final = "reasoning"
_STATUS_OF_TYPE: Final = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "overloaded_error": 503,
}


class StreamDecoder:
    """Feed the provider's response bytes; get IR stream events (see the module doc for the rules)."""

    __slots__ = (
        "_done",
        "_index",
        "_key",
        "_kind",
        "_next",
        "_refusal",
        "_saw_calls",
        "_seen_tools",
        "_sse",
        "_started",
        "_stop",
        "_usage",
    )

    def __init__(self) -> None:
        self._sse = SSEParser()
        self._started = False
        self._done = False
        self._kind: str | None = None
        """Kind of the open part: "text", "reasoning", "tool", or None when none is open."""
        self._key: int | str | None = None
        """Which reasoning field or details index, or which tool-call index, the open part follows."""
        self._index = 0
        self._next = 0
        self._seen_tools: set[int] = set()
        self._saw_calls = False
        self._refusal = False
        self._stop: ir.StopReason | None = None
        self._usage: ir.Usage | None = None

    def feed(self, chunk: bytes) -> list[ir.StreamEvent]:
        """Consume the next bytes; return the events they complete."""
        out: list[ir.StreamEvent] = []
        if self._done:
            return out
        for event in self._sse.feed(chunk):
            self._event(event.data, out)
            if self._done:
                break
        return out

    def close(self) -> list[ir.StreamEvent]:
        """End of the body: a stream that never sent `data: [DONE]` (or an error) was truncated."""
        out: list[ir.StreamEvent] = []
        if not self._done:
            for event in self._sse.flush():
                self._event(event.data, out)
        if not self._done:
            self._done = True
            out.append(
                ir.StreamError(
                    kind="stream_truncated", message="the provider's stream ended before `data: [DONE]`"
                )
            )
        return out

    # --- one SSE event ----------------------------------------------------------------------

    def _event(self, data: str, out: list[ir.StreamEvent]) -> None:
        if data == "[DONE]":
            self._end(out)
            return
        if not data or data.isspace():  # an empty `data:` line, which some proxies send to keep alive
            return
        try:
            chunk = orjson.loads(data)
            if self._kind == "text" and self._more_text(chunk, out):
                return
            if not isinstance(chunk, dict):
                raise Malformed("a chunk is not a JSON object")
            if chunk.get("error"):
                self._error(chunk["error"], out)
            else:
                self._chunk(chunk, out)
        except (orjson.JSONDecodeError, Malformed) as exc:
            self._done = True
            out.append(
                ir.StreamError(
                    kind="upstream_protocol_error",
                    message=f"the provider's stream is not a chat completion stream: {exc}",
                )
            )

    def _more_text(self, chunk: Any, out: list[ir.StreamEvent]) -> bool:
        """The hot path: one more text delta for the open text part, in OpenAI's plainest shape.

        Anything else (another field in the delta, a finish reason, usage) returns False and
        takes the general path.
        """
        try:
            (choice,) = chunk["choices"]
            delta = choice["delta"]
            text = delta["content"]
        except (KeyError, TypeError, ValueError):
            return False
        if (
            type(text) is not str
            or not text
            or len(delta) != 1
            or choice.get("finish_reason") is not None
            or chunk.get("usage")
            or "error" in chunk
        ):
            return False
        out.append(ir.TextDelta(index=self._index, text=text))
        return True

    def _chunk(self, chunk: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        choices = chunk.get("choices")
        if choices:
            if not self._started:
                self._start(chunk, out)
            choice = choices[0] if isinstance(choices, list) else None
            if not isinstance(choice, dict):
                raise Malformed("`choices[0]` must be an object")
            delta = choice.get("delta")
            if delta:
                if not isinstance(delta, dict):
                    raise Malformed("`choices[0].delta` must be an object")
                self._delta(delta, out)
            finish = choice.get("finish_reason")
            if finish is not None:
                self._close(out)
                self._stop = stop_reason(finish, has_tool_calls=self._saw_calls)
        usage = chunk.get("usage")
        if usage:
            if not self._started:
                self._start(chunk, out)
            self._usage = decode_usage(usage)
            if self._usage is not None:
                out.append(ir.UsageUpdate(usage=self._usage))

    def _start(self, chunk: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        self._started = True
        created = chunk.get("created")
        out.append(
            ir.StreamStart(
                id=str(chunk.get("id") or ""),
                model=str(chunk.get("model") or ""),
                created=created if isinstance(created, int) and not isinstance(created, bool) else None,
            )
        )

    def _delta(self, delta: dict[str, Any], out: list[ir.StreamEvent]) -> None:
        details = delta.get("reasoning_details")
        if details:
            self._details(details, out)
        else:
            text = delta.get("reasoning_content")
            if text:
                self._reasoning(_KEY_REASONING_CONTENT, ORIGIN_REASONING_CONTENT, _str(text), None, None, out)
            else:
                text = delta.get("reasoning")
                if text:
                    self._reasoning(_KEY_REASONING, ORIGIN_OPENROUTER, _str(text), None, None, out)
        content = delta.get("content")
        if content:
            self._text(_str(content), out)
        refusal = delta.get("refusal")
        if refusal:
            self._refusal = True
            self._text(_str(refusal), out)
        calls = delta.get("tool_calls")
        if calls:
            self._tool_calls(calls, out)

    # --- parts ------------------------------------------------------------------------------

    def _open(
        self,
        kind: str,
        key: int | str | None,
        part: ir.TextPart | ir.ReasoningPart | ir.ToolCallPart,
        out: list[ir.StreamEvent],
    ) -> None:
        self._close(out)
        self._kind, self._key, self._index = kind, key, self._next
        self._next += 1
        out.append(ir.PartStart(index=self._index, part=part))

    def _close(self, out: list[ir.StreamEvent]) -> None:
        if self._kind is not None:
            out.append(ir.PartStop(index=self._index))
            self._kind = None

    def _text(self, text: str, out: list[ir.StreamEvent]) -> None:
        if self._kind != "text":
            self._open("text", None, ir.TextPart(text=""), out)
        out.append(ir.TextDelta(index=self._index, text=text))

    def _details(self, details: object, out: list[ir.StreamEvent]) -> None:
        if not isinstance(details, list):
            raise Malformed("`delta.reasoning_details` must be a list")
        for position, entry in enumerate(details):
            fields = detail_fields(entry, position)
            if fields is not None:
                index, text, signature, data, origin = fields
                self._reasoning(index, origin, text, signature, data, out)

    def _reasoning(
        self,
        key: int | str,
        origin: str,
        text: str,
        signature: str | None,
        data: str | None,
        out: list[ir.StreamEvent],
    ) -> None:
        if data:
            # An encrypted blob starts its own part: ReasoningDelta cannot carry one.
            self._open("reasoning", key, ir.ReasoningPart(redacted=data, origin=origin), out)
        elif self._kind != "reasoning" or self._key != key:
            if not text and not signature:
                return
            self._open("reasoning", key, ir.ReasoningPart(origin=origin), out)
        if text or signature:
            out.append(ir.ReasoningDelta(index=self._index, text=text, signature=signature))

    def _tool_calls(self, calls: object, out: list[ir.StreamEvent]) -> None:
        if not isinstance(calls, list):
            raise Malformed("`delta.tool_calls` must be a list")
        for position, call in enumerate(calls):
            if not isinstance(call, dict):
                raise Malformed("each `delta.tool_calls` entry must be an object")
            wire = call.get("index", position)
            function = call.get("function") or {}
            if not isinstance(wire, int) or not isinstance(function, dict):
                raise Malformed("a tool-call delta needs an integer `index` and an object `function`")
            arguments = function.get("arguments")
            if wire not in self._seen_tools:
                self._start_tool(wire, call, function, out)
            elif self._kind != "tool" or self._key != wire:
                if arguments:
                    raise Malformed(f"tool call {wire} sent arguments after another part had begun")
                continue
            if arguments:
                out.append(ir.ToolArgsDelta(index=self._index, fragment=_str(arguments)))

    def _start_tool(
        self, wire: int, call: dict[str, Any], function: dict[str, Any], out: list[ir.StreamEvent]
    ) -> None:
        self._seen_tools.add(wire)
        self._saw_calls = True
        call_id = call.get("id")
        name = function.get("name")
        tool_call_id, signature = split_tool_call_id(
            call_id if isinstance(call_id, str) and call_id else f"call_{wire}"
        )
        part = ir.ToolCallPart(
            id=tool_call_id,
            name=name if isinstance(name, str) else "",
            arguments="",
            signature=tool_call_signature(call) or signature,
        )
        self._open("tool", wire, part, out)

    # --- endings ----------------------------------------------------------------------------

    def _end(self, out: list[ir.StreamEvent]) -> None:
        if not self._started:
            self._start({}, out)
        self._close(out)
        stop = self._stop or stop_reason(None, has_tool_calls=self._saw_calls)
        if self._refusal and stop == "end_turn":
            stop = "refusal"
        out.append(ir.StreamEnd(stop_reason=stop, usage=self._usage))
        self._done = True

    def _error(self, error: object, out: list[ir.StreamEvent]) -> None:
        """An in-stream error (`data: {"error": {...}}`, OpenAI's and OpenRouter's form)."""
        self._done = True
        fields = error if isinstance(error, dict) else {"message": str(error)}
        code, kind = fields.get("code"), fields.get("type")
        if isinstance(code, int) and 400 <= code <= 599:
            status = code
        else:
            status = _STATUS_OF_TYPE.get(kind if isinstance(kind, str) else "", 500)
        codes = " ".join(str(v) for v in (code, kind) if v is not None).lower()
        err = classify(status, str(fields.get("message") or "error without a message"), codes)
        out.append(ir.StreamError(kind=err.kind, message=err.message, status=status))


def _str(value: object) -> str:
    if isinstance(value, str):
        return value
    raise Malformed("a text delta must be a string")
