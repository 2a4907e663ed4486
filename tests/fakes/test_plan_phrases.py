"""The fake's scripted answers: how tests make a real agent run its own tools."""

from __future__ import annotations

import json

from tests.fakes.plan import REPLY_PHRASE, TOOL_PHRASE, Ask, plan_for

READ = ("Read", {"type": "object", "properties": {"file_path": {"type": "string"}}})
BASH = ("Bash", {"type": "object", "properties": {"command": {"type": "string"}}})


def test_a_tool_phrase_calls_the_named_tool_with_the_given_arguments() -> None:
    text = f'first {TOOL_PHRASE}Bash with {{"command": "ls -la"}} then stop'
    plan = plan_for(Ask("m", text, text, tools=[READ, BASH]), "openai")
    assert [(c.name, c.arguments) for c in plan.calls] == [("Bash", {"command": "ls -la"})]


def test_a_tool_phrase_naming_a_tool_not_offered_falls_back_to_the_default_plan() -> None:
    text = f'{TOOL_PHRASE}Write with {{"x": 1}}'
    plan = plan_for(Ask("m", text, text, tools=[READ]), "openai")
    assert [c.name for c in plan.calls] == ["Read"] and plan.calls[0].arguments == {
        "file_path": "file_path-value"
    }


def test_after_the_tool_result_the_fake_answers_from_it() -> None:
    text = f'{TOOL_PHRASE}Read with {{"file_path": "/x"}}'
    plan = plan_for(Ask("m", text, text, tools=[READ], after_tool_result="42 lines"), "anthropic")
    assert not plan.calls and plan.text == "fake anthropic saw the tool result: 42 lines"


def test_a_reply_phrase_is_answered_verbatim() -> None:
    reply = "notes.txt\n```\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```\n"
    text = REPLY_PHRASE + json.dumps(reply)
    plan = plan_for(Ask("m", text, text), "openrouter")
    assert plan.text == reply and "".join(plan.text_chunks()) == reply
    assert plan_for(Ask("m", REPLY_PHRASE + "not json", "x"), "x").text.startswith("fake x answer to:")
