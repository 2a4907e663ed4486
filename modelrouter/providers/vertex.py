"""Google Vertex AI: Gemini (generateContent) and Claude (rawPredict) by region, OAuth bearer.

Hosts (https://cloud.google.com/vertex-ai/generative-ai/docs/learn/locations):
`global` -> aiplatform.googleapis.com; the `us` / `eu` multi-regions ->
aiplatform.{us|eu}.rep.googleapis.com; any other region -> {region}-aiplatform.googleapis.com.
Paths: `/v1/projects/{project}/locations/{region}/publishers/{google|anthropic}/models/{model}`
then `:generateContent` / `:streamGenerateContent?alt=sse` (Gemini) or `:rawPredict` /
`:streamRawPredict` (Claude, whose body carries `anthropic_version` and no model).

Auth: the `access_token` setting, else google-auth credentials (the service-account file in
`credentials`, else application-default credentials), refreshed in a worker thread so the
event loop never blocks, and reused until five minutes before they expire.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC
from typing import Any

from typing_extensions import override

from modelrouter import ir
from modelrouter.catalog.catalog import Entry
from modelrouter.errors import ConfigError, UpstreamAuthError
from modelrouter.providers import Passthrough, Provider, UpstreamCall
from modelrouter.providers.google import gemini_method

__all__ = ["ADAPTER", "Vertex"]

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
REFRESH_MARGIN_S = 300


def vertex_host(region: str) -> str:
    """The Vertex API host serving `region`."""
    if region == "global":
        return "https://aiplatform.googleapis.com"
    if region in ("us", "eu"):
        return f"https://aiplatform.{region}.rep.googleapis.com"
    return f"https://{region}-aiplatform.googleapis.com"


class Vertex(Provider):
    """Vertex AI, for both publishers."""

    _credentials: Any = None
    _token: str | None = None
    _expires: float = 0.0
    _lock: asyncio.Lock | None = None

    @override
    def encode(self, request: ir.Request, entry: Entry) -> bytes:
        if _publisher(entry) == "anthropic":
            body: bytes = self.codec(entry).encode_request(
                request,
                model=entry.offering.provider_model,
                vertex=True,
                default_max_tokens=entry.max_output or 4096,
            )
            return body
        return super().encode(request, entry)

    @override
    def passthrough(self, request: ir.Request, entry: Entry) -> Passthrough | None:
        """Never: Claude's `rawPredict` body differs from Anthropic's (no model, a version field)."""
        return None

    @override
    def base_url(self, entry: Entry) -> str:
        configured = self.setting("base_url")
        base = str(configured).rstrip("/") if configured else vertex_host(entry.offering.region)
        return base if base.endswith(("/v1", "/v1beta1")) else base + "/v1"

    @override
    def url(self, entry: Entry, *, stream: bool) -> str:
        project = self.credential("project")
        if not project:
            raise ConfigError("set GOOGLE_CLOUD_PROJECT or providers.vertex.project in modelrouter.yaml")
        publisher = _publisher(entry)
        if publisher == "anthropic":
            method = ":streamRawPredict" if stream else ":rawPredict"
        else:
            method = gemini_method(stream)
        region = entry.offering.region
        model = entry.offering.provider_model
        path = f"/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}{method}"
        return self.base_url(entry) + path

    @override
    async def authorize(self, call: UpstreamCall) -> UpstreamCall:
        call.headers["authorization"] = f"Bearer {await self.token()}"
        return call

    async def token(self) -> str:
        """A valid OAuth access token (refreshed when close to expiry)."""
        static = self.credential("access_token")
        if static:
            return static
        if self._token is not None and time.time() < self._expires - REFRESH_MARGIN_S:
            return self._token
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._token is None or time.time() >= self._expires - REFRESH_MARGIN_S:
                self._token, self._expires = await asyncio.to_thread(self._refresh)
            return str(self._token)

    def _refresh(self) -> tuple[str, float]:
        import google.auth
        import google.auth.exceptions
        from google.auth.transport.requests import Request

        try:
            if self._credentials is None:
                path = self.setting("credentials")
                if path:
                    from google.oauth2 import service_account

                    self._credentials = service_account.Credentials.from_service_account_file(
                        str(path), scopes=[SCOPE]
                    )
                else:
                    self._credentials, _ = google.auth.default(scopes=[SCOPE])
            self._credentials.refresh(Request())
        except (google.auth.exceptions.GoogleAuthError, OSError) as exc:
            raise UpstreamAuthError(
                f"vertex: cannot get a Google access token ({type(exc).__name__})"
            ) from exc
        expiry = self._credentials.expiry
        expires = expiry.replace(tzinfo=UTC).timestamp() if expiry is not None else time.time() + 3000
        return str(self._credentials.token), expires


def _publisher(entry: Entry) -> str:
    return "anthropic" if entry.protocol == "anthropic_messages" else "google"


ADAPTER = Vertex
