"""Client side: an OpenAI Responses API request (`POST /v1/responses`) -> IR.

The gateway keeps no conversation state, so `previous_response_id` and `background` are
refused with a 400 that says to send the whole input; built-in tools are refused too.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from modelrouter import ir
from modelrouter.errors import BadRequest

__all__ = ["ORIGIN", "PROTOCOL", "decode_request"]

PROTOCOL: Final = "openai_responses"
ORIGIN: Final = "openai_responses"
"""Reasoning items (encrypted) only an OpenAI Responses upstream could use; others drop them."""
ROUTING_FIELDS: Final = frozenset({"route", "provider", "models"})
_IGNORED: Final = frozenset(
    {
        "store",
        "include",
        "truncation",
        "metadata",
        "stream_options",
        "service_tier",
        "prompt_cache_key",
        "safety_identifier",
    }
)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{where} must be an object")
    return value


def _text_parts(content: Any, where: str) -> list[ir.TextPart | ir.ImagePart | ir.DocumentPart]:
    if isinstance(content, str):
        return [ir.TextPart(text=content)]
    if not isinstance(content, list):
        raise BadRequest(f"{where}.content must be a string or a list of parts")
    parts: list[ir.TextPart | ir.ImagePart | ir.DocumentPart] = []
    for i, raw in enumerate(content):
        part = _object(raw, f"{where}.content[{i}]")
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text"):
            parts.append(ir.TextPart(text=str(part.get("text") or "")))
        elif kind == "refusal":
            parts.append(ir.TextPart(text=str(part.get("refusal") or "")))
        elif kind == "input_image":
            parts.append(_image(part, f"{where}.content[{i}]"))
        elif kind == "input_file":
            parts.append(_file(part, f"{where}.content[{i}]"))
        else:
            raise BadRequest(f"{where}.content[{i}]: part type {kind!r} is not supported")
    return parts


def _image(part: dict[str, Any], where: str) -> ir.ImagePart:
    url = part.get("image_url")
    if not isinstance(url, str):
        raise BadRequest(f"{where}: input_image needs an image_url (file_id is not supported)")
    detail = part.get("detail")
    header, sep, data = url.partition(",")
    if url.startswith("data:") and sep and header.endswith(";base64"):
        return ir.ImagePart(media_type=header[5:-7], data=data, detail=detail)
    return ir.ImagePart(url=url, detail=detail)


def _file(part: dict[str, Any], where: str) -> ir.DocumentPart:
    data, url = part.get("file_data"), part.get("file_url")
    if isinstance(data, str):
        header, sep, payload = data.partition(",")
        if data.startswith("data:") and sep and header.endswith(";base64"):
            return ir.DocumentPart(media_type=header[5:-7], data=payload, filename=part.get("filename"))
        return ir.DocumentPart(media_type="application/pdf", data=data, filename=part.get("filename"))
    if isinstance(url, str):
        return ir.DocumentPart(url=url, filename=part.get("filename"))
    raise BadRequest(f"{where}: input_file needs file_data or file_url (file_id is not supported)")


def _output_text(output: Any) -> list[ir.TextPart | ir.ImagePart | ir.DocumentPart]:
    if isinstance(output, str):
        return [ir.TextPart(text=output)]
    return _text_parts(output, "function_call_output.output")


class _Turns:
    """Builds IR messages from input items, merging consecutive items of one role."""

    def __init__(self) -> None:
        self.messages: list[ir.Message] = []
        self.system: list[ir.TextPart] = []

    def add(self, role: ir.Role, parts: list[ir.Part]) -> None:
        if self.messages and self.messages[-1].role == role:
            self.messages[-1].content.extend(parts)
        else:
            self.messages.append(ir.Message(role=role, content=parts))

    def item(self, raw: Any, i: int) -> None:
        item = _object(raw, f"input[{i}]")
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            parts = _text_parts(item.get("content"), f"input[{i}]")
            if role in ("system", "developer"):
                self.system.extend(p for p in parts if isinstance(p, ir.TextPart))
            elif role in ("user", "assistant"):
                self.add(role, list(parts))
            else:
                raise BadRequest(f"input[{i}].role must be user, assistant, system or developer")
        elif kind == "function_call":
            call_id, name = item.get("call_id"), item.get("name")
            if not isinstance(call_id, str) or not isinstance(name, str):
                raise BadRequest(f"input[{i}]: a function_call needs call_id and name")
            raw_arguments = item.get("arguments")
            arguments = raw_arguments if isinstance(raw_arguments, str) else "{}"
            self.add("assistant", [ir.ToolCallPart(id=call_id, name=name, arguments=arguments)])
        elif kind == "function_call_output":
            call_id = item.get("call_id")
            if not isinstance(call_id, str):
                raise BadRequest(f"input[{i}]: a function_call_output needs call_id")
            self.add(
                "user",
                [ir.ToolResultPart(tool_call_id=call_id, content=_output_text(item.get("output", "")))],
            )
        elif kind == "reasoning":
            summary = " ".join(
                str(s.get("text", "")) for s in item.get("summary") or [] if isinstance(s, dict)
            )
            encrypted = item.get("encrypted_content")
            self.add("assistant", [ir.ReasoningPart(text=summary, redacted=encrypted, origin=ORIGIN)])
        else:
            raise BadRequest(f"input[{i}]: item type {kind!r} is not supported through the gateway")


BUILT_IN_TOOLS: Final = frozenset(
    {
        "web_search",
        "web_search_preview",
        "file_search",
        "code_interpreter",
        "image_generation",
        "local_shell",
        "computer_use_preview",
        "mcp",
    }
)
"""Tools OpenAI runs itself; no other provider can, so they are dropped (the model sees the rest)."""


def _function_tools(raw: Any, where: str) -> list[dict[str, Any]]:
    """Function tools, with a `namespace`'s function tools taken out of their group."""
    found: list[dict[str, Any]] = []
    if raw is not None and not isinstance(raw, list):
        raise BadRequest(f"{where} must be a list of tools")
    for i, tool in enumerate(raw or []):
        tool = _object(tool, f"{where}[{i}]")
        kind = tool.get("type")
        if kind == "function":
            found.append(tool)
        elif kind == "namespace":
            found += _function_tools(tool.get("tools"), f"{where}[{i}].tools")
        elif not isinstance(kind, str) or kind not in BUILT_IN_TOOLS:
            raise BadRequest(f"{where}[{i}]: tool type {kind!r} is not supported; use function tools")
    return found


