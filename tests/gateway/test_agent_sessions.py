"""What coding agents lean on, end to end: many tools, long tool loops, prompt-cache markers.

An agent's session is dozens of turns, each resending the whole history with every tool call
and result; a single id lost or mismatched in translation breaks the next turn at the
provider. Prompt-cache markers must reach the providers that honour them, and the cache
reads they report must come back to the client and into the bill.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakes import TOOL_PHRASE, FakeUpstream
from tests.gateway.conftest import final_request_row, gateway_config
from tests.gateway.harness import RunningGateway, start_gateway

TOOLS = 40
ROUNDS = 12


def _anthropic_tools() -> list[dict[str, Any]]:
    return [
        {
            "name": f"tool_{i:02d}",
            "description": f"tool number {i}",
            "input_schema": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
        }
        for i in range(TOOLS)
    ]


def test_a_long_tool_loop_with_many_tools_keeps_every_call_and_result_paired(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    """Anthropic client, GPT-5.2 on OpenAI: twelve rounds of call and result, forty tools each."""
    client = gateway.anthropic()
    messages: Any = []
    tools: Any = _anthropic_tools()
    for round_no in range(ROUNDS):
        tool = f"tool_{(round_no * 7) % TOOLS:02d}"
        messages.append({"role": "user", "content": f'{TOOL_PHRASE}{tool} with {{"n": {round_no}}}'})
        called = client.messages.create(
            model="gpt-5.2@openai",
            max_tokens=200,
            tools=tools,
            messages=messages,
        )
        [use] = [b for b in called.content if b.type == "tool_use"]
        assert (use.name, use.input) == (tool, {"n": round_no})
        messages.append({"role": "assistant", "content": [b.model_dump() for b in called.content]})
        messages.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": use.id, "content": f"result {round_no}"}],
            }
        )
        answered = client.messages.create(
            model="gpt-5.2@openai",
            max_tokens=200,
            tools=tools,
            messages=messages,
        )
        assert answered.content[0].type == "text"
        assert answered.content[0].text == f"fake openai saw the tool result: result {round_no}"
        messages.append({"role": "assistant", "content": answered.content[0].text})
    last = fake.requests[-1].body
    assert len(last["tools"]) == TOOLS
    calls = {c["id"]: c["function"]["name"] for m in last["messages"] for c in m.get("tool_calls") or []}
    results = [m["tool_call_id"] for m in last["messages"] if m["role"] == "tool"]
    assert len(calls) == ROUNDS and results == list(calls), "every result answers the call before it"


@pytest.mark.parametrize(
    ("model", "label", "marker"),
    [
        ("claude-sonnet-5.5@anthropic", "anthropic", "cache_control"),
        ("claude-sonnet-5.5@bedrock:eu", "bedrock-eu-central-1", "cachePoint"),
    ],
)
def test_prompt_cache_markers_reach_the_provider_and_cache_reads_are_billed(
    gateway: RunningGateway, fake: FakeUpstream, model: str, label: str, marker: str
) -> None:
    client = gateway.anthropic()
    answer = client.messages.with_raw_response.create(
        model=model,
        max_tokens=100,
        system=[
            {"type": "text", "text": "a long system prompt " * 50, "cache_control": {"type": "ephemeral"}}
        ],
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "a long document " * 50, "cache_control": {"type": "ephemeral"}},
                    {"type": "text", "text": "summarise it"},
                ],
            }
        ],
    )
    [sent] = [r for r in fake.requests if r.label == label]
    assert str(sent.body).count(marker) == 2, "both breakpoints reached the provider"
    message = answer.parse()
    assert message.usage.cache_read_input_tokens == 200
    request_id = answer.headers["x-request-id"]
    state, cached, cost = final_request_row(gateway, request_id, "cache_read_tokens, cost_micro_usd")
    assert (state, cached) == ("ok", 200) and cost > 0


def test_cache_markers_are_dropped_for_a_provider_without_them_and_reads_still_reported(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    """OpenAI caches on its own: markers go nowhere; an OpenAI client sees cache reads its own way."""
    client = gateway.anthropic()
    client.messages.create(
        model="gpt-5.2@openai",
        max_tokens=100,
        system=[{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "hi"}],
    )
    [sent] = fake.requests
    assert "cache_control" not in str(sent.body)
    chat = gateway.openai()
    marked: Any = [
        {
            "role": "system",
            "content": [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
        },
        {"role": "user", "content": "hi"},
    ]
    done = chat.chat.completions.create(model="claude-sonnet-5.5@anthropic", messages=marked)
    assert done.usage is not None and done.usage.prompt_tokens_details is not None
    assert done.usage.prompt_tokens_details.cached_tokens == 100


def test_an_agents_fixed_model_name_goes_where_the_operator_maps_it(
    fake: FakeUpstream, tmp_path: Path
) -> None:
    """Claude Code asks for `claude-haiku-4-5` for its background work; `aliases:` decides what answers."""
    config = gateway_config(fake.url, aliases={"claude-haiku-4-5": "gpt-5.2@azure"})
    gateway = start_gateway(tmp_path, config)
    try:
        client = gateway.anthropic()
        answer = client.messages.with_raw_response.create(
            model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "title this"}]
        )
        assert answer.headers["x-modelrouter-provider"] == "azure"
        assert answer.parse().content[0].type == "text"
        assert [r.label for r in fake.requests] == ["azure"]
    finally:
        gateway.stop()
