"""Anthropic Messages as the fake speaks it (direct, and Claude on Vertex via rawPredict)."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.plan import Ask, Plan, texts

PROTOCOL = "anthropic_messages"

AUTH_STATUS = 401
"""The status a request without credentials gets."""


def matches(path: str) -> bool:
    return path.endswith(("/v1/messages", ":rawPredict", ":streamRawPredict"))


def is_vertex(path: str) -> bool:
    return path.endswith((":rawPredict", ":streamRawPredict"))


def authorized(headers: Any) -> bool:
    bearer = headers.get("authorization", "")
    return bool(headers.get("x-api-key")) or (bearer.startswith("Bearer ") and len(bearer) > 7)


def validate(body: Any, path: str, headers: Any) -> str | None:
    if not isinstance(body, dict):
        return "There was an error parsing the body of your request"
    problem = _check_vertex(body) if is_vertex(path) else _check_direct(body, headers)
    if problem is None and not isinstance(body.get("max_tokens"), int):
        problem = "max_tokens: Field required"
    # anthropic-version 2026-10-21 (SDK 2.x) also takes `system` turns inside `messages`
    roles = (
        ("user", "assistant", "system")
        if headers.get("anthropic-version") == "2026-10-21"
        else ("user", "assistant")
    )
    return problem or _check_messages(body.get("messages"), roles)


def _check_vertex(body: dict[str, Any]) -> str | None:
    if "anthropic_version" not in body:
        return "anthropic_version: Field required"
    return "model: Extra inputs are not permitted" if "model" in body else None


def _check_direct(body: dict[str, Any], headers: Any) -> str | None:
    if not headers.get("anthropic-version"):
        return "anthropic-version: header is required"
    return None if isinstance(body.get("model"), str) else "model: Field required"


def _check_messages(messages: Any, roles: tuple[str, ...]) -> str | None:
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in roles:
            return f"messages.{i}.role: Input should be " + " or ".join(f"'{r}'" for r in roles)
        content = message.get("content")
        for j, block in enumerate(content if isinstance(content, list) else []):
            if block.get("type") == "text" and not block.get("text", "").strip():
                return f"messages.{i}.content.{j}.text: text content blocks must be non-empty"
    return None


def _blocks(content: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])


def ask(body: dict[str, Any], path: str) -> Ask:
    messages = body["messages"]
    last = _blocks(messages[-1]["content"])
    results = [b for b in last if b.get("type") == "tool_result"]
    user_texts = [
        " ".join(b["text"] for b in _blocks(m["content"]) if b.get("type") == "text")
        for m in messages
        if m["role"] == "user"
    ]
    user_texts = [t for t in user_texts if t]
    choice = body.get("tool_choice") or {}
    model = body.get("model") or path.rsplit("/models/", 1)[-1].split(":")[0]
    return Ask(
        model=str(model),
        last_user_text=user_texts[-1] if user_texts else "",
        all_text=texts(messages)
        + " "
        + texts(body.get("system"))
        + " "
        + " ".join(m["content"] for m in messages if isinstance(m["content"], str)),
        tools=[(t["name"], t.get("input_schema") or {}) for t in body.get("tools") or [] if "name" in t],
        forced_tool=choice.get("name") if choice.get("type") == "tool" else None,
        tools_allowed=choice.get("type") != "none",
        after_tool_result=" ".join(_result_text(r) for r in results) if results else None,
        cache_marks=json.dumps(body).count('"cache_control"'),
        thinking=(body.get("thinking") or {}).get("type") in ("enabled", "adaptive"),
    )


def _result_text(result: dict[str, Any]) -> str:
    content = result.get("content")
    return content if isinstance(content, str) else texts(content) or "(empty)"


def _content(plan: Plan) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if plan.reasoning:
        blocks.append({"type": "thinking", "thinking": plan.reasoning, "signature": plan.signature})
    if plan.text:
        blocks.append({"type": "text", "text": plan.text})
    blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in plan.calls]
    return blocks


def _usage(plan: Plan, output: int) -> dict[str, Any]:
    return {
        "input_tokens": plan.input_tokens,
        "output_tokens": output,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": plan.cache_read_tokens,
    }


def answer(plan: Plan, request_id: str) -> bytes:
    body = {
        "id": f"msg_{request_id}",
        "type": "message",
        "role": "assistant",
        "model": plan.model,
        "content": _content(plan),
        "stop_reason": plan.stop,
        "stop_sequence": None,
        "usage": _usage(plan, plan.output_tokens),
    }
    return json.dumps(body).encode()


def _event(data: dict[str, Any]) -> bytes:
    return f"event: {data['type']}\ndata: ".encode() + json.dumps(data).encode() + b"\n\n"


def stream(plan: Plan, request_id: str, include_usage: bool) -> list[bytes]:
    message: dict[str, Any] = {
        "id": f"msg_{request_id}",
        "type": "message",
        "role": "assistant",
        "model": plan.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": _usage(plan, 1),
    }
    out = [_event({"type": "message_start", "message": message}), _event({"type": "ping"})]
    index = 0

    def block(start: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
        nonlocal index
        out.append(_event({"type": "content_block_start", "index": index, "content_block": start}))
        out.extend(_event({"type": "content_block_delta", "index": index, "delta": d}) for d in deltas)
        out.append(_event({"type": "content_block_stop", "index": index}))
        index += 1

    if plan.reasoning:
        words = plan.reasoning.split(" ")
        thinking = [
            {"type": "thinking_delta", "thinking": w + (" " if i < len(words) - 1 else "")}
            for i, w in enumerate(words)
        ]
        block(
            {"type": "thinking", "thinking": "", "signature": ""},
            [*thinking, {"type": "signature_delta", "signature": plan.signature}],
        )
    if plan.text:
        block({"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in plan.text_chunks()])
    for call in plan.calls:
        arguments = json.dumps(call.arguments)
        middle = len(arguments) // 2
        block(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": {}},
            [
                {"type": "input_json_delta", "partial_json": f}
                for f in ("", arguments[:middle], arguments[middle:])
            ],
        )
    out.append(
        _event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": plan.stop, "stop_sequence": None},
                "usage": {"output_tokens": plan.output_tokens},
            }
        )
    )
    out.append(_event({"type": "message_stop"}))
    return out


ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def error(status: int, message: str, retry_after: float | None = None) -> tuple[dict[str, str], bytes]:
    kind = ERROR_TYPES.get(status, "api_error")
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"}
    return {"content-type": "application/json", "request-id": "req_fake"}, json.dumps(body).encode()


def in_band_error(message: str | None = None) -> bytes:
    return _event(
        {"type": "error", "error": {"type": "overloaded_error", "message": message or "Overloaded"}}
    )