def _tools(raw: Any) -> list[ir.ToolSpec]:
    tools = []
    for tool in _function_tools(raw, "tools"):
        if not isinstance(tool.get("name"), str):
            raise BadRequest("tools: a function tool needs a name")
        parameters = tool.get("parameters") or {"type": "object", "properties": {}}
        if not isinstance(parameters, dict):
            raise BadRequest(f"tools: the parameters of {tool['name']!r} must be a JSON Schema object")
        description = tool.get("description")
        if description is not None and not isinstance(description, str):
            raise BadRequest(f"tools: the description of {tool['name']!r} must be a string")
        tools.append(
            ir.ToolSpec(
                name=tool["name"],
                description=description,
                parameters=parameters,
                strict=tool.get("strict"),
            )
        )
    return tools


def _tool_choice(raw: Any, parallel: Any) -> ir.ToolChoice | None:
    if raw is None and parallel is None:
        return None
    choice = ir.ToolChoice(parallel=parallel if isinstance(parallel, bool) else None)
    if raw in ("auto", "none", "required"):
        choice.mode = raw
    elif isinstance(raw, dict) and raw.get("type") == "function" and isinstance(raw.get("name"), str):
        choice.mode, choice.name = "tool", raw["name"]
    elif raw is not None:
        raise BadRequest("tool_choice must be auto, none, required or {type: function, name}")
    return choice


def _format(text: Any) -> ir.ResponseFormat | None:
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") in (None, "text"):
        return None
    if fmt["type"] == "json_object":
        return ir.ResponseFormat(type="json_object")
    if fmt["type"] == "json_schema":
        return ir.ResponseFormat(
            type="json_schema",
            schema=fmt.get("schema"),
            name=fmt.get("name"),
            strict=fmt.get("strict"),
            description=fmt.get("description"),
        )
    raise BadRequest(f"text.format.type {fmt['type']!r} is not supported")


def _reasoning(raw: Any) -> ir.ReasoningConfig | None:
    if not isinstance(raw, dict):
        return None
    effort = raw.get("effort")
    if effort is not None and not isinstance(effort, str):
        raise BadRequest(f"reasoning.effort must be a string, got {effort!r}")
    return ir.ReasoningConfig(
        enabled=None if effort is None else effort != "none",
        effort=effort if effort not in (None, "none") else None,
        include_thoughts=True if raw.get("summary") else None,
    )


def _check(data: dict[str, Any]) -> None:
    """Refuse what the gateway cannot do and values of the wrong type, before anything else."""
    if not isinstance(data.get("model"), str):
        raise BadRequest("model: a string is required")
    if data.get("previous_response_id"):
        raise BadRequest(
            "previous_response_id: the gateway keeps no responses; send the whole conversation as input"
        )
    if data.get("background"):
        raise BadRequest("background: the gateway answers in the foreground only")
    limit = data.get("max_output_tokens")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise BadRequest("max_output_tokens: an integer is required")
    for field in ("temperature", "top_p"):
        value = data.get(field)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise BadRequest(f"{field}: a number is required")


def decode_request(body: bytes) -> ir.Request:
    """The IR request for a Responses API body; `BadRequest` (400) for what the gateway cannot do."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from exc
    data = _object(data, "the request body")
    _check(data)
    turns = _Turns()
    instructions = data.get("instructions")
    if isinstance(instructions, str) and instructions:
        turns.system.append(ir.TextPart(text=instructions))
    raw_input = data.get("input")
    if isinstance(raw_input, str):
        turns.add("user", [ir.TextPart(text=raw_input)])
    elif isinstance(raw_input, list):
        for i, item in enumerate(raw_input):
            turns.item(item, i)
    else:
        raise BadRequest("input: a string or a list of items is required")
    known = {
        "model",
        "input",
        "instructions",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "text",
        "reasoning",
        "max_output_tokens",
        "temperature",
        "top_p",
        "stream",
        "user",
        "previous_response_id",
        "background",
    }
    extra = {k: v for k, v in data.items() if k not in known and k not in _IGNORED}
    return ir.Request(
        model=data["model"],
        messages=turns.messages,
        system=turns.system,
        tools=_tools(data.get("tools")),
        tool_choice=_tool_choice(data.get("tool_choice"), data.get("parallel_tool_calls")),
        response_format=_format(data.get("text")),
        max_tokens=data.get("max_output_tokens"),
        temperature=data.get("temperature"),
        top_p=data.get("top_p"),
        reasoning=_reasoning(data.get("reasoning")),
        stream=bool(data.get("stream")),
        user=data.get("user") if isinstance(data.get("user"), str) else None,
        extra=extra,
        source_protocol=PROTOCOL,
    )
