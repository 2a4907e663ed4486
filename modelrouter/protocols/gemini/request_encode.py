"""Provider side: IR -> the JSON body of `generateContent` (Gemini API and Gemini on Vertex).

Every IR feature either becomes its Gemini field, is dropped by a rule listed in the package
docstring, or raises `BadRequest` before anything is sent.
"""

from __future__ import annotations

import mimetypes
from typing import Any, Final

import orjson

from modelrouter import ir
from modelrouter.errors import BadRequest
from modelrouter.protocols.gemini._wire import ORIGIN
from modelrouter.protocols.tool_input import tool_input

__all__ = ["encode_request"]

MAX_STOP_SEQUENCES: Final = 5
_THINKING_LEVELS: Final = {
    "minimal": "MINIMAL",
    "low": "LOW",
    "medium": "MEDIUM",
    "high": "HIGH",
    "xhigh": "HIGH",
}
_FILE_SCHEMES: Final = ("gs://", "https://", "http://")


# --- media ----------------------------------------------------------------------------------


def _data_url(url: str) -> tuple[str, str] | None:
    header, sep, data = url.partition(",")
    if not sep or not header.startswith("data:") or not header.endswith(";base64"):
        return None
    return header[5:-7], data


def _media(part: ir.ImagePart | ir.DocumentPart, what: str) -> dict[str, Any]:
    media, data = part.media_type, part.data
    if data is None and part.url and part.url.startswith("data:"):
        split = _data_url(part.url)
        if split is None:
            raise BadRequest(f"{what}: a data: URL must be base64 (data:<type>;base64,<data>)")
        media, data = split
    if data is not None:
        if not media:
            media = "application/pdf" if isinstance(part, ir.DocumentPart) else _sniff(data)
        return {"inlineData": {"mimeType": media, "data": data}}
    url = part.url or ""
    if not url.startswith(_FILE_SCHEMES):
        raise BadRequest(f"{what}: Gemini takes inline data, gs:// or http(s) URLs; got {url[:60]!r}")
    media = media or mimetypes.guess_type(url.split("?", 1)[0])[0]
    if not media:
        raise BadRequest(f"{what}: Gemini needs the media type of {url[:80]!r}; send the data inline instead")
    return {"fileData": {"mimeType": media, "fileUri": url}}


def _sniff(data: str) -> str:
    head = data[:16]
    if head.startswith("iVBOR"):
        return "image/png"
    if head.startswith("/9j/"):
        return "image/jpeg"
    if head.startswith("R0lGOD"):
        return "image/gif"
    if head.startswith("UklGR"):
        return "image/webp"
    raise BadRequest("image: the media type is missing and the data is not PNG, JPEG, GIF or WebP")


# --- turns ----------------------------------------------------------------------------------


def _tool_names(messages: list[ir.Message]) -> dict[str, str]:
    return {p.id: p.name for m in messages for p in m.content if isinstance(p, ir.ToolCallPart)}


def _result(part: ir.ToolResultPart, names: dict[str, str]) -> list[dict[str, Any]]:
    name = part.name or names.get(part.tool_call_id)
    if not name:
        raise BadRequest(
            f"tool result {part.tool_call_id!r}: Gemini needs the called tool's name, and no call has that id"
        )
    text = "".join(p.text for p in part.content if isinstance(p, ir.TextPart))
    response = {"error": text} if part.is_error else {"result": text}
    out: list[dict[str, Any]] = [
        {"functionResponse": {"id": part.tool_call_id, "name": name, "response": response}}
    ]
    out += [_media(p, "tool result") for p in part.content if isinstance(p, ir.ImagePart | ir.DocumentPart)]
    return out


def _part(part: ir.Part, names: dict[str, str]) -> list[dict[str, Any]]:
    if isinstance(part, ir.TextPart):
        return [{"text": part.text}] if part.text else []
    if isinstance(part, ir.ImagePart):
        return [_media(part, "image")]
    if isinstance(part, ir.DocumentPart):
        return [_media(part, "document")]
    if isinstance(part, ir.ToolCallPart):
        call: dict[str, Any] = {"functionCall": {"id": part.id, "name": part.name, "args": _arguments(part)}}
        if part.signature:
            call["thoughtSignature"] = part.signature
        return [call]
    if isinstance(part, ir.ToolResultPart):
        return _result(part, names)
    return []


def _arguments(part: ir.ToolCallPart) -> dict[str, Any]:
    return tool_input(part, "Gemini")


