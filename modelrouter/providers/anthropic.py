"""Anthropic's own API: `x-api-key`, `anthropic-version`, `POST /v1/messages`.

The version sent is the one the Anthropic codec writes bodies for (`API_VERSION`,
2023-06-01): under 2026-10-21 the API refuses temperature, top_p and top_k, which clients of
other protocols send routinely (https://platform.claude.com/docs/en/api/versioning).
`max_tokens` is required by Anthropic: a request without one gets the offering's maximum
output when the catalog knows it.
"""

from __future__ import annotations

import orjson
from typing_extensions import override

from modelrouter import ir
from modelrouter.catalog.catalog import Entry
from modelrouter.protocols.anthropic_messages import API_VERSION, DEFAULT_MAX_TOKENS
from modelrouter.providers import Passthrough, Provider, UpstreamCall

__all__ = ["ADAPTER", "Anthropic"]


class Anthropic(Provider):
    """Anthropic Messages over x-api-key."""

    auth_header = "x-api-key"

    @override
    def encode(self, request: ir.Request, entry: Entry) -> bytes:
        body: bytes = self.codec(entry).encode_request(
            request,
            model=entry.offering.provider_model,
            default_max_tokens=entry.max_output or DEFAULT_MAX_TOKENS,
            **self.row.codec_options,
        )
        return body

    @override
    def passthrough(self, request: ir.Request, entry: Entry) -> Passthrough | None:
        """The client's body with the client's `anthropic-version` and betas as headers."""
        relay = super().passthrough(request, entry)
        if relay is not None:
            relay.headers.update(request.source_headers)
            betas = request.extra.get("anthropic_beta")
            if isinstance(betas, list) and betas:
                relay.headers["anthropic-beta"] = ",".join(str(b) for b in betas)
        return relay

    @override
    def url(self, entry: Entry, *, stream: bool) -> str:
        return self.base_url(entry) + "/v1/messages"

    @override
    def prepare(self, entry: Entry, body: bytes, *, stream: bool) -> UpstreamCall:
        """Betas a client asked for go in the `anthropic-beta` header, not the body."""
        call = super().prepare(entry, body, stream=stream)
        if body.find(b'"anthropic_beta"') >= 0:
            data = orjson.loads(body)
            betas = data.pop("anthropic_beta", None)
            if isinstance(betas, list) and betas:
                call.headers["anthropic-beta"] = ",".join(str(b) for b in betas)
            call.body = orjson.dumps(data)
        return call

    @override
    def count_tokens_url(self, entry: Entry) -> str | None:
        return self.base_url(entry) + "/v1/messages/count_tokens"

    @override
    def headers(self, entry: Entry, *, stream: bool) -> dict[str, str]:
        headers = super().headers(entry, stream=stream)
        headers["anthropic-version"] = API_VERSION
        return headers


ADAPTER = Anthropic
