"""The provider side of the OpenAI Chat codec: request bodies, answers, streams and errors from providers."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from modelrouter import errors, ir
from modelrouter.errors import BadRequest
from modelrouter.protocols import openai_chat
from tests.protocols.openai_chat_helpers import decode_all

USER = ir.Message(role="user", content=[ir.TextPart(text="hi")])


def _body(request: ir.Request, **options: Any) -> Any:
    return orjson.loads(openai_chat.encode_request(request, model="provider-model", **options))


# --- encode_request ---------------------------------------------------------------------------


def test_a_request_from_another_protocol_keeps_only_what_openai_chat_can_say() -> None:
    request = ir.Request(
        model="claude-sonnet-4-5",
        system=[
            ir.TextPart(text="Be brief.", cache_control=ir.CacheControl()),
            ir.TextPart(text="Use metric."),
        ],
        messages=[USER],
        max_tokens=1024,
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        stop=["END"],
        seed=3,
        user="u",
        reasoning=ir.ReasoningConfig(enabled=True, budget_tokens=2048),
        stream=True,
        include_usage=False,
        cache_control=ir.CacheControl(),
        extra={"metadata": {"user_id": "x"}},
        source_protocol="anthropic_messages",
    )
    assert _body(request) == {
        "model": "provider-model",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "system", "content": "Use metric."},
            {"role": "user", "content": "hi"},
        ],
        "max_completion_tokens": 1024,
        "temperature": 0.5,
        "top_p": 0.9,
        "stop": ["END"],
        "seed": 3,
        "user": "u",
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_max_tokens_field_option_and_reasoning_effort() -> None:
    request = ir.Request(
        model="m", messages=[USER], max_tokens=77, reasoning=ir.ReasoningConfig(effort="low")
    )
    assert _body(request, max_tokens_field="max_tokens") == {
        "model": "provider-model",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 77,
        "reasoning_effort": "low",
        "stream": False,
    }


def test_extra_fields_are_forwarded_to_the_same_protocol_but_never_override_codec_fields() -> None:
    request = ir.Request(
        model="m",
        messages=[USER],
        extra={
            "messages": "junk",
            "model": "junk",
            "store": True,
            "route": "eu",
            "models": ["a"],
            "provider": {},
        },
        source_protocol="openai_chat",
    )
    assert _body(request) == {
        "messages": [{"role": "user", "content": "hi"}],
        "model": "provider-model",
        "store": True,
        "stream": False,
    }


def test_tool_results_become_tool_messages_and_their_media_moves_to_the_next_user_message() -> None:
    image = ir.ImagePart(media_type="image/png", data="iVBO")
    request = ir.Request(
        model="m",
        messages=[
            USER,
            ir.Message(
                role="assistant",
                content=[ir.ToolCallPart(id="t1", name="shot"), ir.ToolCallPart(id="t2", name="read")],
            ),
            ir.Message(
                role="user",
                content=[
                    ir.ToolResultPart(
                        tool_call_id="t1", content=[ir.TextPart(text="screenshot:"), image], is_error=True
                    ),
                    ir.ToolResultPart(
                        tool_call_id="t2", content=[ir.TextPart(text="part 1"), ir.TextPart(text="part 2")]
                    ),
                    ir.TextPart(text="What do you see?"),
                ],
            ),
            ir.Message(role="user", content=[ir.ToolResultPart(tool_call_id="t3", content=[])]),
        ],
    )
    assert _body(request)["messages"][1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "shot", "arguments": "{}"}},
                {"id": "t2", "type": "function", "function": {"name": "read", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "t1", "content": "screenshot:"},
        {
            "role": "tool",
            "tool_call_id": "t2",
            "content": [{"type": "text", "text": "part 1"}, {"type": "text", "text": "part 2"}],
        },
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
                {"type": "text", "text": "What do you see?"},
            ],
        },
        {"role": "tool", "tool_call_id": "t3", "content": ""},
    ]


def test_user_media_and_documents() -> None:
    request = ir.Request(
        model="m",
        messages=[
            ir.Message(
                role="user",
                content=[
                    ir.ImagePart(url="https://example.com/cat.jpg", detail="low"),
                    ir.DocumentPart(media_type="application/pdf", data="JVBERi0="),
                    ir.DocumentPart(media_type="text/plain", data="aGVsbG8gd29ybGQ=", filename="a.txt"),
                    ir.DocumentPart(media_type="application/msword", data="AAAA", filename="a.doc"),
                ],
            ),
            ir.Message(role="assistant", content=[]),
        ],
    )
    assert _body(request)["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"}},
                {
                    "type": "file",
                    "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "document.pdf"},
                },
                {"type": "text", "text": "hello world"},
                {
                    "type": "file",
                    "file": {"file_data": "data:application/msword;base64,AAAA", "filename": "a.doc"},
                },
            ],
        },
        {"role": "assistant", "content": ""},
    ]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (
            ir.Message(role="user", content=[ir.DocumentPart(url="https://example.com/a.pdf")]),
            "OpenAI Chat Completions cannot fetch a document by URL; send the document inline (base64)",
        ),
        (
            ir.Message(role="user", content=[ir.ImagePart(data="iVBO")]),
            "an inline image has no media type; give it one (for example image/png)",
        ),
        (ir.Message(role="user", content=[ir.ImagePart()]), "an image has neither data nor a URL"),
        (
            ir.Message(role="user", content=[ir.DocumentPart(media_type="text/plain", data="%%%")]),
            "a text/plain document is not valid base64 UTF-8 text",
        ),
        (
            ir.Message(role="user", content=[ir.ToolCallPart(id="x", name="f")]),
            "a user turn cannot contain a tool call; tool calls belong to assistant turns",
        ),
        (
            ir.Message(role="assistant", content=[ir.ImagePart(url="https://example.com/a.png")]),
            "an assistant turn cannot carry ImagePart in OpenAI Chat Completions; only text and tool calls",
        ),
    ],
)
def test_content_openai_chat_cannot_carry_is_refused(message: ir.Message, error: str) -> None:
    with pytest.raises(BadRequest) as raised:
        openai_chat.encode_request(ir.Request(model="m", messages=[message]), model="x")
    assert raised.value.message == error


def test_tools_choice_and_formats() -> None:
    tools = [ir.ToolSpec(name="f", description="Find.", strict=True), ir.ToolSpec(name="g")]
    request = ir.Request(
        model="m",
        messages=[USER],
        tools=tools,
        tool_choice=ir.ToolChoice(mode="tool", name="g", parallel=False),
        response_format=ir.ResponseFormat(type="json_schema", schema={"type": "object"}),
    )
    body = _body(request)
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "f",
                "description": "Find.",
                "parameters": {"type": "object", "properties": {}},
                "strict": True,
            },
        },
        {"type": "function", "function": {"name": "g", "parameters": {"type": "object", "properties": {}}}},
    ]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "g"}}
    assert body["parallel_tool_calls"] is False
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "response", "schema": {"type": "object"}},
    }
    no_tools = ir.Request(
        model="m", messages=[USER], tool_choice=ir.ToolChoice(mode="required", parallel=True)
    )
    assert "tool_choice" not in _body(no_tools) and "parallel_tool_calls" not in _body(no_tools)
    with pytest.raises(BadRequest, match="tool_choice names no tool"):
        openai_chat.encode_request(
            ir.Request(model="m", messages=[USER], tools=tools, tool_choice=ir.ToolChoice(mode="tool")),
            model="x",
        )
    assert _body(
        ir.Request(model="m", messages=[USER], response_format=ir.ResponseFormat(type="json_object"))
    )["response_format"] == {"type": "json_object"}


# --- reasoning echo ---------------------------------------------------------------------------

DEEPSEEK_THOUGHT = ir.ReasoningPart(text="Think A.", origin="deepseek")
CLAUDE_THOUGHT = ir.ReasoningPart(text="Think B.", signature="sig-b", origin="anthropic")
GEMINI_CALL = ir.ToolCallPart(id="c1", name="f", arguments="{}", signature="gem-sig")
PLAIN_CALL = ir.ToolCallPart(id="c2", name="f", arguments="{}")


def _history(*assistants: list[ir.Part]) -> ir.Request:
    messages = [USER]
    for content in assistants:
        messages.append(ir.Message(role="assistant", content=content))
        messages.append(USER)
    return ir.Request(model="m", messages=messages)


def _assistants(request: ir.Request, echo: Any) -> list[dict[str, Any]]:
    return [m for m in _body(request, reasoning_echo=echo)["messages"] if m["role"] == "assistant"]


GEMINI_EXTRA = {"extra_content": {"google": {"thought_signature": "gem-sig"}}}


def _call(call_id: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": "f", "arguments": "{}"}, **(extra or {})}


def test_auto_echo_sends_deepseek_reasoning_and_fills_empty_reasoning_on_tool_turns() -> None:
    request = _history(
        [DEEPSEEK_THOUGHT, ir.TextPart(text="A"), GEMINI_CALL],
        [CLAUDE_THOUGHT, PLAIN_CALL],
        [ir.TextPart(text="B")],
    )
    assert _assistants(request, "auto") == [
        {
            "role": "assistant",
            "content": "A",
            "reasoning_content": "Think A.",
            "tool_calls": [_call("c1", GEMINI_EXTRA)],
        },
        {"role": "assistant", "content": None, "reasoning_content": "", "tool_calls": [_call("c2")]},
        {"role": "assistant", "content": "B"},
    ]


def test_auto_echo_sends_no_foreign_reasoning() -> None:
    request = _history([CLAUDE_THOUGHT, PLAIN_CALL])
    assert _assistants(request, "auto") == [
        {"role": "assistant", "content": None, "tool_calls": [_call("c2")]}
    ]


def test_reasoning_content_echo_sends_every_origin_as_text() -> None:
    request = _history([DEEPSEEK_THOUGHT, CLAUDE_THOUGHT, GEMINI_CALL], [PLAIN_CALL], [ir.TextPart(text="B")])
    assert _assistants(request, "reasoning_content") == [
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "Think A.Think B.",
            "tool_calls": [_call("c1", GEMINI_EXTRA)],
        },
        {"role": "assistant", "content": None, "reasoning_content": "", "tool_calls": [_call("c2")]},
        {"role": "assistant", "content": "B"},
    ]


def test_reasoning_details_echo_sends_openrouters_structured_form() -> None:
    blob = ir.ReasoningPart(redacted="opaque", origin="anthropic")
    request = _history([CLAUDE_THOUGHT, blob, DEEPSEEK_THOUGHT, PLAIN_CALL], [ir.TextPart(text="B")])
    assert _assistants(request, "reasoning_details") == [
        {
            "role": "assistant",
            "content": None,
            "reasoning_details": [
                {
                    "type": "reasoning.text",
                    "text": "Think B.",
                    "signature": "sig-b",
                    "format": "anthropic-claude-v1",
                    "index": 0,
                },
                {
                    "type": "reasoning.encrypted",
                    "data": "opaque",
                    "format": "anthropic-claude-v1",
                    "index": 1,
                },
                {"type": "reasoning.text", "text": "Think A.", "format": "deepseek", "index": 2},
            ],
            "tool_calls": [_call("c2")],
        },
        {"role": "assistant", "content": "B"},
    ]


def test_none_echo_sends_no_reasoning_and_no_signatures() -> None:
    request = _history([DEEPSEEK_THOUGHT, CLAUDE_THOUGHT, GEMINI_CALL])
    assert _assistants(request, "none") == [
        {"role": "assistant", "content": None, "tool_calls": [_call("c1")]}
    ]


# --- decode_response ------------------------------------------------------------------------


def _completion(message: dict[str, Any], finish: str | None = "stop", **top: Any) -> bytes:
    return orjson.dumps(
        {
            "id": "x",
            "model": "m",
            "created": 1,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            **top,
        }
    )


def test_refusal_and_list_content_and_missing_ids() -> None:
    refused = openai_chat.decode_response(
        _completion({"role": "assistant", "content": None, "refusal": "I can't."})
    )
    assert (refused.content, refused.stop_reason) == ([ir.TextPart(text="I can't.")], "refusal")
    listed = openai_chat.decode_response(
        _completion(
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                "tool_calls": [
                    {
                        "type": "function",
                        "function": {"name": "f", "arguments": {"x": 1}},
                        "extra_content": {"google": {"thought_signature": "ts"}},
                    }
                ],
            }
        )
    )
    assert listed.content == [
        ir.TextPart(text="ab"),
        ir.ToolCallPart(id="call_0", name="f", arguments='{"x":1}', signature="ts"),
    ]
    assert listed.stop_reason == "tool_use"  # "stop" with tool calls, as some local servers answer
    assert listed.usage == ir.Usage()


@pytest.mark.parametrize(
    ("finish", "stop"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_use"),
        ("function_call", "tool_use"),
        ("content_filter", "content_filter"),
        ("error", "error"),
        ("eos", "other"),
        (None, "end_turn"),
    ],
)
def test_finish_reasons(finish: str | None, stop: ir.StopReason) -> None:
    answer = openai_chat.decode_response(_completion({"role": "assistant", "content": "x"}, finish))
    assert answer.stop_reason == stop


def test_unusable_answers_raise_protocol_or_upstream_errors() -> None:
    with pytest.raises(errors.UpstreamProtocolError, match="not JSON"):
        openai_chat.decode_response(b"<html>")
    with pytest.raises(errors.UpstreamProtocolError, match="not a JSON object"):
        openai_chat.decode_response(b"[]")
    with pytest.raises(errors.UpstreamProtocolError, match="`choices` must be a non-empty list"):
        openai_chat.decode_response(b'{"id": "x", "choices": []}')
    with pytest.raises(
        errors.UpstreamProtocolError, match=r"`message.tool_calls\[0\]` must have a `function`"
    ):
        openai_chat.decode_response(_completion({"role": "assistant", "tool_calls": [{"id": "c"}]}))
    with pytest.raises(errors.UpstreamProtocolError, match="`reasoning_details` must be a list"):
        openai_chat.decode_response(_completion({"role": "assistant", "reasoning_details": "x"}))
    with pytest.raises(errors.UpstreamOverloaded, match="no capacity"):
        openai_chat.decode_response(b'{"error": {"code": 503, "message": "no capacity"}}')


# --- decode_error ----------------------------------------------------------------------------


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


ERRORS: list[tuple[int, bytes, dict[str, str], type[errors.UpstreamError], str, float | None]] = [
    (
        401,
        _json(
            {
                "error": {
                    "message": "Incorrect API key provided: sk-proj-abc*****wxyz. See docs.",
                    "code": "invalid_api_key",
                }
            }
        ),
        {},
        errors.UpstreamAuthError,
        "the provider answered 401: Incorrect API key provided: [redacted] See docs. (check this provider's "
        "credentials, quota or credit in modelrouter.yaml)",
        None,
    ),
    (
        429,
        _json(
            {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
        ),
        {"Retry-After-Ms": "1500", "retry-after": "2"},
        errors.UpstreamRateLimited,
        "the provider answered 429: Rate limit reached",
        1.5,
    ),
    (
        429,
        _json({"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}}),
        {},
        errors.UpstreamAuthError,
        "the provider answered 429: You exceeded your current quota (check",
        None,
    ),
    (
        429,
        _json(
            {
                "error": {
                    "code": "429",
                    "message": "Requests have exceeded the limit. Please retry after 7 seconds.",
                }
            }
        ),
        {},
        errors.UpstreamRateLimited,
        "the provider answered 429: Requests have exceeded",
        7.0,
    ),
    (
        429,
        _json({"code": "Some resource has been exhausted", "error": "Too many requests, try again in 250ms"}),
        {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"},
        errors.UpstreamRateLimited,
        "the provider answered 429: Too many requests",
        0.25,
    ),
    (
        503,
        _json({"error": {"message": "overloaded"}}),
        {"retry-after": "3"},
        errors.UpstreamOverloaded,
        "the provider answered 503",
        3.0,
    ),
    (529, b"", {}, errors.UpstreamOverloaded, "the provider answered 529: HTTP 529", None),
    (
        500,
        _json({"error": {"message": "server error", "type": "server_error"}}),
        {},
        errors.UpstreamServerError,
        "the provider answered 500: server error",
        None,
    ),
    (
        502,
        _json(
            {
                "error": {
                    "code": 502,
                    "message": "Provider returned error",
                    "metadata": {"raw": "upstream down", "provider_name": "X"},
                }
            }
        ),
        {},
        errors.UpstreamServerError,
        "the provider answered 502: Provider returned error: upstream down",
        None,
    ),
    (
        502,
        b"<html>Bad Gateway</html>",
        {},
        errors.UpstreamServerError,
        "the provider answered 502: <html>Bad Gateway</html>",
        None,
    ),
    (
        408,
        _json({"error": {"code": 408, "message": "timed out"}}),
        {},
        errors.UpstreamTimeout,
        "the provider answered 408",
        None,
    ),
    (
        409,
        _json({"error": {"message": "conflict"}}),
        {},
        errors.UpstreamServerError,
        "the provider answered 409",
        None,
    ),
    (
        400,
        _json(
            {
                "error": {
                    "message": "maximum context length is 128000 tokens",
                    "code": "context_length_exceeded",
                }
            }
        ),
        {},
        errors.ContextLengthExceeded,
        "the provider answered 400: maximum context length",
        None,
    ),
    (
        400,
        _json(
            {
                "error": {
                    "message": "This model's maximum context length is 131072 tokens. However, you asked 2"
                }
            }
        ),
        {},
        errors.ContextLengthExceeded,
        "the provider answered 400: This model's",
        None,
    ),
    (
        400,
        _json(
            {
                "code": "Client specified an invalid argument",
                "error": "This model's maximum prompt length is 131072 but the request contains 2M",
            }
        ),
        {},
        errors.ContextLengthExceeded,
        "the provider answered 400: This model's maximum prompt length",
        None,
    ),
    (
        400,
        _json(
            {
                "error": {
                    "message": "The response was filtered due to the prompt triggering Azure OpenAI's "
                    "content management policy.",
                    "type": None,
                    "param": "prompt",
                    "code": "content_filter",
                    "status": 400,
                    "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {}},
                }
            }
        ),
        {},
        errors.ContentFiltered,
        "the provider answered 400: The response was filtered",
        None,
    ),
    (
        403,
        _json(
            {
                "error": {
                    "code": 403,
                    "message": "Input flagged",
                    "metadata": {"reasons": ["violence"], "flagged_input": "x"},
                }
            }
        ),
        {},
        errors.ContentFiltered,
        "the provider answered 403: Input flagged (moderation)",
        None,
    ),
    (
        402,
        _json({"error": {"message": "Insufficient Balance", "code": "invalid_request_error"}}),
        {},
        errors.UpstreamAuthError,
        "the provider answered 402",
        None,
    ),
    (
        400,
        _json(
            {
                "code": "Client specified an invalid argument",
                "error": "Incorrect API key provided: xai-abcdef123456. Get one at console.x.ai.",
            }
        ),
        {},
        errors.UpstreamAuthError,
        "the provider answered 400: Incorrect API key provided: [redacted] Get one",
        None,
    ),
    (
        404,
        _json({"error": {"message": "The model `x` does not exist", "code": "model_not_found"}}),
        {},
        errors.UpstreamBadRequest,
        "the provider answered 404",
        None,
    ),
    (
        422,
        _json({"detail": [{"msg": "field required"}]}),
        {},
        errors.UpstreamBadRequest,
        "the provider answered 422: [{'msg': 'field required'}]",
        None,
    ),
]


@pytest.mark.parametrize(("status", "body", "headers", "kind", "message", "retry_after"), ERRORS)
def test_provider_errors_map_to_the_exception_tree(
    status: int,
    body: bytes,
    headers: dict[str, str],
    kind: type[errors.UpstreamError],
    message: str,
    retry_after: float | None,
) -> None:
    error = openai_chat.decode_error(status, body, headers)
    assert type(error) is kind
    assert error.message.startswith(message)
    assert (error.upstream_status, error.retry_after) == (status, retry_after)
    assert "sk-proj" not in error.message and "xai-abc" not in error.message


def test_long_error_bodies_are_shortened() -> None:
    error = openai_chat.decode_error(500, b"x" * 5000, {})
    assert len(error.message) < 700 and error.message.endswith("\u2026")


# --- StreamDecoder edge cases -------------------------------------------------------------------


def _sse(*chunks: Any, done: bool = True, sep: bytes = b"\n\n") -> bytes:
    frames = [b"data: " + (c if isinstance(c, bytes) else orjson.dumps(c)) + sep for c in chunks]
    return b"".join(frames) + (b"data: [DONE]" + sep if done else b"")


def _chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **top: Any) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta or {}, "finish_reason": finish}
    return {
        "id": "s1",
        "object": "chat.completion.chunk",
        "created": 9,
        "model": "m",
        "choices": [choice],
        **top,
    }


def test_empty_data_lines_are_keep_alives() -> None:
    body = b"data:\n\ndata:  \n\n" + _sse(_chunk({"content": "x"}), _chunk(finish="stop"))
    assert [type(e).__name__ for e in decode_all(body)] == [
        "StreamStart", "PartStart", "TextDelta", "PartStop", "StreamEnd",
    ]  # fmt: skip


def test_azure_prompt_filter_chunk_and_comments_and_crlf() -> None:
    azure_first = {
        "id": "",
        "object": "",
        "created": 0,
        "model": "",
        "choices": [],
        "prompt_filter_results": [{"prompt_index": 0}],
    }
    body = b": keep-alive\r\n\r\n" + _sse(
        azure_first,
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"content": "Hi"}, content_filter_results={}),
        _chunk({}, content_filter_offsets={"check_offset": 0}),
        _chunk(finish="content_filter"),
        sep=b"\r\n\r\n",
    )
    assert decode_all(body) == [
        ir.StreamStart(id="s1", model="m", created=9),
        ir.PartStart(index=0, part=ir.TextPart(text="")),
        ir.TextDelta(index=0, text="Hi"),
        ir.PartStop(index=0),
        ir.StreamEnd(stop_reason="content_filter"),
    ]


def test_parallel_tool_calls_and_gemini_signatures_and_missing_ids() -> None:
    body = _sse(
        _chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "a",
                        "type": "function",
                        "function": {"name": "f", "arguments": ""},
                        "extra_content": {"google": {"thought_signature": "sig"}},
                    }
                ]
            }
        ),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
        _chunk({"tool_calls": [{"index": 1, "function": {"name": "g", "arguments": '{"x":1}'}}]}),
        _chunk(finish="stop"),
    )
    assert decode_all(body) == [
        ir.StreamStart(id="s1", model="m", created=9),
        ir.PartStart(index=0, part=ir.ToolCallPart(id="a", name="f", arguments="", signature="sig")),
        ir.ToolArgsDelta(index=0, fragment="{}"),
        ir.PartStop(index=0),
        ir.PartStart(index=1, part=ir.ToolCallPart(id="call_1", name="g", arguments="")),
        ir.ToolArgsDelta(index=1, fragment='{"x":1}'),
        ir.PartStop(index=1),
        ir.StreamEnd(stop_reason="tool_use"),
    ]


def test_reasoning_text_reasoning_and_refusal_and_encrypted_details() -> None:
    body = _sse(
        _chunk({"reasoning_content": "r1", "content": None}),
        _chunk({"reasoning": "ignored because reasoning_content came", "reasoning_content": "r2"}),
        _chunk({"content": "t"}),
        _chunk(
            {
                "reasoning_details": [
                    {"type": "reasoning.encrypted", "data": "blob", "format": "google-gemini-v1", "index": 0}
                ]
            }
        ),
        _chunk({"reasoning_details": [{"type": "reasoning.text", "text": "more", "index": 0}]}),
        _chunk({"reasoning": "plain"}),
        _chunk({"refusal": "No."}),
        _chunk(finish="stop"),
    )
    assert decode_all(body) == [
        ir.StreamStart(id="s1", model="m", created=9),
        ir.PartStart(index=0, part=ir.ReasoningPart(origin="deepseek")),
        ir.ReasoningDelta(index=0, text="r1"),
        ir.ReasoningDelta(index=0, text="r2"),
        ir.PartStop(index=0),
        ir.PartStart(index=1, part=ir.TextPart(text="")),
        ir.TextDelta(index=1, text="t"),
        ir.PartStop(index=1),
        ir.PartStart(index=2, part=ir.ReasoningPart(redacted="blob", origin="gemini")),
        ir.ReasoningDelta(index=2, text="more"),
        ir.PartStop(index=2),
        ir.PartStart(index=3, part=ir.ReasoningPart(origin="openrouter")),
        ir.ReasoningDelta(index=3, text="plain"),
        ir.PartStop(index=3),
        ir.PartStart(index=4, part=ir.TextPart(text="")),
        ir.TextDelta(index=4, text="No."),
        ir.PartStop(index=4),
        ir.StreamEnd(stop_reason="refusal"),
    ]


def test_mid_stream_errors_end_the_stream() -> None:
    openrouter = _sse(
        _chunk({"content": "Hel"}),
        {**_chunk(finish="error"), "error": {"code": 502, "message": "Provider disconnected"}},
        _chunk({"content": "lo"}),
    )
    events = decode_all(openrouter)
    assert events[-1] == ir.StreamError(
        kind="upstream_error", message="the provider answered 502: Provider disconnected", status=502
    )
    assert [type(e).__name__ for e in events] == ["StreamStart", "PartStart", "TextDelta", "StreamError"]
    openai_style = _sse({"error": {"message": "Rate limited", "type": "rate_limit_error", "code": None}})
    assert decode_all(openai_style) == [
        ir.StreamError(kind="rate_limit_error", message="the provider answered 429: Rate limited", status=429)
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"data: {oops\n\n", "the provider's stream is not a chat completion stream: unexpected character"),
        (
            b"data: [1]\n\n",
            "the provider's stream is not a chat completion stream: a chunk is not a JSON object",
        ),
        (
            _sse({"choices": ["x"]}),
            "the provider's stream is not a chat completion stream: `choices[0]` must be an object",
        ),
        (
            _sse(_chunk({"content": 5})),
            "the provider's stream is not a chat completion stream: a text delta must be a string",
        ),
        (
            _sse(
                _chunk(
                    {"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": "{"}}]}
                ),
                _chunk(
                    {"tool_calls": [{"index": 1, "id": "b", "function": {"name": "g", "arguments": "{}"}}]}
                ),
                _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]}),
            ),
            "the provider's stream is not a chat completion stream: "
            "tool call 0 sent arguments after another part",
        ),
    ],
)
def test_garbage_in_a_stream_is_a_protocol_error_not_a_crash(body: bytes, message: str) -> None:
    events = decode_all(body)
    last = events[-1]
    assert isinstance(last, ir.StreamError) and last.kind == "upstream_protocol_error"
    assert last.message.startswith(message)
    assert sum(isinstance(e, ir.StreamError) for e in events) == 1


def test_done_alone_and_events_after_done_and_late_feeds() -> None:
    decoder = openai_chat.StreamDecoder()
    assert decoder.feed(b"data: [DONE]\n\ndata: " + orjson.dumps(_chunk({"content": "x"})) + b"\n\n") == [
        ir.StreamStart(id="", model=""),
        ir.StreamEnd(stop_reason="end_turn"),
    ]
    assert decoder.feed(b"data: [DONE]\n\n") == []
    assert decoder.close() == []


def test_finish_without_done_is_truncated_and_unterminated_done_line_counts_not() -> None:
    events = decode_all(_sse(_chunk({"content": "x"}), _chunk(finish="stop"), done=False) + b"data: [DONE]")
    assert events[-1] == ir.StreamError(
        kind="stream_truncated", message="the provider's stream ended before `data: [DONE]`"
    )


def test_text_sharing_a_chunk_with_the_finish_or_usage_is_not_lost() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    body = _sse(
        _chunk({"content": "a"}),
        _chunk({"content": "b"}, usage=usage),
        _chunk({"content": "c"}, finish="length"),
    )
    expected_usage = ir.Usage(input_tokens=3, output_tokens=2)
    assert decode_all(body) == [
        ir.StreamStart(id="s1", model="m", created=9),
        ir.PartStart(index=0, part=ir.TextPart(text="")),
        ir.TextDelta(index=0, text="a"),
        ir.TextDelta(index=0, text="b"),
        ir.UsageUpdate(usage=expected_usage),
        ir.TextDelta(index=0, text="c"),
        ir.PartStop(index=0),
        ir.StreamEnd(stop_reason="max_tokens", usage=expected_usage),
    ]
