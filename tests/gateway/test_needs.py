"""The prompt-size estimate the gateway checks context fit with (about four characters a token)."""

from __future__ import annotations

import orjson

from modelrouter import ir
from modelrouter.gateway.needs import estimate_input_tokens, needs_of


def test_the_estimate_counts_text_and_each_tool_as_the_json_providers_get() -> None:
    schema = {"type": "object", "properties": {"path": {"type": "string", "description": "a file [1]"}}}
    request = ir.Request(
        model="m",
        system=[ir.TextPart(text="s" * 400)],
        messages=[ir.Message(role="user", content=[ir.TextPart(text="u" * 800)])],
        tools=[ir.ToolSpec(name="read_file", description="d" * 39, parameters=schema)],
    )
    tool_chars = len("read_file") + 39 + len(orjson.dumps(schema))
    assert estimate_input_tokens(request) == 100 + 200 + tool_chars // 4
    needs = needs_of(request)
    assert needs.input_tokens == estimate_input_tokens(request) and "tools" in needs.capabilities


def test_a_schema_json_cannot_encode_is_still_sized() -> None:
    """Not from a JSON body (nothing builds one today): its repr is measured instead of failing."""
    schema = {"type": "object", "maximum": 1 << 70}
    request = ir.Request(model="m", tools=[ir.ToolSpec(name="t", parameters=schema)])
    assert estimate_input_tokens(request) == (1 + len(str(schema))) // 4