def _reasoning(part: ir.ReasoningPart, out: list[dict[str, Any]]) -> None:
    """Gemini's own thoughts go back as sent; a bare signature rejoins the part before it."""
    if part.origin != ORIGIN or not (part.text or part.signature):
        return
    if part.text:
        thought: dict[str, Any] = {"text": part.text, "thought": True}
        if part.signature:
            thought["thoughtSignature"] = part.signature
        out.append(thought)
    elif out and "thoughtSignature" not in out[-1] and "functionCall" not in out[-1]:
        out[-1]["thoughtSignature"] = part.signature
    else:
        out.append({"text": "", "thoughtSignature": part.signature})


def _contents(messages: list[ir.Message]) -> list[dict[str, Any]]:
    names = _tool_names(messages)
    contents: list[dict[str, Any]] = []
    for message in messages:
        parts: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, ir.ReasoningPart):
                _reasoning(part, parts)
            else:
                parts += _part(part, names)
        if not parts:
            continue
        role = "model" if message.role == "assistant" else "user"
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"] += parts
        else:
            contents.append({"role": role, "parts": parts})
    if not contents:
        raise BadRequest("the request has no message content to send")
    return contents


# --- tools and generation -------------------------------------------------------------------


def _tools(request: ir.Request) -> dict[str, Any]:
    if not request.tools:
        choice = request.tool_choice
        if choice is not None and choice.mode in ("required", "tool"):
            raise BadRequest(f"tool_choice {choice.mode!r} needs tools, and the request has none")
        return {}
    declarations = []
    for tool in request.tools:
        declaration: dict[str, Any] = {"name": tool.name}
        if tool.description:
            declaration["description"] = tool.description
        declaration["parametersJsonSchema"] = {"type": "object", **tool.parameters}
        declarations.append(declaration)
    out: dict[str, Any] = {"tools": [{"functionDeclarations": declarations}]}
    choice = request.tool_choice
    if choice is not None and choice.mode != "auto":
        config: dict[str, Any] = {"mode": {"none": "NONE", "required": "ANY", "tool": "ANY"}[choice.mode]}
        if choice.mode == "tool":
            if choice.name not in {t.name for t in request.tools}:
                raise BadRequest(f"tool_choice names {choice.name!r}, which is not among the tools")
            config["allowedFunctionNames"] = [choice.name]
        out["toolConfig"] = {"functionCallingConfig": config}
    return out


def _thinking(reasoning: ir.ReasoningConfig | None) -> dict[str, Any] | None:
    if reasoning is None:
        return None
    config: dict[str, Any] = {}
    if reasoning.enabled is False or reasoning.effort == "none":
        config["thinkingBudget"] = 0
    elif reasoning.budget_tokens is not None:
        config["thinkingBudget"] = reasoning.budget_tokens
    elif reasoning.effort:
        level = _THINKING_LEVELS.get(reasoning.effort)
        if level is None:
            raise BadRequest(f"reasoning effort {reasoning.effort!r} has no Gemini thinking level")
        config["thinkingLevel"] = level
    if reasoning.include_thoughts is not None:
        config["includeThoughts"] = reasoning.include_thoughts
    return config or None


def _generation(request: ir.Request) -> dict[str, Any]:
    sampling = {
        "maxOutputTokens": request.max_tokens,
        "temperature": request.temperature,
        "topP": request.top_p,
        "topK": request.top_k,
        "seed": request.seed,
    }
    config: dict[str, Any] = {k: v for k, v in sampling.items() if v is not None}
    if request.stop:
        if len(request.stop) > MAX_STOP_SEQUENCES:
            raise BadRequest(
                f"Gemini takes at most {MAX_STOP_SEQUENCES} stop sequences, not {len(request.stop)}"
            )
        config["stopSequences"] = list(request.stop)
    fmt = request.response_format
    if fmt is not None and fmt.type != "text":
        config["responseMimeType"] = "application/json"
        if fmt.type == "json_schema" and fmt.schema is not None:
            config["responseJsonSchema"] = fmt.schema
    thinking = _thinking(request.reasoning)
    if thinking is not None:
        config["thinkingConfig"] = thinking
    return config


def encode_request(request: ir.Request, *, model: str = "", **options: Any) -> bytes:
    """The `generateContent` body for `request` (the model travels in the URL, not the body)."""
    body: dict[str, Any] = {"contents": _contents(request.messages)}
    system = [{"text": p.text} for p in request.system if p.text]
    if system:
        body["systemInstruction"] = {"parts": system}
    body.update(_tools(request))
    generation = _generation(request)
    if generation:
        body["generationConfig"] = generation
    return orjson.dumps(body)
