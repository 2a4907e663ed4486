"""Faithful fake LLM upstreams for tests (OpenAI, Anthropic, Gemini, Bedrock wire formats)."""

from tests.fakes.plan import PARALLEL_PHRASE, REPLY_PHRASE, TOOL_PHRASE
from tests.fakes.server import FakeUpstream, Logged

__all__ = ["PARALLEL_PHRASE", "REPLY_PHRASE", "TOOL_PHRASE", "FakeUpstream", "Logged"]
