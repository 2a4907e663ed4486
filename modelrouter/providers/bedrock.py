"""AWS Bedrock (Converse): region selection, model ids in the URL, SigV4 or a Bedrock API key.

URL: `https://bedrock-runtime.{region}.amazonaws.com/model/{modelId}/converse` (or
`/converse-stream`), the model id percent-encoded as botocore does it (only `-._~` kept, so
`:` becomes `%3A`). The region is one the operator enabled (`regions`) that can invoke the
offering: a geographic inference profile (`eu.`…) is called from a region of its geography,
a `global.` profile from any (the `invoke_from` data of bedrock.yaml); without `regions`,
AWS_REGION, else the profile's usual home region.

Auth: SigV4 with botocore's signer (service `bedrock`), which also signs an overridden
base_url (a proxy or a test fake) with the real region; or `Authorization: Bearer` with a
Bedrock API key (AWS_BEARER_TOKEN_BEDROCK / `api_key`)
(https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from typing_extensions import override

from modelrouter.catalog.catalog import Entry
from modelrouter.errors import ConfigError, UpstreamAuthError
from modelrouter.providers import Provider, UpstreamCall

__all__ = ["ADAPTER", "Bedrock", "invoke_region"]

SIGNING_NAME = "bedrock"
HOME_REGION = {"global": "us-east-1", "us": "us-east-1", "eu": "eu-central-1", "apac": "ap-northeast-1"}
HOME_REGION |= {"jp": "ap-northeast-1", "au": "ap-southeast-2"}
"""Where a profile is invoked from when the operator named no region (documented source regions)."""


def invoke_region(entry: Entry, configured: list[str], default: str | None) -> str:
    """The AWS region to call for this offering."""
    name = entry.offering.region
    for region in configured:
        if entry.region.reachable_from(name, [region]):
            return region
    if configured:
        raise ConfigError(
            f"{entry.id} cannot be invoked from providers.bedrock.regions ({', '.join(configured)})"
        )
    if default and entry.region.reachable_from(name, [default]):
        return default
    return HOME_REGION.get(name, name)


class Bedrock(Provider):
    """Bedrock Converse over SigV4 or a Bedrock API key."""

    _signer_credentials: Any = None

    def _configured_regions(self) -> list[str]:
        regions = self.setting("regions")
        if isinstance(regions, str):
            return [regions]
        return [str(r) for r in regions] if isinstance(regions, list) else []

    def region(self, entry: Entry) -> str:
        """The region this offering is called in (and signed for)."""
        default = self.env.get("AWS_REGION") or self.env.get("AWS_DEFAULT_REGION")
        return invoke_region(entry, self._configured_regions(), default)

    @override
    def base_url(self, entry: Entry) -> str:
        base = (
            self.setting("base_url") or self.row.base_url or "https://bedrock-runtime.{region}.amazonaws.com"
        )
        return str(base).rstrip("/").replace("{region}", self.region(entry))

    @override
    def url(self, entry: Entry, *, stream: bool) -> str:
        model = quote(entry.offering.provider_model, safe="-._~")
        return f"{self.base_url(entry)}/model/{model}/{'converse-stream' if stream else 'converse'}"

    @override
    def headers(self, entry: Entry, *, stream: bool) -> dict[str, str]:
        headers = super().headers(entry, stream=stream)
        headers["accept"] = "application/vnd.amazon.eventstream" if stream else "application/json"
        return headers

    @override
    def prepare(self, entry: Entry, body: bytes, *, stream: bool) -> UpstreamCall:
        call = super().prepare(entry, body, stream=stream)
        call.region = self.region(entry)
        return call

    @override
    async def authorize(self, call: UpstreamCall) -> UpstreamCall:
        key = self.credential("api_key")
        if key:
            call.headers["authorization"] = f"Bearer {key}"
            return call
        return sign(call, self._credentials(), call.region or "us-east-1")

    def _credentials(self) -> Any:
        from botocore.credentials import Credentials

        access_key = self.credential("access_key_id")
        secret = self.credential("secret_access_key")
        if access_key and secret:
            token = self.setting("session_token") or self.env.get("AWS_SESSION_TOKEN")
            return Credentials(access_key, secret, token)
        if self._signer_credentials is None:
            profile = self.credential("profile")
            import botocore.session

            session = botocore.session.Session(profile=profile)
            self._signer_credentials = session.get_credentials()
        if self._signer_credentials is None:
            raise UpstreamAuthError(
                "bedrock: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
            )
        return self._signer_credentials


def sign(call: UpstreamCall, credentials: Any, region: str) -> UpstreamCall:
    """Add SigV4 headers for `call` (its final URL and body) with botocore's signer."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method=call.method, url=call.url, data=call.body, headers=dict(call.headers))
    SigV4Auth(credentials, SIGNING_NAME, region).add_auth(request)
    call.headers = {k.lower(): str(v) for k, v in request.headers.items()}
    return call


ADAPTER = Bedrock
