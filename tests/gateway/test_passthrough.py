"""Same protocol both sides: the client's body goes on as written, the provider's answer comes back as sent.

OpenAI client to an OpenAI offering and Anthropic client to Anthropic skip the IR re-encoding:
what the IR does not model (a system message mid-conversation, a message's `name`, a field
OpenAI added last week, Claude Code's `system` blocks with their cache breakpoints) reaches
the provider intact. Conversations that crossed providers still go the IR way, which repairs
what the provider would refuse; so do providers whose catalog row needs codec options.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import requests

from tests.fakes import FakeUpstream
from tests.gateway.conftest import SECRETS, final_request_row
from tests.gateway.harness import RunningGateway

HI: Any = [{"role": "user", "content": "hi"}]


def _sse_data(wire: str) -> list[str]:
    return [line[6:] for line in wire.splitlines() if line.startswith("data: ")]


def test_an_openai_body_reaches_openai_as_the_client_wrote_it(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi", "name": "ada"},
        {"role": "assistant", "content": "hello"},
        {"role": "developer", "content": "now in French"},
        {"role": "user", "content": "again"},
    ]
    body: Any = {
        "model": "gpt-5.2@openai",
        "messages": messages,
        "max_tokens": 50,
        "prompt_cache_key": "session-42",
        "a_field_from_next_week": {"nested": [1, 2.5, None]},
        "route": {"providers": {"only": ["openai"]}},
    }
    answer = requests.post(gateway.url + "/v1/chat/completions", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    [sent] = fake.requests
    assert sent.body["messages"] == messages, "order, roles and names exactly as sent"
    assert sent.body["prompt_cache_key"] == "session-42"
    assert sent.body["a_field_from_next_week"] == {"nested": [1, 2.5, None]}
    assert sent.body["max_completion_tokens"] == 50 and "max_tokens" not in sent.body
    assert "route" not in sent.body
    assert sent.body["model"] == answer.headers["x-modelrouter-model"] != "gpt-5.2@openai"
    assert answer.content.endswith(b',"provider":"openai"}'), "the provider's body, with ours spliced in"
    completion = openai.types.chat.ChatCompletion.model_validate(answer.json())
    assert completion.choices[0].message.content


def test_a_relayed_stream_keeps_usage_for_the_ledger_and_hides_it_when_not_asked(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    body: Any = {"model": "gpt-5.2@openai", "messages": HI, "stream": True}
    answer = requests.post(gateway.url + "/v1/chat/completions", json=body, timeout=10)
    assert fake.requests[0].body["stream_options"] == {"include_usage": True}, "the ledger needs usage"
    data = _sse_data(answer.text)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert all(c["choices"] for c in chunks), "the usage chunk the client did not ask for is not sent"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks).startswith("fake openai")
    state, tokens_in, tokens_out, source = final_request_row(
        gateway, answer.headers["x-request-id"], "input_tokens, output_tokens, usage_source"
    )
    assert (state, source) == ("ok", "reported") and tokens_in > 0 and tokens_out > 0

    fake.reset()
    asked: Any = {**body, "stream_options": {"include_usage": True}}
    stream = gateway.openai().chat.completions.create(**asked)
    usage = [c.usage for c in stream if c.usage is not None]
    assert len(usage) == 1 and usage[0].completion_tokens == tokens_out


def test_an_in_band_error_mid_stream_is_replaced_by_the_gateways_own_without_secrets(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    fake.slow_stream(0.05, label="openai", n=1)  # one event per read: the error comes after the commit point
    fake.in_band_error(label="openai", after=3, echo_credentials=True)
    body: Any = {"model": "gpt-5.2@openai", "messages": HI, "stream": True}
    wire = requests.post(gateway.url + "/v1/chat/completions", json=body, timeout=10).text
    data = _sse_data(wire)
    assert "fake openai" in "".join(
        json.loads(d)["choices"][0]["delta"].get("content") or "" for d in data[:-1]
    ), "what came before the error was relayed"
    error = json.loads(data[-1])["error"]
    assert "you sent" in error["message"], "the provider's message, quoted"
    assert SECRETS["openai"] not in wire and SECRETS["openai"][:8] not in wire
    assert "[DONE]" not in wire
    assert fake.labels() == ["openai"], "after the commit point there is no retry"

    fake.slow_stream(0.05, label="anthropic", n=1)
    fake.in_band_error(label="anthropic", after=4, echo_credentials=True)
    with (
        gateway.anthropic().messages.stream(
            model="claude-sonnet-5.5@anthropic", max_tokens=100, messages=HI
        ) as stream,
    ):
        try:
            stream.get_final_message()
            raise AssertionError("the stream must end in an error")
        except anthropic.APIStatusError as exc:
            assert SECRETS["anthropic"] not in str(exc.body)


def test_claude_codes_system_turns_and_cache_breakpoints_reach_anthropic_untouched(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    """Claude Code 2.x sends `system` turns inside `messages` under anthropic-version 2026-10-21.

    Re-encoded for 2023-06-01 they would be joined into `system`, and the prompt cache missed.
    """
    system: Any = [
        {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
        {"type": "text", "text": "Project instructions ...", "cache_control": {"type": "ephemeral"}},
    ]
    tools: Any = [
        {"name": "Read", "description": "read a file", "input_schema": {"type": "object", "properties": {}}},
    ]
    messages: Any = [
        {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]},
        {"role": "assistant", "content": "hello"},
        {"role": "system", "content": "<system-reminder>the user switched to plan mode</system-reminder>"},
        {"role": "user", "content": "again"},
    ]
    betas = "interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14"
    client = gateway.anthropic()
    answer = client.messages.with_raw_response.create(
        model="claude-sonnet-5.5@anthropic",
        max_tokens=100,
        system=system,
        tools=tools,
        messages=messages,
        metadata={"user_id": "user_abc_account_def_session_ghi"},
        extra_headers={"anthropic-beta": betas, "anthropic-version": "2026-10-21"},
    )
    assert answer.parse().content
    [sent] = fake.requests
    assert sent.body["system"] == system and sent.body["tools"] == tools and sent.body["messages"] == messages
    assert sent.body["metadata"] == {"user_id": "user_abc_account_def_session_ghi"}
    assert (sent.headers["anthropic-beta"], sent.headers["anthropic-version"]) == (betas, "2026-10-21")
    assert "anthropic_beta" not in sent.body

    fake.reset()
    client.messages.create(
        model="claude-sonnet-5.5@anthropic",
        max_tokens=100,
        messages=messages,
        extra_headers={"anthropic-version": "2023-06-01"},
    )
    [sent] = fake.requests
    assert [m["role"] for m in sent.body["messages"]] == ["user", "assistant", "user"], (
        "under 2023-06-01 the system turn joins `system` (the IR path)"
    )
    assert "switched to plan mode" in json.dumps(sent.body["system"])
    assert sent.headers["anthropic-version"] == "2023-06-01"


def test_a_conversation_that_crossed_providers_is_repaired_on_the_ir_path(
    gateway: RunningGateway, fake: FakeUpstream
) -> None:
    """A thinking block another provider produced (no Anthropic signature) would be refused by Anthropic."""
    messages: Any = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "GPT's reasoning", "signature": ""},
                {"type": "text", "text": "hello"},
            ],
        },
        {"role": "user", "content": "again"},
    ]
    client = gateway.anthropic()
    client.messages.create(model="claude-sonnet-5.5@anthropic", max_tokens=100, messages=messages)
    [sent] = fake.requests
    blocks = sent.body["messages"][1]["content"]
    assert [b["type"] for b in blocks] == ["text"], "the foreign thinking block is dropped"


def test_a_provider_with_codec_options_is_re_encoded(gateway: RunningGateway, fake: FakeUpstream) -> None:
    """OpenRouter's catalog row asks for reasoning in its own form, so its requests take the IR path.

    Unlike a pass-through, that path moves a mid-conversation system message to the front.
    """
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "again"},
    ]
    body: Any = {"model": "deepseek-v4-flash@openrouter", "messages": messages}
    answer = requests.post(gateway.url + "/v1/chat/completions", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    [sent] = fake.requests
    assert [m["role"] for m in sent.body["messages"]] == ["system", "user", "assistant", "user"]
