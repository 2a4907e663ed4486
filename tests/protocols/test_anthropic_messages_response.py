"""Anthropic non-streamed answers both ways, and error bodies both ways."""

from __future__ import annotations

from typing import Any

import anthropic
import orjson
import pytest
from anthropic.types import Message

from modelrouter import errors, ir
from modelrouter.protocols import anthropic_messages as am
from tests.protocols.anthropic_support import sdk_client, sdk_message

A = "anthropic"


def message(**fields: Any) -> bytes:
    base: dict[str, Any] = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 2},
    }
    return orjson.dumps(base | fields)


# --- decode_response ----------------------------------------------------------------------


def test_usage_adds_cache_back_and_reads_the_new_breakdowns() -> None:
    usage = {
        "input_tokens": 10,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 1000,
        "cache_creation": {"ephemeral_5m_input_tokens": 40, "ephemeral_1h_input_tokens": 60},
        "output_tokens": 30,
        "output_tokens_details": {"thinking_tokens": 12},
        "service_tier": "standard",
    }
    assert am.decode_response(message(usage=usage)).usage == ir.Usage(
        input_tokens=1110,
        output_tokens=30,
        cache_read_tokens=1000,
        cache_write_tokens=100,
        cache_write_1h_tokens=60,
        reasoning_tokens=12,
    )
    nulls = {
        "input_tokens": 5,
        "output_tokens": 1,
        "cache_creation_input_tokens": None,
        "cache_creation": None,
    }
    assert am.decode_response(message(usage=nulls)).usage == ir.Usage(input_tokens=5, output_tokens=1)


def test_server_tool_blocks_are_skipped_and_citations_dropped() -> None:
    content = [
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
        {"type": "text", "text": "cited", "citations": [{"type": "char_location", "cited_text": "c"}]},
        {"type": "redacted_thinking", "data": "blob"},
        {"type": "thinking", "thinking": "", "signature": "sig-only"},
    ]
    assert am.decode_response(message(content=content)).content == [
        ir.TextPart(text="cited"),
        ir.ReasoningPart(redacted="blob", origin=A),
        ir.ReasoningPart(text="", signature="sig-only", origin=A),
    ]


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("max_tokens", "max_tokens"),
        ("pause_turn", "pause_turn"),
        ("model_context_window_exceeded", "context_window_exceeded"),
        (None, "other"),
        ("novel", "other"),
    ],
)
def test_stop_reasons(wire: str | None, expected: str) -> None:
    assert am.decode_response(message(stop_reason=wire)).stop_reason == expected


def test_refusal_keeps_its_details_and_encodes_them_back() -> None:
    details = {"type": "refusal", "category": "cyber", "explanation": None}
    decoded = am.decode_response(message(stop_reason="refusal", stop_details=details))
    assert (decoded.stop_reason, decoded.extra) == ("refusal", {"stop_details": details})
    assert orjson.loads(am.encode_response(decoded))["stop_details"] == details


@pytest.mark.parametrize(
    "body",
    [
        b"<html>oops</html>",
        b"[]",
        b'{"type":"error","error":{"type":"api_error","message":"x"}}',
        message(id=None),
        message(content=None),
        message(content=[{"type": "text", "text": 5}]),
        message(content=[{"type": "tool_use", "name": "f", "input": {}}]),
    ],
)
def test_bodies_that_are_not_messages_are_protocol_errors(body: bytes) -> None:
    with pytest.raises(
        errors.UpstreamProtocolError, match="Anthropic answered something that is not a Message"
    ):
        am.decode_response(body)


# --- encode_response ----------------------------------------------------------------------

RESPONSE = ir.Response(
    id="msg_gw",
    model="claude-sonnet-4.5",
    content=[
        ir.ReasoningPart(text="thinking...", signature="c2ln", origin=A),
        ir.ReasoningPart(redacted="blob", origin=A),
        ir.TextPart(text="Here \u00e9", cache_control=ir.CacheControl()),
        ir.ToolCallPart(id="toolu_1", name="f", arguments='{"a":[1,{"b":null}]}'),
        ir.ToolCallPart(id="toolu_2", name="g", arguments=""),
    ],
    stop_reason="tool_use",
    usage=ir.Usage(
        input_tokens=1110,
        output_tokens=30,
        cache_read_tokens=1000,
        cache_write_tokens=100,
        cache_write_1h_tokens=60,
        reasoning_tokens=12,
    ),
)


