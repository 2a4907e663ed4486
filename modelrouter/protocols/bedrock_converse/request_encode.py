"""Provider side: IR -> the JSON body of Bedrock Converse / ConverseStream.

Every IR feature either becomes its Converse field, is dropped by a rule listed in the package
docstring, or raises `BadRequest` before anything is sent. The model id travels in the URL.
"""

from __future__ import annotations

import re
from typing import Any, Final

import orjson

from modelrouter import ir
from modelrouter.errors import BadRequest
from modelrouter.protocols.bedrock_converse._wire import ORIGIN
from modelrouter.protocols.tool_input import tool_input

__all__ = ["encode_request"]

IMAGE_FORMATS: Final = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}
DOCUMENT_FORMATS: Final = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/plain": "txt",
    "text/markdown": "md",
}
_TOOL_ID_BAD: Final = re.compile(r"[^A-Za-z0-9_-]")
_NAME_BAD: Final = re.compile(r"[^A-Za-z0-9\s\-()\[\]]")


def _cache_point(control: ir.CacheControl | None) -> list[dict[str, Any]]:
    if control is None:
        return []
    point: dict[str, Any] = {"type": "default"}
    if control.ttl:
        point["ttl"] = control.ttl
    return [{"cachePoint": point}]


def _tool_id(ident: str) -> str:
    return _TOOL_ID_BAD.sub("_", ident)[:64] or "tool"


def _inline(part: ir.ImagePart | ir.DocumentPart, what: str) -> tuple[str | None, dict[str, Any]]:
    media, data = part.media_type, part.data
    url = part.url or ""
    if data is None and url.startswith("data:"):
        header, _, data = url.partition(",")
        if not header.endswith(";base64"):
            raise BadRequest(f"{what}: a data: URL must be base64 (data:<type>;base64,<data>)")
        media = header[5:-7]
    if data is not None:
        return media, {"bytes": data}
    if url.startswith("s3://"):
        return media, {"s3Location": {"uri": url}}
    raise BadRequest(f"{what}: Bedrock takes inline data or s3:// locations, not URLs like {url[:60]!r}")


def _image(part: ir.ImagePart) -> dict[str, Any]:
    media, source = _inline(part, "image")
    if media is None and "bytes" in source:
        media = _sniff(source["bytes"])
    fmt = IMAGE_FORMATS.get(str(media).lower())
    if fmt is None:
        raise BadRequest(f"image: Bedrock takes PNG, JPEG, GIF or WebP, not {media}")
    return {"image": {"format": fmt, "source": source}}


def _sniff(data: str) -> str | None:
    prefixes = {"iVBOR": "image/png", "/9j/": "image/jpeg", "R0lGOD": "image/gif", "UklGR": "image/webp"}
    return next((media for prefix, media in prefixes.items() if data.startswith(prefix)), None)


def _document(part: ir.DocumentPart) -> dict[str, Any]:
    media, source = _inline(part, "document")
    fmt = DOCUMENT_FORMATS.get(str(media or "application/pdf").lower())
    if fmt is None:
        raise BadRequest(f"document: Bedrock does not take {media} documents")
    name = " ".join(_NAME_BAD.sub(" ", part.filename or "document").split())[:200] or "document"
    return {"document": {"format": fmt, "name": name, "source": source}}


def _arguments(part: ir.ToolCallPart) -> dict[str, Any]:
    return tool_input(part, "Bedrock")


def _result(part: ir.ToolResultPart) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    for item in part.content:
        if isinstance(item, ir.TextPart):
            if item.text:
                content.append({"text": item.text})
        elif isinstance(item, ir.ImagePart):
            content.append(_image(item))
        else:
            content.append(_document(item))
    result: dict[str, Any] = {"toolUseId": _tool_id(part.tool_call_id), "content": content or [{"text": ""}]}
    if part.is_error:
        result["status"] = "error"
    return [{"toolResult": result}, *_cache_point(part.cache_control)]


def _reasoning(part: ir.ReasoningPart) -> list[dict[str, Any]]:
    if part.origin != ORIGIN:
        return []
    if part.redacted:
        return [{"reasoningContent": {"redactedContent": part.redacted}}]
    if not part.signature:
        return []
    return [{"reasoningContent": {"reasoningText": {"text": part.text, "signature": part.signature}}}]


