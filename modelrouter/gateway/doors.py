"""The front doors: each client protocol the gateway speaks, as one object the handler drives.

A door wraps that protocol's codec (client side): decode the request, encode an answer, a
stream and an error. Adding a front door is one entry here plus its codec.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from modelrouter import ir
from modelrouter.protocols import codec

__all__ = ["DOORS", "Door"]


@dataclass(frozen=True)
class Door:
    """A client protocol: its path and codec."""

    protocol: str
    path: str

    @property
    def codec(self) -> ModuleType:
        """The codec module (imported on first use)."""
        return codec(self.protocol)

    def decode(self, body: bytes) -> ir.Request:
        """The client's request as IR (raises `BadRequest`)."""
        request: ir.Request = self.codec.decode_request(body)
        return request

    def encode_response(self, response: ir.Response, provider: str) -> bytes:
        """A complete answer in this protocol."""
        encoder = self.codec.encode_response
        try:
            body: bytes = encoder(response, provider=provider)
        except TypeError:
            body = encoder(response)
        return body

    def stream_encoder(self, request: ir.Request, model: str) -> Any:
        """A stream encoder for one answer (`.encode(event) -> bytes`)."""
        return self.codec.StreamEncoder(model=model, **self._stream_options(request))

    def _stream_options(self, request: ir.Request) -> dict[str, Any]:
        if self.protocol == "openai_chat":
            return {"include_usage": request.include_usage}
        return {}

    def encode_error(self, status: int, kind: str, message: str) -> bytes:
        """An error body in this protocol."""
        body: bytes = self.codec.encode_error(status, kind, message)
        return body


OPENAI = Door("openai_chat", "/v1/chat/completions")
ANTHROPIC = Door("anthropic_messages", "/v1/messages")
DOORS = {door.path: door for door in (OPENAI, ANTHROPIC)}
