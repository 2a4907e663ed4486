"""Provider side: IR -> the JSON body sent to Anthropic (`/v1/messages`) or Claude on Vertex.

Every IR feature either becomes its Anthropic field, is dropped by a rule listed in the
package docstring, or raises `BadRequest` before anything is sent.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any, Final

import orjson

from modelrouter import ir
from modelrouter.errors import BadRequest
from modelrouter.protocols.anthropic_messages._wire import (
    API_VERSION,
    API_VERSION_2026,
    API_VERSIONS,
    DEFAULT_MAX_TOKENS,
    EFFORTS,
    PROTOCOL,
    ROUTING_FIELDS,
    SERVER_TOOLS_KEY,
    SIGNATURE_ORIGINS,
    VERTEX_VERSION,
    cache_control_from_ir,
)

__all__ = ["encode_request"]

_IMAGE_MAGIC: Final = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_EFFORT_ALIASES: Final = {"minimal": "low"}
_TOOL_ID: Final = re.compile(r"[A-Za-z0-9_-]+")
_TOOL_ID_BAD: Final = re.compile(r"[^A-Za-z0-9_-]")


def _with_cache(block: dict[str, Any], control: ir.CacheControl | None) -> dict[str, Any]:
    if control is not None:
        block["cache_control"] = cache_control_from_ir(control)
    return block


# --- media --------------------------------------------------------------------------------


def _sniff_image(data: str) -> str | None:
    try:
        head = base64.b64decode(data[:24] + "=" * (-len(data[:24]) % 4))
    except (binascii.Error, ValueError):
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return next((media for magic, media in _IMAGE_MAGIC if head.startswith(magic)), None)


def _split_data_url(url: str) -> tuple[str, str] | None:
    header, sep, data = url.partition(",")
    if not sep or not header.endswith(";base64"):
        return None
    return header[5:-7], data


def _image(part: ir.ImagePart) -> dict[str, Any]:
    media, data = part.media_type, part.data
    if data is None and part.url is not None and part.url.startswith("data:"):
        split = _split_data_url(part.url)
        if split is None:
            raise BadRequest("image: a data: URL must be base64 (data:<type>;base64,<data>)")
        media, data = split
    if data is not None:
        media = media or _sniff_image(data)
        if media is None:
            raise BadRequest("image: media_type is required (image/jpeg, image/png, image/gif or image/webp)")
        source: dict[str, Any] = {"type": "base64", "media_type": media, "data": data}
    elif part.url is not None:
        source = {"type": "url", "url": part.url}
    else:
        raise BadRequest("image: give either base64 data or a url")
    return _with_cache({"type": "image", "source": source}, part.cache_control)


def _document_source(part: ir.DocumentPart) -> dict[str, Any]:
    media = part.media_type or ("application/pdf" if part.data and part.data.startswith("JVBER") else None)
    if part.data is None:
        if part.url is None:
            raise BadRequest("document: give either base64 data or a url")
        return {"type": "url", "url": part.url}
    if media == "application/pdf":
        return {"type": "base64", "media_type": media, "data": part.data}
    if media is not None and media.startswith("text/"):
        try:
            text = base64.b64decode(part.data, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise BadRequest(f"document: {media} data must be base64 of UTF-8 text") from exc
        return {"type": "text", "media_type": "text/plain", "data": text}
    raise BadRequest(
        f"document: Anthropic accepts PDF and plain-text documents, not {media or 'an unknown type'}; "
        "convert it or send it to a model that reads it"
    )


def _document(part: ir.DocumentPart) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "document", "source": _document_source(part)}
    if part.filename is not None:
        block["title"] = part.filename
    return _with_cache(block, part.cache_control)


# --- parts --------------------------------------------------------------------------------


def _text(part: ir.TextPart) -> dict[str, Any] | None:
    if not part.text or part.text.isspace():  # the API rejects empty and blank text blocks
        return None
    return _with_cache({"type": "text", "text": part.text}, part.cache_control)


def _reasoning(part: ir.ReasoningPart) -> dict[str, Any] | None:
    if part.origin not in SIGNATURE_ORIGINS:
        return None
    if part.redacted is not None:
        return {"type": "redacted_thinking", "data": part.redacted}
    if part.signature is None:
        return None
    return {"type": "thinking", "thinking": part.text, "signature": part.signature}


def _tool_use(part: ir.ToolCallPart) -> dict[str, Any]:
    try:
        arguments = part.input()
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"tool call {part.id}: arguments are not valid JSON ({exc})") from exc
    if not isinstance(arguments, dict):
        raise BadRequest(f"tool call {part.id}: arguments must be a JSON object for Anthropic")
    return {"type": "tool_use", "id": _tool_id(part.id), "name": part.name, "input": arguments}


def _tool_id(raw: str) -> str:
    """A call id in the alphabet Anthropic accepts (^[a-zA-Z0-9_-]+$); others' ids may use more."""
    return raw if _TOOL_ID.fullmatch(raw) else _TOOL_ID_BAD.sub("_", raw) or "_"


