"""Same protocol both sides: the client's own body goes to Anthropic.

Claude Code and the Anthropic SDKs build their requests for prompt caching: `system` blocks
and `system` turns with `cache_control`, tools in a fixed order, thinking blocks with their
signatures. The body therefore goes on as the client wrote it (every block, every unknown
field), except that `model` is the provider's model id and the routing fields `route`,
`provider`, `models` go; the provider adapter sends the client's `anthropic-version` and
`anthropic-beta` with it, since the body was written for them.

A conversation that passed through another provider (reasoning without an Anthropic
signature, tool-call ids outside Anthropic's alphabet, blank text blocks) takes the IR path,
which repairs what the API would refuse; so do `system` turns inside `messages` under
`anthropic-version: 2023-06-01`, which only later versions accept there.
"""

from __future__ import annotations

import re
from typing import Any, Final

import orjson

from modelrouter import ir
from modelrouter.errors import UpstreamProtocolError
from modelrouter.protocols.anthropic_messages._wire import API_VERSION, PROTOCOL, ROUTING_FIELDS, usage_to_ir

__all__ = ["passthrough_request", "relayed_response"]

_TOOL_ID: Final = re.compile(r"[A-Za-z0-9_-]+")


def passthrough_request(request: ir.Request, *, model: str) -> bytes | None:
    """The body for Anthropic's own API, or None when the IR path must translate."""
    source = request.source
    if source is None or request.source_protocol != PROTOCOL or not _plain(request, source):
        return None
    body: dict[str, Any] = {k: v for k, v in source.items() if k not in ROUTING_FIELDS}
    body["model"] = model
    return orjson.dumps(body)


def relayed_response(body: bytes) -> ir.Response:
    """What the gateway needs of an answer it relays as is: that it is a Message, and its usage."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UpstreamProtocolError(f"Anthropic answered something that is not JSON: {exc}") from exc
    if (
        not isinstance(data, dict)
        or data.get("type") != "message"
        or not isinstance(data.get("content"), list)
    ):
        raise UpstreamProtocolError("Anthropic answered something that is not a Message")
    usage = data.get("usage")
    model = data.get("model")
    return ir.Response(
        id=str(data.get("id") or ""),
        model=model if isinstance(model, str) else "",
        usage=usage_to_ir(usage if isinstance(usage, dict) else {}),
    )


def _plain(request: ir.Request, source: dict[str, Any]) -> bool:
    """Whether the API takes the client's messages as they are."""
    messages = source.get("messages")
    if not isinstance(messages, list):
        return False
    if request.source_headers.get("anthropic-version", API_VERSION) == API_VERSION and any(
        isinstance(m, dict) and m.get("role") == "system" for m in messages
    ):
        return False
    return all(_takes(part) for message in request.messages for part in message.content)


def _takes(part: ir.Part) -> bool:
    """Whether the API accepts this part of an earlier turn as the client sent it."""
    if isinstance(part, ir.ReasoningPart):
        return part.origin == "anthropic" and bool(part.signature or part.redacted)
    if isinstance(part, ir.TextPart):
        return bool(part.text.strip())
    if isinstance(part, ir.ToolCallPart):
        return _TOOL_ID.fullmatch(part.id) is not None
    if isinstance(part, ir.ToolResultPart):
        return _TOOL_ID.fullmatch(part.tool_call_id) is not None
    return True
