"""Same protocol both sides: the client's own body goes to an OpenAI-compatible provider.

Re-encoding from the IR would be lossless for most requests, but costs CPU and drops what
the IR does not model (a mid-conversation system message keeps its place here, a message's
`name` stays, new OpenAI fields pass). The body is the client's, except:

* `model` is the provider's model id; the routing fields `route`, `provider`, `models` go;
* `max_tokens` becomes `max_completion_tokens` (OpenAI's reasoning models refuse the old
  name), as the IR path writes it;
* a stream asks for `stream_options.include_usage` (the ledger needs usage; the gateway
  drops the usage chunk again when the client did not ask for it).

Requests whose conversation came through another provider (reasoning, Gemini signatures,
OpenRouter's `cache_control`) take the IR path, which knows what OpenAI accepts of them.
"""

from __future__ import annotations

from typing import Any

import orjson

from modelrouter import errors, ir
from modelrouter.protocols.openai_chat._common import PROTOCOL, ROUTING_FIELDS, decode_usage
from modelrouter.protocols.openai_chat.response import answer_object

__all__ = ["passthrough_request", "relayed_response"]


def passthrough_request(request: ir.Request, *, model: str) -> bytes | None:
    """The body for a provider speaking this protocol, or None when the IR path must translate."""
    source = request.source
    if source is None or request.source_protocol != PROTOCOL or not _plain(request):
        return None
    body: dict[str, Any] = {k: v for k, v in source.items() if k not in ROUTING_FIELDS}
    body["model"] = model
    if "max_tokens" in body:
        legacy = body.pop("max_tokens")
        body.setdefault("max_completion_tokens", legacy)
    if body.get("stream") is True:
        options = body.get("stream_options")
        options = dict(options) if isinstance(options, dict) else {}
        if options.get("include_usage") is not True:
            options["include_usage"] = True
            body["stream_options"] = options
    return orjson.dumps(body)


def relayed_response(body: bytes) -> ir.Response:
    """What the gateway needs of an answer it relays as is: that it is one, and its usage.

    The client reads the provider's own body, so the answer is not decoded into the IR; a
    body that is not a chat completion is still `UpstreamProtocolError` (and a fallback).
    """
    data = answer_object(body)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise errors.UpstreamProtocolError("the provider's answer has no `choices`")
    if not isinstance(choices[0].get("message"), dict):
        raise errors.UpstreamProtocolError("the provider's answer has no `choices[0].message`")
    model = data.get("model")
    return ir.Response(
        id=str(data.get("id") or ""),
        model=model if isinstance(model, str) else "",
        usage=decode_usage(data.get("usage")) or ir.Usage(),
    )


def _plain(request: ir.Request) -> bool:
    """Whether nothing in the conversation needs the IR's care on its way to an OpenAI server."""
    for message in request.messages:
        for part in message.content:
            if isinstance(part, ir.ReasoningPart):
                return False
            if isinstance(part, ir.ToolCallPart) and part.signature:
                return False
            if getattr(part, "cache_control", None) is not None:
                return False
    return True
