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
    )
    _read_sampling(data, request)
    request.tools = _tools(data.get("tools"))
    request.tool_choice = _tool_choice(data.get("tool_choice"), data.get("parallel_tool_calls"))
    request.response_format = _response_format(data.get("response_format"))
    request.reasoning = _reasoning(data)
    request.stream = _opt_bool(data.get("stream"), "stream") or False
    request.include_usage = request.stream and _include_usage(data.get("stream_options"))
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


# --- scalar helpers ---------------------------------------------------------------------------


def _opt_str(value: object, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise Malformed(f"`{where}` must be a string")


def _str(value: object, where: str) -> str:
    if isinstance(value, str):
        return value
    raise Malformed(f"`{where}` is required and must be a string")


def _opt_bool(value: object, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise Malformed(f"`{where}` must be true or false")


def _opt_int(value: object, where: str, *, minimum: int | None = None) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise Malformed(f"`{where}` must be an integer")
    if minimum is not None and value < minimum:
        raise Malformed(f"`{where}` must be at least {minimum}")
    return value


def _opt_number(value: object, where: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise Malformed(f"`{where}` must be a number")
    return value


def _dict(value: object, where: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise Malformed(f"`{where}` must be an object")


def _list(value: object, where: str) -> list[Any]:
    if isinstance(value, list):
        return value
    raise Malformed(f"`{where}` must be a list")


def _cache_control(part: dict[str, Any], where: str) -> ir.CacheControl | None:
    """OpenRouter-style `cache_control` on a content part (read, so Anthropic targets can cache)."""
    raw = part.get("cache_control")
    if raw is None:
        return None
    raw = _dict(raw, f"{where}.cache_control")
    return ir.CacheControl(
        type=_opt_str(raw.get("type"), f"{where}.cache_control.type") or "ephemeral",
        ttl=_opt_str(raw.get("ttl"), f"{where}.cache_control.ttl"),
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
        messages = _list(raw, "messages")
        if not messages:
            raise Malformed("`messages` must hold at least one message")
        for i, message in enumerate(messages):
            self._message(_dict(message, f"messages[{i}]"), f"messages[{i}]")

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
        refusal = _opt_str(message.get("refusal"), f"{where}.refusal")
        if refusal:
            content.append(ir.TextPart(text=refusal))
        calls = message.get("tool_calls")
        for j, call in enumerate(_list(calls, f"{where}.tool_calls") if calls is not None else []):
            part = _tool_call(_dict(call, f"{where}.tool_calls[{j}]"), f"{where}.tool_calls[{j}]")
            self._tool_names[part.id] = part.name
            content.append(part)
        return ir.Message(role="assistant", content=content)

    def _tool(self, message: dict[str, Any], where: str) -> None:
        wire_id = _str(message.get("tool_call_id"), f"{where}.tool_call_id")
        tool_call_id, _ = split_tool_call_id(wire_id)
        name = self._tool_names.get(tool_call_id)
        if name is None:
            name = _opt_str(message.get("name"), f"{where}.name")
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
    for i, raw in enumerate(_list(content, where)):
        part = _dict(raw, f"{where}[{i}]")
        if part.get("type") != "text":
            raise Malformed(f'`{where}[{i}]` must be a text part here ({{"type": "text", "text": ...}})')
        parts.append(_text_part(part, f"{where}[{i}]"))
    return parts


def _text_part(part: dict[str, Any], where: str) -> ir.TextPart:
    return ir.TextPart(
        text=_str(part.get("text"), f"{where}.text"), cache_control=_cache_control(part, where)
    )


def _assistant_text(content: object, where: str) -> list[ir.TextPart]:
    """Assistant content: null, a string or text/refusal parts; empty text is dropped."""
    if content is None:
        return []
    if isinstance(content, str):
        return [ir.TextPart(text=content)] if content else []
    parts: list[ir.TextPart] = []
    for i, raw in enumerate(_list(content, where)):
        part = _dict(raw, f"{where}[{i}]")
        kind = part.get("type")
        if kind == "text":
            text = _text_part(part, f"{where}[{i}]")
        elif kind == "refusal":
            text = ir.TextPart(text=_str(part.get("refusal"), f"{where}[{i}].refusal"))
        else:
            raise Malformed(f"`{where}[{i}].type` must be text or refusal in an assistant message")
        if text.text:
            parts.append(text)
    return parts


def _user_content(content: object, where: str) -> list[ir.Part]:
    where = f"{where}.content"
    if isinstance(content, str):
        return [ir.TextPart(text=content)]
    parts: list[ir.Part] = []
    for i, raw in enumerate(_list(content, where)):
        parts.append(_user_part(_dict(raw, f"{where}[{i}]"), f"{where}[{i}]"))
    return parts


def _user_part(part: dict[str, Any], where: str) -> ir.Part:
    kind = part.get("type")
    if kind == "text":
        return _text_part(part, where)
    if kind == "image_url":
        return _image(part, where)
    if kind == "file":
        return _file(_dict(part.get("file"), f"{where}.file"), f"{where}.file")
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
    image = {"url": raw} if isinstance(raw, str) else _dict(raw, f"{where}.image_url")
    url = _str(image.get("url"), f"{where}.image_url.url")
    detail = _opt_str(image.get("detail"), f"{where}.image_url.detail")
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
    media_type, data = _data_url(_str(file.get("file_data"), f"{where}.file_data"), f"{where}.file_data")
    return ir.DocumentPart(
        media_type=media_type or None, data=data, filename=_opt_str(file.get("filename"), f"{where}.filename")
    )


def _tool_call(call: dict[str, Any], where: str) -> ir.ToolCallPart:
    if call.get("type", "function") != "function":
        raise Malformed(f"`{where}.type` must be function (custom tools are not supported)")
    function = _dict(call.get("function"), f"{where}.function")
    arguments = function.get("arguments", "")
    if isinstance(arguments, dict):  # lenient: some clients send the object itself
        arguments = orjson.dumps(arguments).decode()
    tool_call_id, signature = split_tool_call_id(_str(call.get("id"), f"{where}.id"))
    return ir.ToolCallPart(
        id=tool_call_id,
        name=_str(function.get("name"), f"{where}.function.name"),
        arguments=_str(arguments, f"{where}.function.arguments"),
        signature=tool_call_signature(call) or signature,
    )


# --- options ---------------------------------------------------------------------------------


def _read_sampling(data: dict[str, Any], request: ir.Request) -> None:
    # max_completion_tokens is OpenAI's current name (it counts reasoning tokens); max_tokens is
    # the deprecated one many clients still send. Both mean the IR's max_tokens.
    max_tokens = _opt_int(data.get("max_completion_tokens"), "max_completion_tokens", minimum=1)
    if max_tokens is None:
        max_tokens = _opt_int(data.get("max_tokens"), "max_tokens", minimum=1)
    request.max_tokens = max_tokens
    request.temperature = _opt_number(data.get("temperature"), "temperature")
    request.top_p = _opt_number(data.get("top_p"), "top_p")
    request.top_k = _opt_int(data.get("top_k"), "top_k", minimum=1)
    request.seed = _opt_int(data.get("seed"), "seed")
    request.user = _opt_str(data.get("user"), "user")
    stop = data.get("stop")
    if isinstance(stop, str):
        request.stop = [stop]
    elif stop is not None:
        request.stop = [_str(s, f"stop[{i}]") for i, s in enumerate(_list(stop, "stop"))]


def _tools(raw: object) -> list[ir.ToolSpec]:
    if raw is None:
        return []
    specs = []
    for i, item in enumerate(_list(raw, "tools")):
        tool = _dict(item, f"tools[{i}]")
        if tool.get("type") != "function":
            raise Malformed(f"`tools[{i}].type` must be function (custom tools are not supported)")
        function = _dict(tool.get("function"), f"tools[{i}].function")
        parameters = function.get("parameters")
        spec = ir.ToolSpec(
            name=_str(function.get("name"), f"tools[{i}].function.name"),
            description=_opt_str(function.get("description"), f"tools[{i}].function.description"),
            strict=_opt_bool(function.get("strict"), f"tools[{i}].function.strict"),
        )
        if parameters is not None:
            spec.parameters = _dict(parameters, f"tools[{i}].function.parameters")
        specs.append(spec)
    return specs


def _tool_choice(raw: object, parallel: object) -> ir.ToolChoice | None:
    parallel_calls = _opt_bool(parallel, "parallel_tool_calls")
    if raw is None:
        return None if parallel_calls is None else ir.ToolChoice(parallel=parallel_calls)
    if raw in ("none", "auto", "required"):
        return ir.ToolChoice(mode=raw, parallel=parallel_calls)
    choice = _dict(raw, "tool_choice")
    if choice.get("type") != "function":
        raise Malformed('`tool_choice` must be none, auto, required or {"type": "function", ...}')
    name = _str(
        _dict(choice.get("function"), "tool_choice.function").get("name"), "tool_choice.function.name"
    )
    return ir.ToolChoice(mode="tool", name=name, parallel=parallel_calls)


def _response_format(raw: object) -> ir.ResponseFormat | None:
    if raw is None:
        return None
    fmt = _dict(raw, "response_format")
    kind = fmt.get("type")
    if kind in ("text", "json_object"):
        return ir.ResponseFormat(type=kind)
    if kind != "json_schema":
        raise Malformed("`response_format.type` must be text, json_object or json_schema")
    spec = _dict(fmt.get("json_schema"), "response_format.json_schema")
    schema = spec.get("schema")
    return ir.ResponseFormat(
        type="json_schema",
        schema=_dict(schema, "response_format.json_schema.schema") if schema is not None else None,
        name=_opt_str(spec.get("name"), "response_format.json_schema.name"),
        strict=_opt_bool(spec.get("strict"), "response_format.json_schema.strict"),
        description=_opt_str(spec.get("description"), "response_format.json_schema.description"),
    )


def _reasoning(data: dict[str, Any]) -> ir.ReasoningConfig | None:
    """`reasoning_effort`, else OpenRouter's `reasoning` object (which also stays in `extra`)."""
    effort = _opt_str(data.get("reasoning_effort"), "reasoning_effort")
    if effort is not None:
        return ir.ReasoningConfig(effort=effort, enabled=False if effort == "none" else None)
    raw = data.get("reasoning")
    if raw is None:
        return None
    options = _dict(raw, "reasoning")
    exclude = _opt_bool(options.get("exclude"), "reasoning.exclude")
    return ir.ReasoningConfig(
        enabled=_opt_bool(options.get("enabled"), "reasoning.enabled"),
        effort=_opt_str(options.get("effort"), "reasoning.effort"),
        budget_tokens=_opt_int(options.get("max_tokens"), "reasoning.max_tokens", minimum=0),
        include_thoughts=None if exclude is None else not exclude,
    )


def _include_usage(raw: object) -> bool:
    if raw is None:
        return False
    return (
        _opt_bool(_dict(raw, "stream_options").get("include_usage"), "stream_options.include_usage") or False
    )