def _tool_result(part: ir.ToolResultPart) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": _tool_id(part.tool_call_id)}
    content = [b for b in map(_result_item, part.content) if b is not None]
    if len(content) == 1 and set(content[0]) == {"type", "text"}:
        block["content"] = content[0]["text"]
    elif content:
        block["content"] = content
    block["is_error"] = part.is_error
    return _with_cache(block, part.cache_control)


def _result_item(part: ir.TextPart | ir.ImagePart | ir.DocumentPart) -> dict[str, Any] | None:
    if isinstance(part, ir.TextPart):
        return _text(part)
    return _image(part) if isinstance(part, ir.ImagePart) else _document(part)


_PARTS: Final[dict[type, Callable[[Any], dict[str, Any] | None]]] = {
    ir.TextPart: _text,
    ir.ImagePart: _image,
    ir.DocumentPart: _document,
    ir.ReasoningPart: _reasoning,
    ir.ToolCallPart: _tool_use,
    ir.ToolResultPart: _tool_result,
}


def _messages(messages: list[ir.Message], api_version: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        if (
            message.role == "assistant"
            and api_version == API_VERSION_2026
            and any(isinstance(part, ir.DocumentPart) for part in message.content)
        ):
            raise BadRequest(
                f"messages.{i}: anthropic-version {API_VERSION_2026} rejects documents in assistant "
                "turns; move the document to a user turn"
            )
        blocks = [b for b in (_PARTS[type(part)](part) for part in message.content) if b is not None]
        if not blocks:  # the API rejects empty turns; this one had only dropped parts
            continue
        if out and out[-1]["role"] == message.role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": message.role, "content": blocks})
    if not out:
        raise BadRequest("messages: Anthropic needs at least one message with content")
    return out


# --- request-level fields -----------------------------------------------------------------


def _system(parts: list[ir.TextPart]) -> str | list[dict[str, Any]] | None:
    blocks = [b for b in map(_text, parts) if b is not None]
    if not blocks:
        return None
    if len(blocks) == 1 and "cache_control" not in blocks[0]:
        return str(blocks[0]["text"])
    return blocks


def _tool(spec: ir.ToolSpec) -> dict[str, Any]:
    tool: dict[str, Any] = {"name": spec.name}
    if spec.description is not None:
        tool["description"] = spec.description
    schema = spec.parameters
    tool["input_schema"] = schema if "type" in schema else {"type": "object", **schema}
    if spec.strict is not None:
        tool["strict"] = spec.strict
    return _with_cache(tool, spec.cache_control)


def _tool_choice(choice: ir.ToolChoice, has_tools: bool) -> dict[str, Any] | None:
    if not has_tools:
        if choice.mode in ("auto", "none"):
            return None  # the API refuses tool_choice without tools; these two mean the same then
        raise BadRequest(f"tool_choice {choice.mode!r} needs at least one tool in `tools`")
    if choice.mode == "tool":
        if not choice.name:
            raise BadRequest("tool_choice: mode 'tool' needs the tool's name")
        out: dict[str, Any] = {"type": "tool", "name": choice.name}
    else:
        out = {"type": "any" if choice.mode == "required" else choice.mode}
    if choice.parallel is not None and choice.mode != "none":
        out["disable_parallel_tool_use"] = not choice.parallel
    return out


def _effort(effort: str | None) -> str | None:
    if effort is None or effort == "none":
        return None
    effort = _EFFORT_ALIASES.get(effort, effort)
    if effort not in EFFORTS:
        raise BadRequest(
            f"reasoning effort {effort!r} has no Anthropic equivalent (low, medium, high, xhigh, max)"
        )
    return effort


def _thinking(reasoning: ir.ReasoningConfig) -> dict[str, Any] | None:
    enabled = reasoning.enabled
    if enabled is None and reasoning.effort == "none":
        enabled = False
    if enabled is False:
        return {"type": "disabled"}
    if reasoning.budget_tokens is not None:
        thinking: dict[str, Any] = {"type": "enabled", "budget_tokens": reasoning.budget_tokens}
    elif enabled:
        thinking = {"type": "adaptive"}
    else:
        return None
    if reasoning.include_thoughts is not None:
        thinking["display"] = "summarized" if reasoning.include_thoughts else "omitted"
    return thinking


def _output_config(request: ir.Request) -> dict[str, Any]:
    config: dict[str, Any] = {}
    effort = _effort(request.reasoning.effort) if request.reasoning else None
    if effort is not None:
        config["effort"] = effort
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema":
        if fmt.schema is None:
            raise BadRequest("response_format json_schema needs a schema for Anthropic structured output")
        config["format"] = {"type": "json_schema", "schema": fmt.schema}
    return config


def _max_tokens(request: ir.Request, default: int) -> int:
    if request.max_tokens is not None:
        return request.max_tokens
    budget = request.reasoning.budget_tokens if request.reasoning else None
    if budget is not None and budget >= default:
        return budget + default  # the API needs budget_tokens < max_tokens; leave room for the answer
    return default


def _tools_and_choice(request: ir.Request, body: dict[str, Any]) -> None:
    tools = [_tool(spec) for spec in request.tools]
    if request.source_protocol == PROTOCOL:
        tools.extend(request.extra.get(SERVER_TOOLS_KEY) or ())
    if tools:
        body["tools"] = tools
    if request.tool_choice is not None:
        choice = _tool_choice(request.tool_choice, bool(tools))
        if choice is not None:
            body["tool_choice"] = choice


def _sampling(request: ir.Request) -> dict[str, float | int]:
    values = {"temperature": request.temperature, "top_p": request.top_p, "top_k": request.top_k}
    return {key: value for key, value in values.items() if value is not None}


def _optional_fields(request: ir.Request, body: dict[str, Any], api_version: str) -> None:
    system = _system(request.system)
    if system is not None:
        body["system"] = system
    if request.stop:
        body["stop_sequences"] = request.stop
    if api_version == API_VERSION:  # 2026-10-21 rejects every sampling parameter
        body.update(_sampling(request))
    if request.reasoning is not None:
        thinking = _thinking(request.reasoning)
        if thinking is not None:
            body["thinking"] = thinking
    config = _output_config(request)
    if config:
        body["output_config"] = config
    if request.user is not None:
        body["metadata"] = {"user_id": request.user}
    if request.cache_control is not None:
        body["cache_control"] = cache_control_from_ir(request.cache_control)


def encode_request(
    request: ir.Request,
    *,
    model: str,
    vertex: bool = False,
    api_version: str = API_VERSION,
    default_max_tokens: int = DEFAULT_MAX_TOKENS,
) -> bytes:
    """Encode `request` for Anthropic, or for Claude on Vertex (`vertex=True`: no `model`, version in body).

    Args:
        request: The request to send.
        model: The provider's model id (ignored on Vertex, where the model is in the URL).
        vertex: Build a Vertex `rawPredict`/`streamRawPredict` body.
        api_version: The `anthropic-version` the provider adapter sends with it (`API_VERSION` or
            `API_VERSION_2026`); under 2026-10-21 sampling parameters are dropped.
        default_max_tokens: `max_tokens` when the request sets none.

    Raises:
        BadRequest: part of the request has no Anthropic form (see the package docstring).
        ValueError: `api_version` is not one this codec knows.
    """
    if api_version not in API_VERSIONS:
        raise ValueError(f"unknown anthropic-version {api_version!r}; expected one of {sorted(API_VERSIONS)}")
    body: dict[str, Any] = {}
    if vertex:
        body["anthropic_version"] = VERTEX_VERSION if api_version == API_VERSION else api_version
    else:
        body["model"] = model
    body["max_tokens"] = _max_tokens(request, default_max_tokens)
    body["messages"] = _messages(request.messages, api_version)
    _optional_fields(request, body, api_version)
    _tools_and_choice(request, body)
    body["stream"] = request.stream
    if request.source_protocol == PROTOCOL:  # same protocol: keep the client's other fields
        for key, value in request.extra.items():
            if key not in ROUTING_FIELDS and key != SERVER_TOOLS_KEY and key not in body:
                body[key] = value
    return orjson.dumps(body)
