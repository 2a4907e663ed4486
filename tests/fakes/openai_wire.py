"""OpenAI Chat Completions as the fake speaks it (also Azure, xAI, DeepSeek, OpenRouter, local)."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.plan import Ask, Plan, texts

PROTOCOL = "openai_chat"
CREATED = 1_764_000_000

AUTH_STATUS = 401
"""The status a request without credentials gets."""


def matches(path: str) -> bool:
    return path.endswith("/chat/completions")


def authorized(headers: Any) -> bool:
    bearer = headers.get("authorization", "")
    return (bearer.startswith("Bearer ") and len(bearer) > 7) or bool(headers.get("api-key"))


def validate(body: Any, path: str) -> str | None:
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request."
    if "model" not in body and "/deployments/" not in path:
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "[] is too short - 'messages'"
    roles = {"system", "developer", "user", "assistant", "tool"}
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in roles:
            return f"Invalid value for 'messages[{i}].role'"
    return None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def ask(body: dict[str, Any], path: str) -> Ask:
    messages = body["messages"]
    users = [m for m in messages if m["role"] == "user"]
    last = messages[-1]
    tools = [(t["function"]["name"], t["function"].get("parameters") or {}) for t in body.get("tools") or []]
    choice = body.get("tool_choice")
    forced = choice["function"]["name"] if isinstance(choice, dict) else None
    effort = body.get("reasoning_effort")
    return Ask(
        model=str(body.get("model") or path.split("/deployments/")[-1].split("/")[0]),
        last_user_text=_text(users[-1].get("content")) if users else "",
        all_text=texts(messages) + " " + " ".join(_text(m.get("content")) for m in messages),
        tools=tools,
        forced_tool=forced,
        tools_allowed=choice != "none",
        after_tool_result=_text(last.get("content")) if last["role"] == "tool" else None,
        thinking=effort not in (None, "none", "minimal"),
        include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
    )


def _usage(plan: Plan) -> dict[str, Any]:
    reasoning = len(plan.reasoning.split())
    return {
        "prompt_tokens": plan.input_tokens,
        "completion_tokens": plan.output_tokens,
        "total_tokens": plan.input_tokens + plan.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0},
    }


def _calls(plan: Plan) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
        for c in plan.calls
    ]


def _finish(plan: Plan) -> str:
    return "tool_calls" if plan.calls else "stop"


def answer(plan: Plan, request_id: str) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": plan.text or None, "refusal": None}
    if plan.reasoning:
        message["reasoning_content"] = plan.reasoning
    if plan.calls:
        message["tool_calls"] = _calls(plan)
    body = {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": CREATED,
        "model": plan.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": _finish(plan)}],
        "usage": _usage(plan),
        "system_fingerprint": "fp_fake",
    }
    return json.dumps(body).encode()


def stream(plan: Plan, request_id: str, include_usage: bool) -> list[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        body = {
            "id": f"chatcmpl-{request_id}",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": plan.model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            **extra,
        }
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    out = [chunk({"role": "assistant", "content": "", "refusal": None})]
    for word in plan.reasoning.split(" ") if plan.reasoning else []:
        out.append(chunk({"reasoning_content": word + " "}))
    for piece in plan.text_chunks() if plan.text else []:
        out.append(chunk({"content": piece}))
    for index, call in enumerate(plan.calls):
        head = {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        out.append(chunk({"tool_calls": [head]}))
        arguments = json.dumps(call.arguments)
        middle = len(arguments) // 2
        for fragment in (arguments[:middle], arguments[middle:]):
            out.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}))
    out.append(chunk({}, _finish(plan)))
    if include_usage:
        body = {
            "id": f"chatcmpl-{request_id}",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": plan.model,
            "choices": [],
            "usage": _usage(plan),
        }
        out.append(b"data: " + json.dumps(body).encode() + b"\n\n")
    out.append(b"data: [DONE]\n\n")
    return out


ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 429: "rate_limit_exceeded"}


def error(status: int, message: str, retry_after: float | None = None) -> tuple[dict[str, str], bytes]:
    kind = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    code = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(status)
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return {"content-type": "application/json"}, json.dumps(body).encode()


def in_band_error(message: str | None = None) -> bytes:
    body = {
        "error": {
            "message": message or "The server had an error while processing your request.",
            "type": "server_error",
        }
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"
