"""Bedrock Converse and ConverseStream as the fake speaks them (event-stream framing included)."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any
from urllib.parse import unquote

from tests.fakes.plan import Ask, Plan, texts

PROTOCOL = "bedrock_converse"
TOP_LEVEL = {
    "messages",
    "system",
    "inferenceConfig",
    "toolConfig",
    "guardrailConfig",
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "promptVariables",
    "requestMetadata",
    "performanceConfig",
    "outputConfig",
    "serviceTier",
}

AUTH_STATUS = 403
"""The status a request without credentials gets."""


def matches(path: str) -> bool:
    return "/model/" in path and path.endswith(("/converse", "/converse-stream"))


def authorized(headers: Any) -> bool:
    auth = headers.get("authorization", "")
    return auth.startswith("AWS4-HMAC-SHA256 Credential=") or (auth.startswith("Bearer ") and len(auth) > 7)


def validate(body: Any, path: str) -> str | None:
    if not isinstance(body, dict):
        return "Malformed input request, please reformat your input and try again."
    unknown = set(body) - TOP_LEVEL
    if unknown:
        return f"Malformed input request: extraneous key [{sorted(unknown)[0]}] is not permitted"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "A conversation must start with a user message. Try again with a conversation that starts with a user message."  # noqa: E501
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: member must satisfy enum value set: [user, assistant]"
        if not message.get("content"):
            return f"The content field in the Message object at messages.{i} is empty."
    if messages[0]["role"] != "user":
        return "A conversation must start with a user message."
    return None


def model_id(path: str) -> str:
    return unquote(path.split("/model/", 1)[1].rsplit("/", 1)[0])


def ask(body: dict[str, Any], path: str) -> Ask:
    messages = body["messages"]
    results = [b["toolResult"] for b in messages[-1]["content"] if "toolResult" in b]
    user_texts = [
        " ".join(b["text"] for b in m["content"] if "text" in b) for m in messages if m["role"] == "user"
    ]
    user_texts = [t for t in user_texts if t]
    config = body.get("toolConfig") or {}
    specs = [t["toolSpec"] for t in config.get("tools") or [] if "toolSpec" in t]
    choice = config.get("toolChoice") or {}
    thinking = (body.get("additionalModelRequestFields") or {}).get("thinking") or {}
    return Ask(
        model=model_id(path),
        last_user_text=user_texts[-1] if user_texts else "",
        all_text=texts(messages) + " " + texts(body.get("system")),
        tools=[(s["name"], (s.get("inputSchema") or {}).get("json") or {}) for s in specs],
        forced_tool=(choice.get("tool") or {}).get("name"),
        after_tool_result=(texts(results) or json.dumps(results)) if results else None,
        thinking=thinking.get("type") == "enabled",
        cache_marks=json.dumps(body).count('"cachePoint"'),
    )


def _usage(plan: Plan) -> dict[str, Any]:
    return {
        "inputTokens": plan.input_tokens,
        "outputTokens": plan.output_tokens,
        "totalTokens": plan.input_tokens + plan.output_tokens,
        "cacheReadInputTokens": plan.cache_read_tokens,
        "cacheWriteInputTokens": 0,
    }


def answer(plan: Plan, request_id: str) -> bytes:
    content: list[dict[str, Any]] = []
    if plan.reasoning:
        content.append(
            {"reasoningContent": {"reasoningText": {"text": plan.reasoning, "signature": plan.signature}}}
        )
    if plan.text:
        content.append({"text": plan.text})
    content += [{"toolUse": {"toolUseId": c.id, "name": c.name, "input": c.arguments}} for c in plan.calls]
    body = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": plan.stop,
        "usage": _usage(plan),
        "metrics": {"latencyMs": 12},
    }
    return json.dumps(body).encode()


def _header(name: str, value: str) -> bytes:
    key, raw = name.encode(), value.encode()
    return struct.pack(">B", len(key)) + key + b"\x07" + struct.pack(">H", len(raw)) + raw


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude, its CRC, headers, payload, message CRC."""
    encoded = b"".join(_header(k, v) for k, v in headers.items())
    prelude = struct.pack(">II", 16 + len(encoded) + len(payload), len(encoded))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event(name: str, body: dict[str, Any]) -> bytes:
    headers = {":event-type": name, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, json.dumps({**body, "p": "abcdefgh"}).encode())


def stream(plan: Plan, request_id: str, include_usage: bool) -> list[bytes]:
    out = [event("messageStart", {"role": "assistant"})]
    index = 0
    if plan.reasoning:
        for word in plan.reasoning.split(" "):
            out.append(
                event(
                    "contentBlockDelta",
                    {"contentBlockIndex": index, "delta": {"reasoningContent": {"text": word + " "}}},
                )
            )
        out.append(
            event(
                "contentBlockDelta",
                {"contentBlockIndex": index, "delta": {"reasoningContent": {"signature": plan.signature}}},
            )
        )
        out.append(event("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    if plan.text:
        for piece in plan.text_chunks():
            out.append(event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": piece}}))
        out.append(event("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    for call in plan.calls:
        start = {"toolUse": {"toolUseId": call.id, "name": call.name}}
        out.append(event("contentBlockStart", {"contentBlockIndex": index, "start": start}))
        arguments = json.dumps(call.arguments)
        middle = len(arguments) // 2
        for fragment in (arguments[:middle], arguments[middle:]):
            delta = {"toolUse": {"input": fragment}}
            out.append(event("contentBlockDelta", {"contentBlockIndex": index, "delta": delta}))
        out.append(event("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    out.append(event("messageStop", {"stopReason": plan.stop}))
    out.append(event("metadata", {"usage": _usage(plan), "metrics": {"latencyMs": 12}}))
    return out


ERROR_CODES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}


def error(status: int, message: str, retry_after: float | None = None) -> tuple[dict[str, str], bytes]:
    code = (
        "UnrecognizedClientException" if status == 401 else ERROR_CODES.get(status, "InternalServerException")
    )
    headers = {
        "content-type": "application/json",
        "x-amzn-errortype": f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        "x-amzn-requestid": "00000000-0000-4000-8000-000000000000",
    }
    return headers, json.dumps({"message": message}).encode()


def in_band_error(message: str | None = None) -> bytes:
    headers = {
        ":exception-type": "serviceUnavailableException",
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return frame(
        headers, json.dumps({"message": message or "Bedrock is unable to process your request."}).encode()
    )
