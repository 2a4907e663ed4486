"""The Gemini API (Google AI Studio): `x-goog-api-key`, the model in the URL.

`POST {base}/v1beta/models/{model}:generateContent`, or `:streamGenerateContent?alt=sse`
for streams (https://ai.google.dev/api/generate-content). The key travels in a header, never
in the query string, so it cannot end up in a logged URL.
"""

from __future__ import annotations

from urllib.parse import quote

from typing_extensions import override

from modelrouter.catalog.catalog import Entry
from modelrouter.providers import Provider

__all__ = ["ADAPTER", "Google", "gemini_method"]

API_VERSION = "v1beta"


def gemini_method(stream: bool) -> str:
    """The generateContent method suffix of a Gemini model URL."""
    return ":streamGenerateContent?alt=sse" if stream else ":generateContent"


class Google(Provider):
    """Gemini API over an API key."""

    auth_header = "x-goog-api-key"

    @override
    def url(self, entry: Entry, *, stream: bool) -> str:
        model = quote(entry.offering.provider_model, safe="-._~")
        return f"{self.base_url(entry)}/{API_VERSION}/models/{model}{gemini_method(stream)}"


ADAPTER = Google
