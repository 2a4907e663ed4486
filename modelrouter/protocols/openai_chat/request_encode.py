"""Provider side: write an `ir.Request` as the Chat Completions body an OpenAI-compatible provider reads.

The rules for what is dropped, moved or rejected are in the package docstring
(`modelrouter.protocols.openai_chat`); each is applied here exactly once.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal, TypeAlias

import orjson

from modelrouter import ir
from modelrouter.errors import BadRequest
from modelrouter.protocols.openai_chat._common import (
    ORIGIN_REASONING_CONTENT,
    PROTOCOL,
    ROUTING_FIELDS,
    reasoning_to_details,
)

__all__ = ["MaxTokensField", "ReasoningEcho", "encode_request"]

MaxTokensField: TypeAlias = Literal["max_completion_tokens", "max_tokens"]
"""Which field carries the output limit: OpenAI's current one, or the legacy one some servers need."""

ReasoningEcho: TypeAlias = Literal["auto", "none", "reasoning_content", "reasoning_details"]
"""How earlier turns' reasoning goes back to the provider (see the package docstring)."""


def encode_request(
    request: ir.Request,
    *,
    model: str,
    max_tokens_field: MaxTokensField = "max_completion_tokens",
    reasoning_echo: ReasoningEcho = "auto",
) -> bytes:
    """The JSON body for `POST /chat/completions` at a provider, with `model` its own model id.

    Args:
        request: The request to send.
        model: The provider's model id (for Azure's classic URLs, the deployment name).
        max_tokens_field: `max_tokens` for servers that do not read `max_completion_tokens`
            (DeepSeek documents only `max_tokens`).
        reasoning_echo: How reasoning of earlier assistant turns is sent back: "auto" echoes
            only what this protocol itself produced (DeepSeek-style `reasoning_content`);
            "none" sends nothing; "reasoning_content" sends every part's text that way
            (DeepSeek, xAI, vLLM); "reasoning_details" sends OpenRouter's structured form,
            signatures included.

    Raises:
        BadRequest: content this protocol cannot carry (a document by URL, an image without
            a media type, a tool call in a user turn).
    """
    body: dict[str, Any] = {}
    if request.source_protocol == PROTOCOL:
        body.update((k, v) for k, v in request.extra.items() if k not in ROUTING_FIELDS)
    body["model"] = model
    body["messages"] = _Messages(request, reasoning_echo).encode()
    _write_sampling(body, request, max_tokens_field)
    _write_tools(body, request)
    if request.response_format is not None:
        body["response_format"] = _response_format(request.response_format)
    effort = request.reasoning.effort if request.reasoning is not None else None
    if effort is not None and "reasoning" not in body:
        body["reasoning_effort"] = effort
    body["stream"] = request.stream
    if request.stream:
        body["stream_options"] = {"include_usage": True}  # the ledger needs usage whatever the client asked
    return orjson.dumps(body)


def _write_sampling(body: dict[str, Any], request: ir.Request, max_tokens_field: MaxTokensField) -> None:
    if request.max_tokens is not None:
        body[max_tokens_field] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop"] = list(request.stop)
    if request.seed is not None:
        body["seed"] = request.seed
    if request.user is not None:
        body["user"] = request.user


