"""The prompt-size estimate the gateway checks context fit with (about four characters a token)."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

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


# --- the straightforward reading, the oracle of the single-pass one ------------------------------


def _oracle_tokens(part: ir.Part) -> int:
    if isinstance(part, ir.TextPart | ir.ReasoningPart):
        return len(part.text) // 4
    if isinstance(part, ir.ImagePart):
        return 1_000
    if isinstance(part, ir.DocumentPart):
        return 3_000
    if isinstance(part, ir.ToolCallPart):
        return (len(part.name) + len(part.arguments)) // 4
    return sum(_oracle_tokens(p) for p in part.content)


def _oracle(request: ir.Request) -> tuple[int, frozenset[str]]:
    tokens = sum(len(p.text) for p in request.system) // 4
    tokens += sum(_oracle_tokens(p) for m in request.messages for p in m.content)
    needed = set()
    if request.tools:
        needed.add("tools")
    if request.response_format is not None and request.response_format.type == "json_schema":
        needed.add("json_schema")
    if request.reasoning is not None and request.reasoning.enabled:
        needed.add("reasoning")
    for part in (p for m in request.messages for p in m.content):
        if isinstance(part, ir.ImagePart) or (
            isinstance(part, ir.ToolResultPart) and any(isinstance(p, ir.ImagePart) for p in part.content)
        ):
            needed.add("vision")
    return tokens, frozenset(needed)


_text = st.builds(ir.TextPart, text=st.text(max_size=40))
_leaf = st.one_of(
    _text,
    st.builds(ir.ImagePart, url=st.just("https://example.com/a.png")),
    st.builds(ir.DocumentPart, data=st.just("AAAA")),
)
_part = st.one_of(
    _leaf,
    st.builds(ir.ReasoningPart, text=st.text(max_size=40)),
    st.builds(ir.ToolCallPart, id=st.just("c1"), name=st.text(max_size=9), arguments=st.text(max_size=30)),
    st.builds(ir.ToolResultPart, tool_call_id=st.just("c1"), content=st.lists(_leaf, max_size=3)),
)


@given(
    system=st.lists(_text, max_size=3),
    turns=st.lists(st.lists(_part, max_size=4), max_size=5),
    tools=st.booleans(),
    response_format=st.sampled_from([None, "text", "json_object", "json_schema"]),
    reasoning=st.sampled_from([None, True, False]),
    max_tokens=st.none() | st.integers(min_value=1, max_value=10**6),
)
def test_needs_are_what_the_straightforward_reading_finds(
    system: list[ir.TextPart],
    turns: list[list[ir.Part]],
    tools: bool,
    response_format: str | None,
    reasoning: bool | None,
    max_tokens: int | None,
) -> None:
    request = ir.Request(
        model="m",
        system=system,
        messages=[ir.Message(role="user", content=parts) for parts in turns],
        tools=[ir.ToolSpec(name="t")] if tools else [],
        response_format=ir.ResponseFormat(type=response_format) if response_format else None,  # type: ignore[arg-type]
        reasoning=ir.ReasoningConfig(enabled=reasoning) if reasoning is not None else None,
        max_tokens=max_tokens,
    )
    tokens, capabilities = _oracle(request)
    tool_tokens = sum((len(t.name) + len(orjson.dumps(t.parameters))) // 4 for t in request.tools)
    assert needs_of(request) == (tokens + tool_tokens, max_tokens, capabilities)
