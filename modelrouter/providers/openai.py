"""OpenAI's own API: Bearer key, optional organization and project headers.

https://platform.openai.com/docs/api-reference/authentication
"""

from __future__ import annotations

from typing_extensions import override

from modelrouter.catalog.catalog import Entry
from modelrouter.providers import Provider

__all__ = ["ADAPTER", "OpenAI"]


class OpenAI(Provider):
    """OpenAI: the generic adapter plus OpenAI-Organization / OpenAI-Project."""

    @override
    def headers(self, entry: Entry, *, stream: bool) -> dict[str, str]:
        headers = super().headers(entry, stream=stream)
        for setting, name in (("organization", "openai-organization"), ("project", "openai-project")):
            value = self.setting(setting)
            if value:
                headers[name] = str(value)
        return headers


ADAPTER = OpenAI