def _blocks(part: ir.Part) -> list[dict[str, Any]]:
    if isinstance(part, ir.TextPart):
        return [{"text": part.text}, *_cache_point(part.cache_control)] if part.text.strip() else []
    if isinstance(part, ir.ImagePart):
        return [_image(part), *_cache_point(part.cache_control)]
    if isinstance(part, ir.DocumentPart):
        return [_document(part), *_cache_point(part.cache_control)]
    if isinstance(part, ir.ReasoningPart):
        return _reasoning(part)
    if isinstance(part, ir.ToolCallPart):
        return [{"toolUse": {"toolUseId": _tool_id(part.id), "name": part.name, "input": _arguments(part)}}]
    return _result(part)


def _messages(messages: list[ir.Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in messages:
        content = [block for part in message.content for block in _blocks(part)]
        if not content:
            continue
        if out and out[-1]["role"] == message.role:
            out[-1]["content"] += content
        else:
            out.append({"role": message.role, "content": content})
    if not out:
        raise BadRequest("the request has no message content to send")
    if out[0]["role"] != "user":
        raise BadRequest("Bedrock conversations must start with a user turn")
    return out


def _has_tool_history(messages: list[dict[str, Any]]) -> bool:
    return any("toolUse" in b or "toolResult" in b for m in messages for b in m["content"])


def _tool_config(request: ir.Request, messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    choice = request.tool_choice
    if not request.tools:
        if choice is not None and choice.mode in ("required", "tool"):
            raise BadRequest(f"tool_choice {choice.mode!r} needs tools, and the request has none")
        return None
    if choice is not None and choice.mode == "none" and not _has_tool_history(messages):
        return None
    tools: list[dict[str, Any]] = []
    for tool in request.tools:
        spec: dict[str, Any] = {
            "name": tool.name,
            "inputSchema": {"json": {"type": "object", **tool.parameters}},
        }
        if tool.description:
            spec["description"] = tool.description
        tools.append({"toolSpec": spec})
        tools += _cache_point(tool.cache_control)
    config: dict[str, Any] = {"tools": tools}
    if choice is not None and choice.mode == "required":
        config["toolChoice"] = {"any": {}}
    elif choice is not None and choice.mode == "tool":
        if choice.name not in {t.name for t in request.tools}:
            raise BadRequest(f"tool_choice names {choice.name!r}, which is not among the tools")
        config["toolChoice"] = {"tool": {"name": choice.name}}
    elif choice is not None and choice.mode == "auto":
        config["toolChoice"] = {"auto": {}}
    return config


def _is_claude(model: str) -> bool:
    return "anthropic." in model or (model.startswith("arn:") and "claude" in model)


def _additional(request: ir.Request, model: str) -> dict[str, Any]:
    if not _is_claude(model):
        return {}
    fields: dict[str, Any] = {}
    reasoning = request.reasoning
    if reasoning is not None and reasoning.enabled is not False and reasoning.effort != "none":
        if reasoning.budget_tokens is not None:
            fields["thinking"] = {"type": "enabled", "budget_tokens": reasoning.budget_tokens}
        elif reasoning.enabled or reasoning.effort:
            fields["thinking"] = {"type": "adaptive"}
    if request.top_k is not None:
        fields["top_k"] = request.top_k
    betas = request.extra.get("anthropic_beta")
    if isinstance(betas, list) and betas:
        fields["anthropic_beta"] = [str(b) for b in betas]
    return fields


def _inference(request: ir.Request) -> dict[str, Any]:
    config = {
        "maxTokens": request.max_tokens,
        "temperature": request.temperature,
        "topP": request.top_p,
        "stopSequences": list(request.stop) or None,
    }
    return {k: v for k, v in config.items() if v is not None}


def encode_request(request: ir.Request, *, model: str = "", **options: Any) -> bytes:
    """The Converse body for `request`; `model` (the provider's id) decides Claude-only fields."""
    messages = _messages(request.messages)
    body: dict[str, Any] = {"messages": messages}
    system = [block for part in request.system for block in _blocks(part)]
    if system:
        body["system"] = system
    inference = _inference(request)
    if inference:
        body["inferenceConfig"] = inference
    tools = _tool_config(request, messages)
    if tools is not None:
        body["toolConfig"] = tools
    additional = _additional(request, model)
    if additional:
        body["additionalModelRequestFields"] = additional
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema" and fmt.schema is not None:
        structure: dict[str, Any] = {"schema": orjson.dumps(fmt.schema).decode()}
        if fmt.name:
            structure["name"] = fmt.name
        body["outputConfig"] = {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": structure}}}
    return orjson.dumps(body)