def _write_tools(body: dict[str, Any], request: ir.Request) -> None:
    # OpenAI rejects tool_choice and parallel_tool_calls without tools, so they go only with tools.
    if not request.tools:
        return
    body["tools"] = [_tool(spec) for spec in request.tools]
    choice = request.tool_choice
    if choice is None:
        return
    if choice.mode == "tool":
        if not choice.name:
            raise BadRequest("tool_choice names no tool: give the tool's name")
        body["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
    else:
        body["tool_choice"] = choice.mode
    if choice.parallel is not None:
        body["parallel_tool_calls"] = choice.parallel


def _tool(spec: ir.ToolSpec) -> dict[str, Any]:
    function: dict[str, Any] = {"name": spec.name}
    if spec.description is not None:
        function["description"] = spec.description
    function["parameters"] = spec.parameters
    if spec.strict is not None:
        function["strict"] = spec.strict
    return {"type": "function", "function": function}


def _response_format(fmt: ir.ResponseFormat) -> dict[str, Any]:
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    spec: dict[str, Any] = {"name": fmt.name or "response"}
    if fmt.description is not None:
        spec["description"] = fmt.description
    if fmt.schema is not None:
        spec["schema"] = fmt.schema
    if fmt.strict is not None:
        spec["strict"] = fmt.strict
    return {"type": "json_schema", "json_schema": spec}


# --- messages --------------------------------------------------------------------------------


class _Messages:
    """Turns IR turns into OpenAI messages: system first, tool results as `tool` messages."""

    def __init__(self, request: ir.Request, echo: ReasoningEcho) -> None:
        self._request = request
        self._echo = echo
        # DeepSeek's thinking mode answers 400 ("Missing reasoning_content field in the assistant
        # message") for a tool-call turn without the field, even an empty one:
        # https://api-docs.deepseek.com/guides/thinking_mode#tool-calls
        self._fill_empty = echo == "reasoning_content" or (echo == "auto" and _has_reasoning_content(request))

    def encode(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [
            {"role": "system", "content": part.text} for part in self._request.system
        ]
        for message in self._request.messages:
            if message.role == "user":
                out.extend(_user_messages(message))
            else:
                out.append(self._assistant(message))
        return out

    def _assistant(self, message: ir.Message) -> dict[str, Any]:
        texts: list[str] = []
        reasoning: list[ir.ReasoningPart] = []
        calls: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, ir.TextPart):
                texts.append(part.text)
            elif isinstance(part, ir.ReasoningPart):
                reasoning.append(part)
            elif isinstance(part, ir.ToolCallPart):
                calls.append(self._tool_call(part))
            else:
                raise BadRequest(
                    f"an assistant turn cannot carry {type(part).__name__} in OpenAI Chat Completions; "
                    "only text and tool calls"
                )
        out: dict[str, Any] = {
            "role": "assistant",
            "content": _text_content(texts, empty=None if calls else ""),
        }
        self._echo_reasoning(out, reasoning, has_calls=bool(calls))
        if calls:
            out["tool_calls"] = calls
        return out

    def _tool_call(self, part: ir.ToolCallPart) -> dict[str, Any]:
        call: dict[str, Any] = {
            "id": part.id,
            "type": "function",
            "function": {"name": part.name, "arguments": part.arguments},
        }
        if part.signature and self._echo != "none":
            # Google's OpenAI-compatible endpoint reads Gemini thought signatures from here:
            # https://ai.google.dev/gemini-api/docs/thought-signatures
            call["extra_content"] = {"google": {"thought_signature": part.signature}}
        return call

    def _echo_reasoning(self, out: dict[str, Any], parts: list[ir.ReasoningPart], *, has_calls: bool) -> None:
        if self._echo == "reasoning_details":
            if parts:
                out["reasoning_details"] = reasoning_to_details(parts)
            return
        if self._echo == "auto":
            parts = [p for p in parts if p.origin == ORIGIN_REASONING_CONTENT]
        elif self._echo == "none":
            return
        if parts:
            out["reasoning_content"] = "".join(p.text for p in parts)
        elif has_calls and self._fill_empty:
            out["reasoning_content"] = ""


def _has_reasoning_content(request: ir.Request) -> bool:
    return any(
        isinstance(part, ir.ReasoningPart) and part.origin == ORIGIN_REASONING_CONTENT
        for message in request.messages
        if message.role == "assistant"
        for part in message.content
    )


def _text_content(texts: list[str], *, empty: str | None) -> str | list[dict[str, Any]] | None:
    if not texts:
        return empty
    if len(texts) == 1:
        return texts[0]
    return [{"type": "text", "text": text} for text in texts]


def _user_messages(message: ir.Message) -> list[dict[str, Any]]:
    """A user turn: its tool results as `tool` messages, then one user message with the rest.

    Images and documents inside tool results cannot ride in a `tool` message (text only), so
    they move into the user message that follows the tool messages, ahead of its own content.
    """
    tools: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, ir.ToolResultPart):
            tools.append(_tool_message(part, moved))
        elif isinstance(part, ir.ReasoningPart):
            continue
        elif isinstance(part, ir.ToolCallPart):
            raise BadRequest("a user turn cannot contain a tool call; tool calls belong to assistant turns")
        else:
            rest.append(_user_part(part))
    if not moved and not rest and tools:
        return tools
    parts = moved + rest
    if len(parts) == 1 and parts[0]["type"] == "text":
        content: str | list[dict[str, Any]] = parts[0]["text"]
    else:
        content = parts if parts else ""
    return [*tools, {"role": "user", "content": content}]


def _tool_message(part: ir.ToolResultPart, moved: list[dict[str, Any]]) -> dict[str, Any]:
    texts: list[str] = []
    for item in part.content:
        if isinstance(item, ir.TextPart):
            texts.append(item.text)
        else:
            moved.append(_user_part(item))
    return {"role": "tool", "tool_call_id": part.tool_call_id, "content": _text_content(texts, empty="")}


def _user_part(part: ir.Part) -> dict[str, Any]:
    if isinstance(part, ir.TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ir.ImagePart):
        return _image(part)
    if isinstance(part, ir.DocumentPart):
        return _document(part)
    raise BadRequest(f"a user turn cannot carry {type(part).__name__} in OpenAI Chat Completions")


def _image(part: ir.ImagePart) -> dict[str, Any]:
    if part.data is not None:
        if not part.media_type:
            raise BadRequest("an inline image has no media type; give it one (for example image/png)")
        url = f"data:{part.media_type};base64,{part.data}"
    elif part.url is not None:
        url = part.url
    else:
        raise BadRequest("an image has neither data nor a URL")
    image: dict[str, Any] = {"url": url}
    if part.detail is not None:
        image["detail"] = part.detail
    return {"type": "image_url", "image_url": image}


def _document(part: ir.DocumentPart) -> dict[str, Any]:
    if part.data is None:
        raise BadRequest(
            "OpenAI Chat Completions cannot fetch a document by URL; send the document inline (base64)"
        )
    media_type = part.media_type or "application/pdf"
    if media_type.startswith("text/"):
        try:
            return {"type": "text", "text": base64.b64decode(part.data, validate=True).decode()}
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise BadRequest(f"a {media_type} document is not valid base64 UTF-8 text") from exc
    filename = part.filename or ("document.pdf" if media_type == "application/pdf" else "document")
    return {
        "type": "file",
        "file": {"file_data": f"data:{media_type};base64,{part.data}", "filename": filename},
    }
