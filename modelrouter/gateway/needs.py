"""What a request needs of an offering, read from its IR: capabilities and an input-size estimate.

The estimate is deliberately simple (about four characters per token, a flat figure per
image or document) and only used to check context fit before sending; the provider's own
count is what gets billed.
"""

from __future__ import annotations

import orjson

from modelrouter import ir
from modelrouter.routing.select import Needs

__all__ = ["estimate_input_tokens", "estimate_output_tokens", "needs_of"]

CHARS_PER_TOKEN = 4
TOKENS_PER_IMAGE = 1_000
TOKENS_PER_DOCUMENT = 3_000


def _part_tokens(part: ir.Part) -> int:
    if isinstance(part, ir.TextPart):
        return len(part.text) // CHARS_PER_TOKEN
    if isinstance(part, ir.ImagePart):
        return TOKENS_PER_IMAGE
    if isinstance(part, ir.DocumentPart):
        return TOKENS_PER_DOCUMENT
    if isinstance(part, ir.ReasoningPart):
        return len(part.text) // CHARS_PER_TOKEN
    if isinstance(part, ir.ToolCallPart):
        return (len(part.name) + len(part.arguments)) // CHARS_PER_TOKEN
    return sum(_part_tokens(p) for p in part.content)


def estimate_output_tokens(parts: list[ir.Part]) -> int:
    """An answer's size in tokens as the gateway estimates it (for one without a usage report)."""
    return sum(_part_tokens(part) for part in parts)


def estimate_input_tokens(request: ir.Request) -> int:
    """A rough prompt size in tokens (system, messages, tool definitions)."""
    chars = 0
    for text in request.system:
        chars += len(text.text)
    total = chars // CHARS_PER_TOKEN
    for message in request.messages:  # loops, not generators: this runs on every request
        for part in message.content:
            if type(part) is ir.TextPart:
                total += len(part.text) // CHARS_PER_TOKEN
            else:
                total += _part_tokens(part)
    for tool in request.tools:
        total += (
            len(tool.name) + len(tool.description or "") + _schema_size(tool.parameters)
        ) // CHARS_PER_TOKEN
    return total


def _schema_size(parameters: object) -> int:
    """A tool schema's size as JSON, the form providers get (`str()` of the dict took ten times as long)."""
    try:
        return len(orjson.dumps(parameters))
    except orjson.JSONEncodeError:  # not from a JSON body (nothing is today): its repr will do
        return len(str(parameters))


_NO_CAPABILITIES: frozenset[str] = frozenset()


def _capabilities(request: ir.Request) -> frozenset[str]:
    needed = []
    if request.tools:
        needed.append("tools")
    if request.response_format is not None and request.response_format.type == "json_schema":
        needed.append("json_schema")
    if request.reasoning is not None and request.reasoning.enabled:
        needed.append("reasoning")
    if _shows_an_image(request.messages):
        needed.append("vision")
    return frozenset(needed) if needed else _NO_CAPABILITIES


def _shows_an_image(messages: list[ir.Message]) -> bool:
    for message in messages:
        for part in message.content:
            if type(part) is ir.TextPart:
                continue
            if isinstance(part, ir.ImagePart) or (
                isinstance(part, ir.ToolResultPart) and any(isinstance(p, ir.ImagePart) for p in part.content)
            ):
                return True
    return False


def needs_of(request: ir.Request) -> Needs:
    """The request's own requirements, checked against every offering whatever the policy."""
    return Needs(estimate_input_tokens(request), request.max_tokens, _capabilities(request))
