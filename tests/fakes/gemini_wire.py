"""Gemini generateContent as the fake speaks it (Gemini API and Gemini on Vertex)."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.plan import Ask, Plan, texts

PROTOCOL = "gemini"

AUTH_STATUS = 401
"""The status a request without credentials gets."""


def matches(path: str) -> bool:
    return path.endswith((":generateContent", ":streamGenerateContent"))


def authorized(headers: Any) -> bool:
    bearer = headers.get("authorization", "")
    return bool(headers.get("x-goog-api-key")) or (bearer.startswith("Bearer ") and len(bearer) > 7)


def validate(body: Any, path: str) -> str | None:
    if not isinstance(body, dict):
        return "Invalid JSON payload received."
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "* GenerateContentRequest.contents: contents is not specified"
    for i, content in enumerate(contents):
        if not isinstance(content, dict) or content.get("role", "user") not in ("user", "model"):
            return f"* GenerateContentRequest.contents[{i}].role: Please use a valid role: user, model."
        if not content.get("parts"):
            return f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
    known = {"contents", "systemInstruction", "tools", "toolConfig", "safetySettings", "cachedContent"}
    known |= {"generationConfig", "labels"}
    unknown = {k for k in body if k not in known and field({k: 1}, _camel(k)) is None}
    if unknown:
        return f"Invalid JSON payload received. Unknown name {sorted(unknown)[0]!r}: Cannot find field."
    return None


def ask(body: dict[str, Any], path: str) -> Ask:
    contents = body["contents"]
    last_parts = contents[-1]["parts"]
    responses = [field(p, "functionResponse") for p in last_parts if field(p, "functionResponse")]
    user_texts = [
        " ".join(p["text"] for p in c["parts"] if "text" in p)
        for c in contents
        if c.get("role", "user") == "user"
    ]
    user_texts = [t for t in user_texts if t]
    declarations = [d for tool in body.get("tools") or [] for d in field(tool, "functionDeclarations") or []]
    calling = field(field(body, "toolConfig"), "functionCallingConfig") or {}
    allowed = field(calling, "allowedFunctionNames") or []
    thinking = field(field(body, "generationConfig"), "thinkingConfig") or {}
    model = path.rsplit("/models/", 1)[-1].split(":")[0]
    return Ask(
        model=model,
        last_user_text=user_texts[-1] if user_texts else "",
        all_text=texts(contents) + " " + texts(field(body, "systemInstruction")),
        tools=[(d["name"], _schema(d)) for d in declarations],
        forced_tool=allowed[0] if calling.get("mode") == "ANY" and len(allowed) == 1 else None,
        tools_allowed=calling.get("mode") != "NONE",
        after_tool_result=" ".join(_response_text(r) for r in responses) if responses else None,
        thinking=bool(field(thinking, "includeThoughts")),
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def field(message: Any, name: str) -> Any:
    """A field by its camelCase name or its snake_case one (proto JSON accepts both)."""
    if not isinstance(message, dict):
        return None
    if name in message:
        return message[name]
    return message.get("".join("_" + c.lower() if c.isupper() else c for c in name))


def _response_text(response: dict[str, Any]) -> str:
    """A function response's values, strings as they are (`{"result": "sunny"}` reads "sunny")."""
    values = (response.get("response") or {}).values()
    return " ".join(v if isinstance(v, str) else json.dumps(v) for v in values)


def _schema(declaration: dict[str, Any]) -> Any:
    """Proto JSON accepts a field's camelCase or snake_case name (the SDK sends the latter here)."""
    for key in ("parametersJsonSchema", "parameters_json_schema", "parameters"):
        if key in declaration:
            return declaration[key]
    return {}


def _usage(plan: Plan) -> dict[str, Any]:
    thoughts = len(plan.reasoning.split()) if plan.reasoning else 0
    usage = {
        "promptTokenCount": plan.input_tokens,
        "candidatesTokenCount": plan.output_tokens - thoughts,
        "totalTokenCount": plan.input_tokens + plan.output_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": plan.input_tokens}],
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def _calls(plan: Plan) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for i, call in enumerate(plan.calls):
        part: dict[str, Any] = {"functionCall": {"name": call.name, "args": call.arguments}}
        if i == 0 and plan.signature:
            part["thoughtSignature"] = plan.signature
        parts.append(part)
    return parts


def _response(plan: Plan, request_id: str, parts: list[dict[str, Any]], last: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": plan.model, "responseId": request_id}
    if last:
        candidate["finishReason"] = "STOP"
    body["usageMetadata"] = _usage(plan) if last else {"promptTokenCount": plan.input_tokens}
    return body


def answer(plan: Plan, request_id: str) -> bytes:
    parts: list[dict[str, Any]] = []
    if plan.reasoning:
        parts.append({"text": plan.reasoning, "thought": True})
    if plan.text:
        text: dict[str, Any] = {"text": plan.text}
        if plan.signature and not plan.calls:
            text["thoughtSignature"] = plan.signature
        parts.append(text)
    parts += _calls(plan)
    return json.dumps(_response(plan, request_id, parts, last=True)).encode()


def _sse(body: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(body).encode() + b"\r\n\r\n"


def stream(plan: Plan, request_id: str, include_usage: bool) -> list[bytes]:
    pieces: list[list[dict[str, Any]]] = []
    if plan.reasoning:
        pieces.append([{"text": plan.reasoning, "thought": True}])
    chunks = plan.text_chunks() if plan.text else []
    for i, piece in enumerate(chunks):
        part: dict[str, Any] = {"text": piece}
        if plan.signature and not plan.calls and i == len(chunks) - 1:
            part["thoughtSignature"] = plan.signature
        pieces.append([part])
    if plan.calls:
        pieces.append(_calls(plan))
    return [_sse(_response(plan, request_id, p, last=i == len(pieces) - 1)) for i, p in enumerate(pieces)]


STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error(status: int, message: str, retry_after: float | None = None) -> tuple[dict[str, str], bytes]:
    details = []
    if retry_after is not None:
        details.append(
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after:g}s"}
        )
    body = {"error": {"code": status, "message": message, "status": STATUSES.get(status, "UNKNOWN")}}
    if details:
        body["error"]["details"] = details
    return {"content-type": "application/json; charset=UTF-8"}, json.dumps(body).encode()


def in_band_error(message: str | None = None) -> bytes:
    error = {"code": 503, "message": message or "The model is overloaded.", "status": "UNAVAILABLE"}
    return _sse({"error": error})
