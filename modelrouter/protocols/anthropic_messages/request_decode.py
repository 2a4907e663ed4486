"""Client side: an Anthropic Messages request body (the gateway's `/v1/messages` door) -> IR.

Validation follows the API's own rules for shape (required fields, types) and answers with
`BadRequest` naming the path of the offending field the way Anthropic does
(`messages.1.content.0.text`), so a client sees the same kind of error it would upstream.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Final, Literal, TypeGuard

import orjson

from modelrouter import ir
from modelrouter.errors import BadRequest
from modelrouter.protocols.anthropic_messages._wire import ORIGIN, PROTOCOL, SERVER_TOOLS_KEY

__all__ = ["decode_request"]

_KNOWN: Final = frozenset(
    {
        "model",
        "max_tokens",
        "messages",
        "system",
        "metadata",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "thinking",
        "tools",
        "tool_choice",
        "output_config",
        "output_format",
        "cache_control",
    }
)
_ROLES: Final = frozenset({"user", "assistant"})
_TOOL_CHOICE: Final[dict[str, Literal["auto", "none", "required", "tool"]]] = {
    "auto": "auto",
    "any": "required",
    "none": "none",
    "tool": "tool",
}


# --- field readers ------------------------------------------------------------------------


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{where}: expected an object, got {_kind(value)}")
    return value


def _list(value: object, where: str) -> list[Any]:
    if value is None:
        raise BadRequest(f"{where}: field required (a list)")
    if not isinstance(value, list):
        raise BadRequest(f"{where}: expected a list, got {_kind(value)}")
    return value


def _str(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise BadRequest(f"{_at(where, key)}: field required (a string), got {_kind(value)}")
    return value


def _opt_str(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{_at(where, key)}: expected a string, got {_kind(value)}")
    return value


def _opt_int(obj: dict[str, Any], key: str, where: str) -> int | None:
    value = obj.get(key)
    if value is not None and type(value) is not int:
        raise BadRequest(f"{_at(where, key)}: expected an integer, got {_kind(value)}")
    return value


def _opt_float(obj: dict[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) not in (int, float):
        raise BadRequest(f"{key}: expected a number, got {_kind(value)}")
    return float(value)


def _opt_bool(obj: dict[str, Any], key: str, where: str) -> bool | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise BadRequest(f"{_at(where, key)}: expected a boolean, got {_kind(value)}")
    return value


def _cache(obj: dict[str, Any], where: str) -> ir.CacheControl | None:
    raw = obj.get("cache_control")
    if raw is None:
        return None
    at = _at(where, "cache_control")
    raw = _object(raw, at)
    return ir.CacheControl(type=_str(raw, "type", at), ttl=_opt_str(raw, "ttl", at))


# --- content blocks -----------------------------------------------------------------------


def _text(block: dict[str, Any], where: str) -> ir.TextPart:
    return ir.TextPart(text=_str(block, "text", where), cache_control=_cache(block, where))


def _image(block: dict[str, Any], where: str) -> ir.ImagePart:
    source = _object(block.get("source"), f"{where}.source")
    kind = source.get("type")
    cache = _cache(block, where)
    if kind == "base64":
        return ir.ImagePart(
            media_type=_str(source, "media_type", f"{where}.source"),
            data=_str(source, "data", f"{where}.source"),
            cache_control=cache,
        )
    if kind == "url":
        return ir.ImagePart(url=_str(source, "url", f"{where}.source"), cache_control=cache)
    raise BadRequest(f"{where}.source.type: {kind!r} is not supported by the gateway; send 'base64' or 'url'")


def _document(block: dict[str, Any], where: str) -> ir.DocumentPart:
    source = _object(block.get("source"), f"{where}.source")
    kind = source.get("type")
    title = _opt_str(block, "title", where)
    cache = _cache(block, where)
    at = f"{where}.source"
    if kind == "base64":
        media, data = _str(source, "media_type", at), _str(source, "data", at)
        return ir.DocumentPart(media_type=media, data=data, filename=title, cache_control=cache)
    if kind == "text":
        data = base64.b64encode(_str(source, "data", at).encode()).decode()
        media = _opt_str(source, "media_type", at) or "text/plain"
        return ir.DocumentPart(media_type=media, data=data, filename=title, cache_control=cache)
    if kind == "url":
        return ir.DocumentPart(url=_str(source, "url", at), filename=title, cache_control=cache)
    raise BadRequest(f"{at}.type: {kind!r} is not supported by the gateway; send 'base64', 'text' or 'url'")


def _thinking(block: dict[str, Any], where: str) -> ir.ReasoningPart:
    signature = _opt_str(block, "signature", where)
    # An empty signature marks thinking this gateway relayed from another family (see __init__).
    return ir.ReasoningPart(
        text=_str(block, "thinking", where),
        signature=signature or None,
        origin=ORIGIN if signature else None,
    )


def _redacted(block: dict[str, Any], where: str) -> ir.ReasoningPart:
    return ir.ReasoningPart(redacted=_str(block, "data", where), origin=ORIGIN)


def _tool_use(block: dict[str, Any], where: str) -> ir.ToolCallPart:
    arguments = _object(block.get("input"), f"{where}.input")
    return ir.ToolCallPart(
        id=_str(block, "id", where),
        name=_str(block, "name", where),
        arguments=orjson.dumps(arguments).decode(),
    )


_RESULT_BLOCKS: Final[
    dict[str, Callable[[dict[str, Any], str], ir.TextPart | ir.ImagePart | ir.DocumentPart]]
] = {
    "text": _text,
    "image": _image,
    "document": _document,
}


def _tool_result(block: dict[str, Any], where: str) -> ir.ToolResultPart:
    raw = block.get("content")
    content: list[ir.TextPart | ir.ImagePart | ir.DocumentPart] = []
    if isinstance(raw, str):
        content.append(ir.TextPart(text=raw))
    elif raw is not None:
        for i, item in enumerate(_list(raw, f"{where}.content")):
            at = f"{where}.content.{i}"
            item = _object(item, at)
            decode = _RESULT_BLOCKS.get(_name(item.get("type")))
            if decode is None:
                raise BadRequest(f"{at}.type: {item.get('type')!r} is not supported in a tool_result here")
            content.append(decode(item, at))
    return ir.ToolResultPart(
        tool_call_id=_str(block, "tool_use_id", where),
        content=content,
        is_error=bool(_opt_bool(block, "is_error", where)),
        cache_control=_cache(block, where),
    )


_BLOCKS: Final[dict[str, Callable[[dict[str, Any], str], ir.Part]]] = {
    "text": _text,
    "image": _image,
    "document": _document,
    "thinking": _thinking,
    "redacted_thinking": _redacted,
    "tool_use": _tool_use,
    "tool_result": _tool_result,
}


def _content(raw: object, where: str) -> list[ir.Part]:
    if isinstance(raw, str):
        return [ir.TextPart(text=raw)]
    parts: list[ir.Part] = []
    for i, block in enumerate(_list(raw, where)):
        at = f"{where}.{i}"
        block = _object(block, at)
        decode = _BLOCKS.get(_name(block.get("type")))
        if decode is None:
            raise BadRequest(
                f"{at}.type: content block type {block.get('type')!r} is not supported by the gateway's "
                "translation (supported: text, image, document, thinking, redacted_thinking, tool_use, "
                "tool_result)"
            )
        parts.append(decode(block, at))
    return parts


# --- messages and system ------------------------------------------------------------------


def _system(raw: object, where: str) -> list[ir.TextPart]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [ir.TextPart(text=raw)]
    parts = []
    for i, block in enumerate(_list(raw, where)):
        block = _object(block, f"{where}.{i}")
        if block.get("type") != "text":
            raise BadRequest(f"{where}.{i}.type: system blocks must be of type 'text'")
        parts.append(_text(block, f"{where}.{i}"))
    return parts


def _messages(raw: object, system: list[ir.TextPart]) -> list[ir.Message]:
    messages: list[ir.Message] = []
    for i, message in enumerate(_list(raw, "messages")):
        at = f"messages.{i}"
        message = _object(message, at)
        role = message.get("role")
        if role == "system":  # anywhere in `messages` (SDK 2.x): its text joins the system prompt
            system.extend(_system(message.get("content"), f"{at}.content"))
            continue
        if not _is_role(role):
            raise BadRequest(f"{at}.role: expected 'user' or 'assistant', got {role!r}")
        parts = _content(message.get("content"), f"{at}.content")
        if messages and messages[-1].role == role:  # the API merges consecutive same-role turns
            messages[-1].content.extend(parts)
        else:
            messages.append(ir.Message(role=role, content=parts))
    _name_tool_results(messages)
    return messages


def _name_tool_results(messages: list[ir.Message]) -> None:
    names: dict[str, str] = {}
    for message in messages:
        for part in message.content:
            if isinstance(part, ir.ToolCallPart):
                names[part.id] = part.name
            elif isinstance(part, ir.ToolResultPart):
                part.name = names.get(part.tool_call_id)


# --- tools, thinking, output --------------------------------------------------------------


def _tools(raw: object, extra: dict[str, Any]) -> list[ir.ToolSpec]:
    if raw is None:
        return []
    tools: list[ir.ToolSpec] = []
    server: list[dict[str, Any]] = []
    for i, tool in enumerate(_list(raw, "tools")):
        at = f"tools.{i}"
        tool = _object(tool, at)
        if tool.get("type") not in (None, "custom"):
            server.append(tool)
            continue
        tools.append(
            ir.ToolSpec(
                name=_str(tool, "name", at),
                description=_opt_str(tool, "description", at),
                parameters=_object(tool.get("input_schema"), f"{at}.input_schema"),
                strict=_opt_bool(tool, "strict", at),
                cache_control=_cache(tool, at),
            )
        )
    if server:
        extra[SERVER_TOOLS_KEY] = server
    return tools


def _tool_choice(raw: object) -> ir.ToolChoice | None:
    if raw is None:
        return None
    raw = _object(raw, "tool_choice")
    mode = _TOOL_CHOICE.get(_name(raw.get("type")))
    if mode is None:
        raise BadRequest(f"tool_choice.type: expected auto, any, none or tool, got {raw.get('type')!r}")
    disable = _opt_bool(raw, "disable_parallel_tool_use", "tool_choice")
    return ir.ToolChoice(
        mode=mode,
        name=_str(raw, "name", "tool_choice") if mode == "tool" else None,
        parallel=None if disable is None else not disable,
    )


def _reasoning(thinking: object, config: dict[str, Any]) -> ir.ReasoningConfig | None:
    effort = _opt_str(config, "effort", "output_config")
    if thinking is None:
        return None if effort is None else ir.ReasoningConfig(effort=effort)
    thinking = _object(thinking, "thinking")
    kind = thinking.get("type")
    display = _opt_str(thinking, "display", "thinking")
    include = None if display is None else display != "omitted"
    if kind == "enabled":
        budget = _opt_int(thinking, "budget_tokens", "thinking")
        if budget is None:
            raise BadRequest("thinking.budget_tokens: field required when thinking.type is 'enabled'")
        return ir.ReasoningConfig(enabled=True, budget_tokens=budget, effort=effort, include_thoughts=include)
    if kind == "adaptive":
        return ir.ReasoningConfig(enabled=True, effort=effort, include_thoughts=include)
    if kind == "disabled":
        return ir.ReasoningConfig(enabled=False, effort=effort)
    raise BadRequest(f"thinking.type: expected enabled, adaptive or disabled, got {kind!r}")


def _response_format(raw: object, where: str) -> ir.ResponseFormat | None:
    if raw is None:
        return None
    raw = _object(raw, where)
    if raw.get("type") != "json_schema":
        raise BadRequest(f"{where}.type: expected 'json_schema', got {raw.get('type')!r}")
    return ir.ResponseFormat(type="json_schema", schema=_object(raw.get("schema"), f"{where}.schema"))


def _stop(raw: object) -> list[str]:
    if raw is None:
        return []
    stops = _list(raw, "stop_sequences")
    if not all(isinstance(s, str) for s in stops):
        raise BadRequest("stop_sequences: expected a list of strings")
    return stops


def _user(raw: object) -> str | None:
    if raw is None:
        return None
    return _opt_str(_object(raw, "metadata"), "user_id", "metadata")


# --- entry point --------------------------------------------------------------------------


def _is_role(value: Any) -> TypeGuard[Literal["user", "assistant"]]:
    """Whether a message's role is one Anthropic has (a list or an object is not even hashable)."""
    return isinstance(value, str) and value in _ROLES


