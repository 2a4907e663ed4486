"""OpenAI-compatible providers driven by catalog data alone (xAI, DeepSeek, OpenRouter, local servers).

`POST {base_url}/chat/completions` with `Authorization: Bearer KEY` when a key is configured
(local servers such as Ollama, vLLM or llama.cpp need none). Provider quirks that are data
(DeepSeek's `max_tokens`, OpenRouter's `reasoning_details`) are codec options in the
provider's catalog row; error-body quirks (xAI's flat errors, OpenRouter's codes) are read
by the OpenAI codec.
"""

from __future__ import annotations

from modelrouter.providers import Provider

__all__ = ["ADAPTER", "OpenAICompatible"]


class OpenAICompatible(Provider):
    """The generic adapter, as is."""


ADAPTER = OpenAICompatible
