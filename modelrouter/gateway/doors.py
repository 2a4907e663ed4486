"""The front doors: each client protocol the gateway speaks, as one object the handler drives.

A door wraps that protocol's client-side codec: decode the request, encode an answer, a
stream and an error. Adding a front door is one small class here plus its codec.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any, ClassVar

import orjson
from typing_extensions import override

from modelrouter import ir
from modelrouter.gateway.asgi import Scope, header
from modelrouter.protocols import anthropic_messages, openai_chat, openai_responses

__all__ = ["ANTHROPIC", "DOORS", "OPENAI", "Door"]


class Door:
    """A client protocol: its path and codec."""

    protocol: ClassVar[str]
    path: ClassVar[str]
    codec: ModuleType

    def decode(self, body: bytes) -> ir.Request:
        """The client's request as IR (raises `BadRequest`)."""
        request: ir.Request = self.codec.decode_request(body)
        return request

    def header_fields(self, scope: Scope, request: ir.Request) -> None:
        """Carry request headers that mean something to this protocol into the IR (none here)."""

    def encode_response(self, response: ir.Response, provider: str) -> bytes:
        """A complete answer in this protocol."""
        body: bytes = self.codec.encode_response(response)
        return body

    def relay_response(self, raw: bytes, provider: str) -> bytes:
        """A provider's answer in this very protocol, as the client receives it (unchanged here)."""
        return raw

    def stream_encoder(self, request: ir.Request, model: str) -> Any:
        """A stream encoder for one answer (`.encode(event) -> bytes`)."""
        return self.codec.StreamEncoder(model=model)

    def encode_error(self, status: int, kind: str, message: str) -> bytes:
        """An error body in this protocol."""
        body: bytes = self.codec.encode_error(status, kind, message)
        return body


class OpenAIDoor(Door):
    """`POST /v1/chat/completions`: bodies name the provider; streams carry usage when asked."""

    protocol = "openai_chat"
    path = "/v1/chat/completions"

    def __init__(self) -> None:
        self.codec = openai_chat

    @override
    def encode_response(self, response: ir.Response, provider: str) -> bytes:
        if not response.created:
            response.created = int(time.time())
        return openai_chat.encode_response(response, provider=provider)

    @override
    def relay_response(self, raw: bytes, provider: str) -> bytes:
        """The provider's body plus the gateway's `"provider": ID`, spliced in without a re-encoding."""
        body = raw.rstrip()
        if body.endswith(b"}") and body.find(b'"provider"') < 0:
            return body[:-1] + b',"provider":' + orjson.dumps(provider) + b"}"
        data = orjson.loads(raw)  # it has a "provider" of its own (OpenRouter's): ours replaces it
        data["provider"] = provider
        return orjson.dumps(data)

    @override
    def stream_encoder(self, request: ir.Request, model: str) -> Any:
        return openai_chat.StreamEncoder(
            include_usage=request.include_usage, model=model, created=int(time.time())
        )


class AnthropicDoor(Door):
    """`POST /v1/messages`."""

    protocol = "anthropic_messages"
    path = "/v1/messages"

    def __init__(self) -> None:
        self.codec = anthropic_messages

    @override
    def header_fields(self, scope: Scope, request: ir.Request) -> None:
        """`anthropic-beta` travels on as `extra["anthropic_beta"]`.

        It becomes a header to Anthropic, a body field on Vertex and Bedrock, and is dropped for
        providers that have no such thing. `anthropic-version` goes to Anthropic as it came when
        the client's body does (`passthrough`), since that body was written for it.
        """
        betas = header(scope, b"anthropic-beta")
        if betas:
            request.extra["anthropic_beta"] = [b.strip() for b in betas.split(",") if b.strip()]
        version = header(scope, b"anthropic-version")
        if version:
            request.source_headers["anthropic-version"] = version


class ResponsesDoor(Door):
    """`POST /v1/responses`: the OpenAI Responses API (Codex CLI and the newer OpenAI SDKs)."""

    protocol = "openai_responses"
    path = "/v1/responses"

    def __init__(self) -> None:
        self.codec = openai_responses

    @override
    def encode_response(self, response: ir.Response, provider: str) -> bytes:
        return openai_responses.encode_response(response, provider=provider)


OPENAI = OpenAIDoor()
ANTHROPIC = AnthropicDoor()
RESPONSES = ResponsesDoor()
DOORS: dict[str, Door] = {door.path: door for door in (OPENAI, ANTHROPIC, RESPONSES)}