def _name(value: Any) -> str:
    """A `type` field as a lookup key: anything but a string (a list, an object) names nothing."""
    return value if isinstance(value, str) else ""


def decode_request(body: bytes) -> ir.Request:
    """Decode a client's `/v1/messages` body; `BadRequest` says which field is wrong and why."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from exc
    data = _object(data, "request body")
    max_tokens = _opt_int(data, "max_tokens", "")
    if max_tokens is None:
        raise BadRequest("max_tokens: field required (an integer)")
    extra = {key: value for key, value in data.items() if key not in _KNOWN}
    system = _system(data.get("system"), "system")
    messages = _messages(data.get("messages"), system)
    config = _object(data.get("output_config") or {}, "output_config")
    return ir.Request(
        model=_str(data, "model", ""),
        messages=messages,
        system=system,
        tools=_tools(data.get("tools"), extra),
        tool_choice=_tool_choice(data.get("tool_choice")),
        response_format=_response_format(config.get("format"), "output_config.format")
        or _response_format(data.get("output_format"), "output_format"),
        max_tokens=max_tokens,
        temperature=_opt_float(data, "temperature"),
        top_p=_opt_float(data, "top_p"),
        top_k=_opt_int(data, "top_k", ""),
        stop=_stop(data.get("stop_sequences")),
        reasoning=_reasoning(data.get("thinking"), config),
        stream=bool(_opt_bool(data, "stream", "")),
        user=_user(data.get("metadata")),
        cache_control=_cache(data, ""),
        extra=extra,
        source_protocol=PROTOCOL,
        source=data,
    )
