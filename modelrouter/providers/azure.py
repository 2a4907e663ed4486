"""Azure OpenAI (Microsoft Foundry): deployment URLs, `api-key` or Entra bearer.

With `api_version` set, the classic URL
`{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`; without it, the
v1 API `{endpoint}/openai/v1/chat/completions`, which needs no api-version and takes the
deployment name as `model`
(https://learn.microsoft.com/en-us/azure/foundry/openai/api-version-lifecycle). The
offering's provider model id is the deployment name (config `deployments: {MODEL: NAME}`).
"""

from __future__ import annotations

from urllib.parse import quote

from typing_extensions import override

from modelrouter.catalog.catalog import Entry
from modelrouter.errors import ConfigError
from modelrouter.providers import Provider, UpstreamCall

__all__ = ["ADAPTER", "Azure"]


class Azure(Provider):
    """Azure OpenAI deployments."""

    @override
    def base_url(self, entry: Entry) -> str:
        endpoint = self.setting("base_url") or self.credential("endpoint")
        if not endpoint:
            raise ConfigError("set AZURE_OPENAI_ENDPOINT or providers.azure.endpoint in modelrouter.yaml")
        return str(endpoint).rstrip("/")

    @override
    def url(self, entry: Entry, *, stream: bool) -> str:
        version = self.setting("api_version")
        if version:
            deployment = quote(entry.offering.provider_model, safe="-._~")
            path = f"/openai/deployments/{deployment}/chat/completions"
            return f"{self.base_url(entry)}{path}?api-version={quote(str(version))}"
        return f"{self.base_url(entry)}/openai/v1/chat/completions"

    @override
    async def authorize(self, call: UpstreamCall) -> UpstreamCall:
        key = self.credential("api_key")
        if key:
            call.headers["api-key"] = key
            return call
        token = self.credential("ad_token")
        if token:
            call.headers["authorization"] = f"Bearer {token}"
        return call


ADAPTER = Azure
