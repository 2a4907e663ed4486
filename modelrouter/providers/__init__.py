"""Provider adapters: how to reach one vendor's endpoint (URL, auth, headers, error quirks).

An adapter never translates bodies (the codecs do) and never sends anything (the gateway's
transport does): it builds an `UpstreamCall` and signs it. `load()` imports
`modelrouter.providers.<provider id>` when such a module exists, else a generic module
chosen by the provider's protocol, so an OpenAI-compatible provider is one catalog YAML and
a provider with its own auth is one module plus its YAML; there is no list to edit.

Configured base URLs are checked once at load: cloud metadata services and link-local
addresses are refused unless `allow_private_base_url: true` (loopback stays allowed, for
local servers and test fakes). Secrets are read when signing and never kept in reprs.
"""

from __future__ import annotations

import importlib
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, ClassVar
from urllib.parse import urlsplit

from typing_extensions import override

from modelrouter import ir
from modelrouter.catalog.catalog import Catalog, Entry
from modelrouter.catalog.records import Provider as ProviderRow
from modelrouter.config import ENV_PREFIX, Config, ProviderConfig
from modelrouter.errors import ConfigError, UpstreamError
from modelrouter.protocols import codec

__all__ = ["Passthrough", "Provider", "UpstreamCall", "load", "load_all"]

GENERIC_BY_PROTOCOL = {
    "openai_chat": "openai_compatible",
    "anthropic_messages": "anthropic",
    "gemini": "google",
}
"""The module serving a provider that has none of its own, by the protocol it speaks."""

METADATA_HOSTS = frozenset(
    {"169.254.169.254", "fd00:ec2::254", "metadata.google.internal", "100.100.100.200"}
)


@dataclass(slots=True)
class UpstreamCall:
    """One HTTP request to send upstream (the transport sends it as is)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    stream: bool = False
    region: str | None = None
    """The region the call is signed for, where signing needs one (SigV4)."""

    @override
    def __repr__(self) -> str:
        return f"UpstreamCall({self.method} {self.url}, {len(self.body)} bytes, stream={self.stream})"


@dataclass(slots=True)
class Passthrough:
    """A client's own body for a provider of its protocol, and the client headers that go with it."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @override
    def __repr__(self) -> str:
        return f"Passthrough({len(self.body)} bytes, headers {sorted(self.headers)})"


