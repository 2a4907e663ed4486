"""Client side: read an OpenAI Chat Completions request body into an `ir.Request`.

This is the gateway's OpenAI front door, so every shape error becomes a `BadRequest` that
names the offending field (`messages[2].content[0].image_url`) and says how to fix it.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from modelrouter import ir
from modelrouter.errors import BadRequest
from modelrouter.protocols.openai_chat._common import (
    PROTOCOL,
    Malformed,
    reasoning_from_message,
    split_tool_call_id,
    tool_call_signature,
)
from modelrouter.protocols.openai_chat._validate import as_dict, as_list, opt_str, req_str
from modelrouter.protocols.openai_chat.request_options import read_options

__all__ = ["decode_request"]

_KNOWN: Final = frozenset(
    {
        "model",
        "messages",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
        "seed",
        "reasoning_effort",
        "stream",
        "stream_options",
        "user",
    }
)
"""Fields mapped onto the IR; every other top-level field is kept verbatim in `Request.extra`."""


def decode_request(body: bytes) -> ir.Request:
    """Decode a client's Chat Completions request; raises `BadRequest` naming what is wrong."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object with `model` and `messages`")
    try:
        return _request(data)
    except Malformed as exc:
        raise BadRequest(str(exc)) from exc


def _request(data: dict[str, Any]) -> ir.Request:
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise Malformed("`model` is required and must be a non-empty string")
    _reject_unsupported(data)
    conversation = _Conversation()
    conversation.read(data.get("messages"))
    request = ir.Request(
        model=model,
        messages=conversation.messages,
        system=conversation.system,
        source_protocol=PROTOCOL,
        source=data,
    )
    read_options(data, request)
    request.extra = {key: value for key, value in data.items() if key not in _KNOWN}
    return request


def _reject_unsupported(data: dict[str, Any]) -> None:
    if "functions" in data or "function_call" in data:
        raise Malformed("the legacy `functions` / `function_call` fields are not supported; use `tools`")
    n = data.get("n")
    if n is not None and n != 1:
        raise Malformed("`n` must be 1: modelrouter returns one choice per request")
    if data.get("logprobs"):
        raise Malformed("`logprobs` is not supported through modelrouter; remove it")
    modalities = data.get("modalities")
    if modalities is not None and modalities != ["text"]:
        raise Malformed('only text output is supported: set `modalities` to ["text"] or omit it')
    if data.get("audio") is not None:
        raise Malformed("audio output is not supported through modelrouter; remove `audio`")


def _cache_control(part: dict[str, Any], where: str) -> ir.CacheControl | None:
    """OpenRouter-style `cache_control` on a content part (read, so Anthropic targets can cache)."""
    raw = part.get("cache_control")
    if raw is None:
        return None
    raw = as_dict(raw, f"{where}.cache_control")
    return ir.CacheControl(
        type=opt_str(raw.get("type"), f"{where}.cache_control.type") or "ephemeral",
        ttl=opt_str(raw.get("ttl"), f"{where}.cache_control.ttl"),
    )


# --- messages --------------------------------------------------------------------------------


class _Conversation:
    """Builds IR turns from OpenAI messages: hoists system text, merges runs of tool messages."""

    def __init__(self) -> None:
        self.system: list[ir.TextPart] = []
        self.messages: list[ir.Message] = []
        self._tool_names: dict[str, str] = {}
        self._tool_turn: ir.Message | None = None
        """The user turn the current run of `tool` messages is collecting into."""

    def read(self, raw: object) -> None:
        messages = as_list(raw, "messages")
        if not messages:
            raise Malformed("`messages` must hold at least one message")
        for i, message in enumerate(messages):
            where = f"messages[{i}]"
            self._message(as_dict(message, where), where)

    def _message(self, message: dict[str, Any], where: str) -> None:
        role = message.get("role")
        if role == "tool":
            self._tool(message, where)
            return
        self._tool_turn = None
        if role in ("system", "developer"):
            self.system.extend(_text_parts(message.get("content"), f"{where}.content"))
        elif role == "user":
            self.messages.append(
                ir.Message(role="user", content=_user_content(message.get("content"), where))
            )
        elif role == "assistant":
            self.messages.append(self._assistant(message, where))
        elif role == "function":
            raise Malformed(f"`{where}`: legacy `function` messages are not supported; send `tool` messages")
        else:
            raise Malformed(f"`{where}.role` must be system, developer, user, assistant or tool")

    def _assistant(self, message: dict[str, Any], where: str) -> ir.Message:
        if message.get("function_call") is not None:
            raise Malformed(f"`{where}.function_call` is legacy and not supported; use `tool_calls`")
        content: list[ir.Part] = []
        content.extend(reasoning_from_message(message))
        content.extend(_assistant_text(message.get("content"), f"{where}.content"))
        refusal = opt_str(message.get("refusal"), f"{where}.refusal")
        if refusal:
            content.append(ir.TextPart(text=refusal))
        calls = message.get("tool_calls")
        for j, call in enumerate(as_list(calls, f"{where}.tool_calls") if calls is not None else []):
            part = _tool_call(as_dict(call, f"{where}.tool_calls[{j}]"), f"{where}.tool_calls[{j}]")
            self._tool_names[part.id] = part.name
            content.append(part)
        return ir.Message(role="assistant", content=content)

    def _tool(self, message: dict[str, Any], where: str) -> None:
        wire_id = req_str(message.get("tool_call_id"), f"{where}.tool_call_id")
        tool_call_id, _ = split_tool_call_id(wire_id)
        name = self._tool_names.get(tool_call_id)
        if name is None:
            name = opt_str(message.get("name"), f"{where}.name")
        result = ir.ToolResultPart(
            tool_call_id=tool_call_id,
            content=list(_text_parts(message.get("content"), f"{where}.content")),
            name=name,
        )
        if self._tool_turn is None:
            self._tool_turn = ir.Message(role="user", content=[])
            self.messages.append(self._tool_turn)
        self._tool_turn.content.append(result)


