"""Client side: the request options around the messages (sampling, tools, formats, reasoning, streaming)."""

from __future__ import annotations

from typing import Any

from modelrouter import ir
from modelrouter.protocols.openai_chat._common import Malformed
from modelrouter.protocols.openai_chat._validate import (
    as_dict,
    as_list,
    opt_bool,
    opt_int,
    opt_number,
    opt_str,
    req_str,
)

__all__ = ["read_options"]


def read_options(data: dict[str, Any], request: ir.Request) -> None:
    """Fill `request` from the top-level fields other than `model` and `messages`.

    Each reader runs only when its field is there (absent, the IR's default stands): a
    request carries a few of these twenty fields, and a call per absent one was most of the
    cost of reading a short request.
    """
    get = data.get
    _read_sampling(data, request)
    if (tools := get("tools")) is not None:
        request.tools = _tools(tools)
    tool_choice, parallel = get("tool_choice"), get("parallel_tool_calls")
    if tool_choice is not None or parallel is not None:
        request.tool_choice = _tool_choice(tool_choice, parallel)
    if (response_format := get("response_format")) is not None:
        request.response_format = _response_format(response_format)
    if "reasoning_effort" in data or "reasoning" in data:
        request.reasoning = _reasoning(data)
    if (stream := get("stream")) is not None:
        request.stream = opt_bool(stream, "stream") or False
        request.include_usage = request.stream and _include_usage(get("stream_options"))


def _read_sampling(data: dict[str, Any], request: ir.Request) -> None:
    # max_completion_tokens is OpenAI's current name (it counts reasoning tokens); max_tokens is
    # the deprecated one many clients still send. Both mean the IR's max_tokens.
    get = data.get
    if (value := get("max_completion_tokens")) is not None:
        request.max_tokens = opt_int(value, "max_completion_tokens", minimum=1)
    elif (value := get("max_tokens")) is not None:
        request.max_tokens = opt_int(value, "max_tokens", minimum=1)
    if (value := get("temperature")) is not None:
        request.temperature = opt_number(value, "temperature")
    if (value := get("top_p")) is not None:
        request.top_p = opt_number(value, "top_p")
    if (value := get("top_k")) is not None:
        request.top_k = opt_int(value, "top_k", minimum=1)
    if (value := get("seed")) is not None:
        request.seed = opt_int(value, "seed")
    if (value := get("user")) is not None:
        request.user = opt_str(value, "user")
    stop = get("stop")
    if isinstance(stop, str):
        request.stop = [stop]
    elif stop is not None:
        request.stop = [req_str(s, f"stop[{i}]") for i, s in enumerate(as_list(stop, "stop"))]


def _tools(raw: object) -> list[ir.ToolSpec]:
    if raw is None:
        return []
    specs = []
    for i, item in enumerate(as_list(raw, "tools")):
        tool = as_dict(item, f"tools[{i}]")
        if tool.get("type") != "function":
            raise Malformed(f"`tools[{i}].type` must be function (custom tools are not supported)")
        function = as_dict(tool.get("function"), f"tools[{i}].function")
        parameters = function.get("parameters")
        spec = ir.ToolSpec(
            name=req_str(function.get("name"), f"tools[{i}].function.name"),
            description=opt_str(function.get("description"), f"tools[{i}].function.description"),
            strict=opt_bool(function.get("strict"), f"tools[{i}].function.strict"),
        )
        if parameters is not None:
            spec.parameters = as_dict(parameters, f"tools[{i}].function.parameters")
        specs.append(spec)
    return specs


def _tool_choice(raw: object, parallel: object) -> ir.ToolChoice | None:
    parallel_calls = opt_bool(parallel, "parallel_tool_calls")
    if raw is None:
        return None if parallel_calls is None else ir.ToolChoice(parallel=parallel_calls)
    if raw in ("none", "auto", "required"):
        return ir.ToolChoice(mode=raw, parallel=parallel_calls)
    choice = as_dict(raw, "tool_choice")
    if choice.get("type") != "function":
        raise Malformed('`tool_choice` must be none, auto, required or {"type": "function", ...}')
    name = req_str(
        as_dict(choice.get("function"), "tool_choice.function").get("name"), "tool_choice.function.name"
    )
    return ir.ToolChoice(mode="tool", name=name, parallel=parallel_calls)


def _response_format(raw: object) -> ir.ResponseFormat | None:
    if raw is None:
        return None
    fmt = as_dict(raw, "response_format")
    kind = fmt.get("type")
    if kind in ("text", "json_object"):
        return ir.ResponseFormat(type=kind)
    if kind != "json_schema":
        raise Malformed("`response_format.type` must be text, json_object or json_schema")
    spec = as_dict(fmt.get("json_schema"), "response_format.json_schema")
    schema = spec.get("schema")
    return ir.ResponseFormat(
        type="json_schema",
        schema=as_dict(schema, "response_format.json_schema.schema") if schema is not None else None,
        name=opt_str(spec.get("name"), "response_format.json_schema.name"),
        strict=opt_bool(spec.get("strict"), "response_format.json_schema.strict"),
        description=opt_str(spec.get("description"), "response_format.json_schema.description"),
    )


def _reasoning(data: dict[str, Any]) -> ir.ReasoningConfig | None:
    """`reasoning_effort`, else OpenRouter's `reasoning` object (which also stays in `extra`)."""
    effort = opt_str(data.get("reasoning_effort"), "reasoning_effort")
    if effort is not None:
        return ir.ReasoningConfig(effort=effort, enabled=False if effort == "none" else None)
    raw = data.get("reasoning")
    if raw is None:
        return None
    options = as_dict(raw, "reasoning")
    exclude = opt_bool(options.get("exclude"), "reasoning.exclude")
    return ir.ReasoningConfig(
        enabled=opt_bool(options.get("enabled"), "reasoning.enabled"),
        effort=opt_str(options.get("effort"), "reasoning.effort"),
        budget_tokens=opt_int(options.get("max_tokens"), "reasoning.max_tokens", minimum=0),
        include_thoughts=None if exclude is None else not exclude,
    )


def _include_usage(raw: object) -> bool:
    if raw is None:
        return False
    return (
        opt_bool(as_dict(raw, "stream_options").get("include_usage"), "stream_options.include_usage") or False
    )