@dataclass(repr=False)
class Provider:
    """The generic adapter; provider modules subclass it and override what differs."""

    row: ProviderRow
    settings: ProviderConfig | None = None
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    auth_header: ClassVar[str] = "authorization"
    """Where the API key goes (`authorization` sends `Bearer KEY`)."""

    def __post_init__(self) -> None:
        self.id = self.row.id
        for key in ("base_url", "endpoint"):
            check_base_url(
                self.setting(key), self.id, allow_private=bool(self.setting("allow_private_base_url"))
            )

    @override
    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id})"

    # --- settings and secrets ----------------------------------------------------------------

    def setting(self, key: str) -> Any:
        """A config setting of this provider, `env:NAME` read from the environment."""
        raw = self.settings.settings.get(key) if self.settings is not None else None
        if isinstance(raw, str) and raw.startswith(ENV_PREFIX):
            return self.env.get(raw[len(ENV_PREFIX) :]) or None
        return raw

    def credential(self, key: str) -> str | None:
        """A credential: the config setting, else the environment variable the catalog names for it."""
        value = self.setting(key)
        if value:
            return str(value)
        for alternative in self.row.credentials:
            for config_key, variable in alternative:
                if config_key == key and self.env.get(variable):
                    return self.env[variable]
        return None

    def base_url(self, entry: Entry) -> str:
        """Where requests go: the config's base_url, the offering's, or the catalog's."""
        base = self.setting("base_url") or entry.offering.base_url or self.row.base_url
        if not base:
            raise ConfigError(f"providers.{self.id} needs a base_url")
        return str(base).rstrip("/")

    # --- bodies (the codecs) ----------------------------------------------------------------

    def codec(self, entry: Entry) -> ModuleType:
        """The codec of the protocol this offering speaks."""
        return codec(entry.protocol)

    def encode(self, request: ir.Request, entry: Entry) -> bytes:
        """The request body for this offering (raises `BadRequest` for what it cannot express)."""
        body: bytes = self.codec(entry).encode_request(
            request, model=entry.offering.provider_model, **self.row.codec_options
        )
        return body

    def passthrough(self, request: ir.Request, entry: Entry) -> Passthrough | None:
        """The client's own body, when the client speaks this offering's protocol; None: `encode`.

        Only where the codec has `passthrough_request` and the provider needs no codec options
        (those adapt the IR path's output to a server's quirks, which a client's body lacks).
        """
        if request.source_protocol != entry.protocol or self.row.codec_options:
            return None
        relay = getattr(self.codec(entry), "passthrough_request", None)
        if relay is None:
            return None
        body: bytes | None = relay(request, model=entry.offering.provider_model)
        return None if body is None else Passthrough(body)

    def relayed_response(self, body: bytes, entry: Entry) -> ir.Response:
        """An answer relayed to the client as is (after `passthrough`): checked, its usage read."""
        response: ir.Response = self.codec(entry).relayed_response(body)
        return response

    def decode_response(self, body: bytes, entry: Entry) -> ir.Response:
        """A non-streamed answer as IR."""
        response: ir.Response = self.codec(entry).decode_response(body)
        return response

    def stream_decoder(self, entry: Entry) -> Any:
        """A fresh decoder for a streamed answer."""
        return self.codec(entry).StreamDecoder()

    def classify(self, status: int, headers: Mapping[str, str], body: bytes, entry: Entry) -> UpstreamError:
        """An error response as the exception the router acts on."""
        error: UpstreamError = self.codec(entry).decode_error(status, body, headers)
        error.provider, error.offering = self.id, entry.id
        error.upstream_status = error.upstream_status or status
        return error

    # --- the call ---------------------------------------------------------------------------

    def url(self, entry: Entry, *, stream: bool) -> str:
        """The endpoint for this offering (OpenAI-style by default)."""
        return self.base_url(entry) + "/chat/completions"

    def headers(self, entry: Entry, *, stream: bool) -> dict[str, str]:
        """Headers other than auth."""
        headers = {
            "content-type": "application/json",
            "accept": "text/event-stream" if stream else "application/json",
        }
        extra = self.setting("headers")
        if isinstance(extra, dict):
            headers.update({str(k).lower(): str(v) for k, v in extra.items()})
        return headers

    def count_tokens_url(self, entry: Entry) -> str | None:
        """The provider's own token-counting endpoint for this offering, if it has one."""
        return None

    def prepare(self, entry: Entry, body: bytes, *, stream: bool) -> UpstreamCall:
        """URL and headers for this offering; `authorize` adds the credentials."""
        return UpstreamCall(
            "POST", self.url(entry, stream=stream), self.headers(entry, stream=stream), body, stream
        )

    async def authorize(self, call: UpstreamCall) -> UpstreamCall:
        """Add the API key (as `Bearer` or in the provider's own header)."""
        key = self.credential("api_key")
        if key:
            call.headers[self.auth_header] = f"Bearer {key}" if self.auth_header == "authorization" else key
        return call


def check_base_url(value: Any, provider: str, *, allow_private: bool) -> None:
    """Refuse base URLs aimed at cloud metadata services or link-local addresses."""
    if not value or allow_private:
        return
    host = (urlsplit(str(value)).hostname or "").lower()
    try:
        address = ipaddress.ip_address(host)
        risky = address.is_link_local or str(address) in METADATA_HOSTS
    except ValueError:
        risky = host in METADATA_HOSTS
    if risky:
        raise ConfigError(
            f"providers.{provider}: base URL host {host} is a cloud metadata or link-local address; "
            "set allow_private_base_url: true for this provider if you really mean it"
        )


def _module(row: ProviderRow) -> ModuleType:
    for name in (row.id, GENERIC_BY_PROTOCOL.get(row.protocol, "openai_compatible")):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise ConfigError(f"no adapter for provider {row.id} (protocol {row.protocol})")


def load(row: ProviderRow, settings: ProviderConfig | None, env: Mapping[str, str] | None = None) -> Provider:
    """The adapter for one provider row."""
    adapter: type[Provider] = _module(row).ADAPTER
    return adapter(row, settings, env if env is not None else os.environ)


def load_all(catalog: Catalog, config: Config, env: Mapping[str, str] | None = None) -> dict[str, Provider]:
    """Adapters for every provider in the catalog, keyed by provider id."""
    return {pid: load(row, config.providers.get(pid), env) for pid, row in catalog.providers.items()}