def test_encoded_answer_is_a_valid_sdk_message_and_decodes_back() -> None:
    wire = am.encode_response(RESPONSE)
    assert orjson.loads(wire) == {
        "id": "msg_gw",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4.5",
        "content": [
            {"type": "thinking", "thinking": "thinking...", "signature": "c2ln"},
            {"type": "redacted_thinking", "data": "blob"},
            {"type": "text", "text": "Here \u00e9"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": [1, {"b": None}]}},
            {"type": "tool_use", "id": "toolu_2", "name": "g", "input": {}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "cache_creation_input_tokens": 100,
            "cache_read_input_tokens": 1000,
            "cache_creation": {"ephemeral_5m_input_tokens": 40, "ephemeral_1h_input_tokens": 60},
            "output_tokens": 30,
            "output_tokens_details": {"thinking_tokens": 12},
        },
    }
    Message.model_validate_json(wire, strict=True)
    through_sdk = sdk_message(wire)
    assert through_sdk.usage.output_tokens_details is not None
    assert through_sdk.usage.output_tokens_details.thinking_tokens == 12
    expected = ir.Response(
        id=RESPONSE.id,
        model=RESPONSE.model,
        content=[
            *RESPONSE.content[:2],
            ir.TextPart(text="Here \u00e9"),
            RESPONSE.content[3],
            ir.ToolCallPart(id="toolu_2", name="g", arguments="{}"),
        ],
        stop_reason="tool_use",
        usage=RESPONSE.usage,
    )
    assert am.decode_response(through_sdk.to_json().encode()) == expected


@pytest.mark.parametrize(
    ("stop", "wire"),
    [
        ("content_filter", "refusal"),
        ("error", "end_turn"),
        ("other", "end_turn"),
        ("context_window_exceeded", "model_context_window_exceeded"),
    ],
)
def test_stop_reasons_toward_clients(stop: ir.StopReason, wire: str) -> None:
    response = ir.Response(id="r", model="m", stop_reason=stop)
    assert orjson.loads(am.encode_response(response))["stop_reason"] == wire


def test_foreign_reasoning_shows_its_text_only() -> None:
    response = ir.Response(
        id="chatcmpl-1",
        model="deepseek-reasoner",
        content=[
            ir.ReasoningPart(text="because", signature="openai-enc", origin="openai"),
            ir.ReasoningPart(redacted="blob", origin="bedrock"),
            ir.ReasoningPart(text="", origin="gemini"),
            ir.TextPart(text="answer"),
            ir.ToolResultPart(tool_call_id="x"),
        ],
    )
    assert orjson.loads(am.encode_response(response))["content"] == [
        {"type": "thinking", "thinking": "because", "signature": ""},
        {"type": "text", "text": "answer"},
    ]


@pytest.mark.parametrize("arguments", ["{oops", "[1, 2]", '"text"'])
def test_a_model_call_with_non_object_arguments_cannot_be_sent_to_an_anthropic_client(arguments: str) -> None:
    response = ir.Response(
        id="r", model="m", content=[ir.ToolCallPart(id="t", name="f", arguments=arguments)]
    )
    with pytest.raises(errors.UpstreamProtocolError, match="tool call t has arguments that are not"):
        am.encode_response(response)


# --- decode_error -------------------------------------------------------------------------


def anthropic_error(kind: str, text: str) -> bytes:
    return orjson.dumps({"type": "error", "error": {"type": kind, "message": text}, "request_id": "req_1"})


@pytest.mark.parametrize(
    ("status", "body", "headers", "cls", "retry_after"),
    [
        (
            429,
            anthropic_error("rate_limit_error", "slow down"),
            {"Retry-After": "12"},
            errors.UpstreamRateLimited,
            12.0,
        ),
        (
            429,
            anthropic_error("rate_limit_error", "x"),
            {"retry-after-ms": "1500", "retry-after": "2"},
            errors.UpstreamRateLimited,
            1.5,
        ),
        (
            429,
            anthropic_error("rate_limit_error", "x"),
            {"retry-after": "soon"},
            errors.UpstreamRateLimited,
            None,
        ),
        (529, anthropic_error("overloaded_error", "Overloaded"), {}, errors.UpstreamOverloaded, None),
        (503, b"upstream connect error", {}, errors.UpstreamOverloaded, None),
        (500, anthropic_error("api_error", "Internal"), {}, errors.UpstreamServerError, None),
        (504, anthropic_error("timeout_error", "t"), {}, errors.UpstreamServerError, None),
        (409, anthropic_error("conflict_error", "c"), {}, errors.UpstreamServerError, None),
        (408, b"", {}, errors.UpstreamTimeout, None),
        (
            401,
            anthropic_error("authentication_error", "invalid x-api-key"),
            {},
            errors.UpstreamAuthError,
            None,
        ),
        (402, anthropic_error("billing_error", "credit balance too low"), {}, errors.UpstreamAuthError, None),
        (403, anthropic_error("permission_error", "no"), {}, errors.UpstreamAuthError, None),
        (
            400,
            anthropic_error("invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum"),
            {},
            errors.ContextLengthExceeded,
            None,
        ),
        (
            400,
            anthropic_error(
                "invalid_request_error", "input length and `max_tokens` exceed context limit: 1 + 2 > 3"
            ),
            {},
            errors.ContextLengthExceeded,
            None,
        ),
        (
            400,
            anthropic_error("invalid_request_error", "Output blocked by content filtering policy"),
            {},
            errors.ContentFiltered,
            None,
        ),
        (
            400,
            anthropic_error("invalid_request_error", "messages: text content blocks must be non-empty"),
            {},
            errors.UpstreamBadRequest,
            None,
        ),
        (404, anthropic_error("not_found_error", "model: claude-9"), {}, errors.UpstreamBadRequest, None),
        (413, b"<html>Request Entity Too Large</html>", {}, errors.UpstreamBadRequest, None),
        (
            429,
            b'[{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}]',
            {},
            errors.UpstreamRateLimited,
            None,
        ),
        (
            400,
            b'{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}',
            {},
            errors.UpstreamBadRequest,
            None,
        ),
    ],
)
def test_decode_error(
    status: int,
    body: bytes,
    headers: dict[str, str],
    cls: type[errors.UpstreamError],
    retry_after: float | None,
) -> None:
    error = am.decode_error(status, body, headers)
    assert type(error) is cls
    assert (error.upstream_status, error.retry_after) == (status, retry_after)


def test_decode_error_messages() -> None:
    assert am.decode_error(529, anthropic_error("overloaded_error", "Overloaded"), {}).message == (
        "Anthropic answered 529 overloaded_error: Overloaded"
    )
    assert (
        am.decode_error(502, b"<html>Bad Gateway</html>\n", {}).message
        == "Anthropic answered 502: <html>Bad Gateway</html>"
    )
    assert am.decode_error(500, b"", {}).message == "Anthropic answered 500: (empty body)"
    vertex = b'{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}'
    assert (
        am.decode_error(429, vertex, {}).message
        == "Anthropic answered 429 RESOURCE_EXHAUSTED: Quota exceeded"
    )
    assert am.decode_error(400, b'{"detail": "x"}', {}).message == "Anthropic answered 400: {'detail': 'x'}"


# --- encode_error -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "wire_type", "sdk_error"),
    [
        (400, "invalid_request_error", "invalid_request_error", anthropic.BadRequestError),
        (400, "context_length_exceeded", "invalid_request_error", anthropic.BadRequestError),
        (401, "authentication_error", "authentication_error", anthropic.AuthenticationError),
        (403, "permission_error", "permission_error", anthropic.PermissionDeniedError),
        (404, "not_found_error", "not_found_error", anthropic.NotFoundError),
        (410, "model_retired", "not_found_error", anthropic.APIStatusError),
        (413, "request_too_large", "request_too_large", anthropic.APIStatusError),
        (422, "no_offering_meets_policy", "invalid_request_error", anthropic.UnprocessableEntityError),
        (429, "rate_limit_error", "rate_limit_error", anthropic.RateLimitError),
        (502, "all_attempts_failed", "api_error", anthropic.InternalServerError),
        (503, "all_attempts_failed", "api_error", anthropic.InternalServerError),
        (503, "overloaded_error", "overloaded_error", anthropic.InternalServerError),
        (504, "timeout_error", "timeout_error", anthropic.InternalServerError),
        (418, "teapot", "invalid_request_error", anthropic.APIStatusError),
    ],
)
def test_encode_error_is_what_the_sdk_raises_on(
    status: int, kind: str, wire_type: str, sdk_error: type[anthropic.APIStatusError]
) -> None:
    wire = am.encode_error(status, kind, "what happened and how to fix it")
    assert orjson.loads(wire) == {
        "type": "error",
        "error": {"type": wire_type, "message": "what happened and how to fix it"},
    }
    with sdk_client(status=status, content_type="application/json") as (client, box):
        box[0] = wire
        with pytest.raises(sdk_error) as caught:
            client.messages.create(model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == status
    assert caught.value.body == orjson.loads(wire)