def _text_parts(content: object, where: str) -> list[ir.TextPart]:
    """System, developer and tool content: a string or a list of text parts."""
    if isinstance(content, str):
        return [ir.TextPart(text=content)]
    parts: list[ir.TextPart] = []
    for i, raw in enumerate(as_list(content, where)):
        part = as_dict(raw, f"{where}[{i}]")
        if part.get("type") != "text":
            raise Malformed(f'`{where}[{i}]` must be a text part here ({{"type": "text", "text": ...}})')
        parts.append(_text_part(part, f"{where}[{i}]"))
    return parts


def _text_part(part: dict[str, Any], where: str) -> ir.TextPart:
    return ir.TextPart(
        text=req_str(part.get("text"), f"{where}.text"), cache_control=_cache_control(part, where)
    )


def _assistant_text(content: object, where: str) -> list[ir.TextPart]:
    """Assistant content: null, a string or text/refusal parts; empty text is dropped."""
    if content is None:
        return []
    if isinstance(content, str):
        return [ir.TextPart(text=content)] if content else []
    parts: list[ir.TextPart] = []
    for i, raw in enumerate(as_list(content, where)):
        part = as_dict(raw, f"{where}[{i}]")
        kind = part.get("type")
        if kind == "text":
            text = _text_part(part, f"{where}[{i}]")
        elif kind == "refusal":
            text = ir.TextPart(text=req_str(part.get("refusal"), f"{where}[{i}].refusal"))
        else:
            raise Malformed(f"`{where}[{i}].type` must be text or refusal in an assistant message")
        if text.text:
            parts.append(text)
    return parts


def _user_content(content: object, where: str) -> list[ir.Part]:
    if isinstance(content, str):
        return [ir.TextPart(text=content)]
    where = f"{where}.content"
    parts: list[ir.Part] = []
    for i, raw in enumerate(as_list(content, where)):
        parts.append(_user_part(as_dict(raw, f"{where}[{i}]"), f"{where}[{i}]"))
    return parts


def _user_part(part: dict[str, Any], where: str) -> ir.Part:
    kind = part.get("type")
    if kind == "text":
        return _text_part(part, where)
    if kind == "image_url":
        return _image(part, where)
    if kind == "file":
        return _file(as_dict(part.get("file"), f"{where}.file"), f"{where}.file")
    if kind == "input_audio":
        raise Malformed(f"`{where}`: audio input is not supported through modelrouter")
    raise Malformed(f"`{where}.type` must be text, image_url or file")


def _data_url(url: str, where: str) -> tuple[str, str]:
    """(media type, base64 data) of a `data:<type>;base64,<data>` URL."""
    header, sep, data = url.partition(",")
    if not sep or not header.endswith(";base64") or not data:
        raise Malformed(f"`{where}` must be a base64 data URL (data:<media type>;base64,<data>)")
    return header[len("data:") : -len(";base64")], data


def _image(part: dict[str, Any], where: str) -> ir.ImagePart:
    raw = part.get("image_url")
    image = {"url": raw} if isinstance(raw, str) else as_dict(raw, f"{where}.image_url")
    url = req_str(image.get("url"), f"{where}.image_url.url")
    detail = opt_str(image.get("detail"), f"{where}.image_url.detail")
    cache = _cache_control(part, where)
    if url.startswith("data:"):
        media_type, data = _data_url(url, f"{where}.image_url.url")
        return ir.ImagePart(media_type=media_type or None, data=data, detail=detail, cache_control=cache)
    if url.startswith(("https://", "http://")):
        return ir.ImagePart(url=url, detail=detail, cache_control=cache)
    raise Malformed(f"`{where}.image_url.url` must be an https URL or a base64 data URL")


def _file(file: dict[str, Any], where: str) -> ir.DocumentPart:
    if file.get("file_id") is not None:
        raise Malformed(
            f"`{where}.file_id` names a file stored at OpenAI, which other providers cannot read; "
            "send the file inline as `file_data` (a base64 data URL)"
        )
    media_type, data = _data_url(req_str(file.get("file_data"), f"{where}.file_data"), f"{where}.file_data")
    return ir.DocumentPart(
        media_type=media_type or None, data=data, filename=opt_str(file.get("filename"), f"{where}.filename")
    )


def _tool_call(call: dict[str, Any], where: str) -> ir.ToolCallPart:
    if call.get("type", "function") != "function":
        raise Malformed(f"`{where}.type` must be function (custom tools are not supported)")
    function = as_dict(call.get("function"), f"{where}.function")
    arguments = function.get("arguments", "")
    if isinstance(arguments, dict):  # lenient: some clients send the object itself
        arguments = orjson.dumps(arguments).decode()
    tool_call_id, signature = split_tool_call_id(req_str(call.get("id"), f"{where}.id"))
    return ir.ToolCallPart(
        id=tool_call_id,
        name=req_str(function.get("name"), f"{where}.function.name"),
        arguments=req_str(arguments, f"{where}.function.arguments"),
        signature=tool_call_signature(call) or signature,
    )
