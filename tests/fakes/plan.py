"""What a fake upstream answers: a deterministic plan derived from the request alone.

Every protocol module turns its request body into an `Ask` (the facts that matter) and
renders a `Plan` in its own wire format, so all four protocols answer the same question the
same way and tests can predict the answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

PARALLEL_PHRASE = "call both tools"
"""A user turn containing this makes the fake call every tool it was given, in parallel."""
REPLY_PHRASE = "answer exactly "
"""`answer exactly "JSON STRING"` in the last user turn makes the fake answer that text verbatim
(how a test hands a text-driven agent such as aider an edit to apply)."""
TOOL_PHRASE = "call the tool "
"""`call the tool NAME with {JSON}` in a user turn makes the fake call that tool with those
arguments (how a test makes a real agent run one of its own tools)."""


@dataclass
class Ask:
    """The protocol-independent facts of a request."""

    model: str
    last_user_text: str
    all_text: str
    tools: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """Tool names and JSON schemas, in order."""
    forced_tool: str | None = None
    tools_allowed: bool = True
    after_tool_result: str | None = None
    """The text of the tool result the last turn carries, if it carries one."""
    thinking: bool = False
    include_usage: bool = True
    cache_marks: int = 0
    """Prompt-cache breakpoints in the request (`cache_control`, `cachePoint`)."""


@dataclass
class Call:
    """One tool call of the plan."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass
class Plan:
    """The answer: reasoning text, text, tool calls, usage."""

    model: str
    label: str
    reasoning: str = ""
    text: str = ""
    calls: list[Call] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    signature: str = ""
    cache_read_tokens: int = 0
    """The fake treats every marked prefix as cached: 100 tokens read per breakpoint."""

    @property
    def stop(self) -> str:
        """`tool_use` when the answer calls tools, else `end_turn`."""
        return "tool_use" if self.calls else "end_turn"

    def text_chunks(self) -> list[str]:
        """The text as a stream sends it: word by word, spaces kept."""
        words = self.text.split(" ")
        return [w + " " for w in words[:-1]] + [words[-1]]


def _value(schema: dict[str, Any], name: str) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    kind = str(kind or "string").lower()
    if schema.get("enum"):
        return schema["enum"][0]
    return {
        "integer": 7,
        "number": 1.5,
        "boolean": True,
        "array": [],
        "object": {},
    }.get(kind, f"{name}-value")


def arguments_for(schema: dict[str, Any]) -> dict[str, Any]:
    """Arguments filling every required property of `schema` with a predictable value."""
    properties = schema.get("properties") or {}
    required = schema.get("required") or list(properties)[:1]
    return {name: _value(properties.get(name) or {}, name) for name in required}


def _scripted_call(text: str, offered: list[str]) -> tuple[str, dict[str, Any]] | None:
    """The tool call a `TOOL_PHRASE` sentence asks for, if it names an offered tool."""
    at = text.find(TOOL_PHRASE)
    if at < 0:
        return None
    name, _, rest = text[at + len(TOOL_PHRASE) :].partition(" with ")
    if name.strip() not in offered:
        return None
    try:
        arguments, _ = json.JSONDecoder().raw_decode(rest.strip())
    except ValueError:
        return None
    return (name.strip(), arguments) if isinstance(arguments, dict) else None


def _scripted_reply(text: str) -> str | None:
    """The verbatim answer a `REPLY_PHRASE` sentence asks for."""
    at = text.find(REPLY_PHRASE)
    if at < 0:
        return None
    try:
        reply, _ = json.JSONDecoder().raw_decode(text[at + len(REPLY_PHRASE) :].strip())
    except ValueError:
        return None
    return reply if isinstance(reply, str) and reply else None


def _words(text: str) -> int:
    return len(text.split())


def plan_for(ask: Ask, label: str) -> Plan:
    """The deterministic answer to `ask` from the fake standing for `label`."""
    plan = Plan(model=ask.model, label=label)
    if ask.thinking:
        plan.reasoning = f"The user asked: {ask.last_user_text}"
        plan.signature = "sig-" + hashlib.sha256(plan.reasoning.encode()).hexdigest()[:24]
    tools = ask.tools if ask.tools_allowed else []
    if tools and ask.after_tool_result is None:
        scripted = _scripted_call(ask.last_user_text, [name for name, _ in tools])
        if scripted is not None:
            chosen = []
            digest = hashlib.sha256(ask.all_text.encode()).hexdigest()
            plan.calls = [Call(f"call_{digest[:8]}_0", *scripted)]
        elif ask.forced_tool:
            chosen = [t for t in tools if t[0] == ask.forced_tool]
        elif PARALLEL_PHRASE in ask.last_user_text:
            chosen = tools
        else:
            chosen = tools[:1]
        if scripted is None:
            digest = hashlib.sha256(ask.all_text.encode()).hexdigest()
            plan.calls = [
                Call(f"call_{digest[:8]}_{i}", name, arguments_for(schema))
                for i, (name, schema) in enumerate(chosen)
            ]
    elif ask.after_tool_result is not None:
        plan.text = f"fake {label} saw the tool result: {ask.after_tool_result}"
    else:
        plan.text = _scripted_reply(ask.last_user_text) or f"fake {label} answer to: {ask.last_user_text}"
    plan.input_tokens = 10 + _words(ask.all_text)
    plan.cache_read_tokens = 100 * ask.cache_marks
    plan.output_tokens = 3 + _words(plan.text) + _words(plan.reasoning) + 5 * len(plan.calls)
    return plan


def texts(value: Any) -> str:
    """Every string under `text` keys in a JSON value, joined by spaces (for token counts)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if key == "text" and isinstance(item, str):
                    out.append(item)
                else:
                    walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(value)
    return " ".join(out)
