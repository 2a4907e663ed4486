"""Garbage in: the codec raises only its declared errors, never a crash (reliability plan, B11)."""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelrouter import errors, ir
from modelrouter.errors import BadRequest
from modelrouter.protocols import openai_chat
from tests.protocols.openai_chat_helpers import decode_all

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

REQUEST_KEYS = [
    "model", "messages", "tools", "tool_choice", "parallel_tool_calls", "response_format", "max_tokens",
    "max_completion_tokens", "temperature", "top_p", "top_k", "stop", "seed", "reasoning_effort", "reasoning",
    "stream", "stream_options", "user", "n", "logprobs", "modalities", "audio", "functions",
]  # fmt: skip
MESSAGE_KEYS = [
    "role", "content", "tool_calls", "tool_call_id", "name", "refusal", "reasoning_content", "reasoning",
    "reasoning_details", "function_call", "type", "text", "image_url", "url", "file", "file_data", "file_id",
    "function", "arguments", "id", "index", "detail", "signature", "data", "format", "cache_control",
    "extra_content", "google", "thought_signature", "json_schema", "schema", "parameters", "include_usage",
]  # fmt: skip
ROLES = ["system", "developer", "user", "assistant", "tool", "function", "robot"]
TYPES = [
    "text",
    "image_url",
    "file",
    "input_audio",
    "function",
    "custom",
    "refusal",
    "reasoning.text",
    "json_schema",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(
        ROLES + TYPES + ["data:image/png;base64,AAAA", "https://x.test/a", "call_1__thought__YQ"]
    ),
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(MESSAGE_KEYS), inner, max_size=5)
    ),
    max_leaves=25,
)
requests = st.dictionaries(st.sampled_from(REQUEST_KEYS), values, max_size=8)
parts = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES)}, optional={k: values for k in MESSAGE_KEYS if k not in ("type", "role")}
)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(ROLES)},
        optional={
            "content": st.one_of(st.text(max_size=5), st.none(), st.lists(parts, max_size=3), values),
            "tool_calls": st.lists(
                st.fixed_dictionaries(
                    {
                        "id": st.text(max_size=5) | values,
                        "function": st.dictionaries(st.sampled_from(["name", "arguments"]), values),
                    },
                    optional={"type": values, "extra_content": values},
                ),
                max_size=2,
            ),
            "tool_call_id": st.sampled_from(["a", "call_1__thought__YQ", "x__thought__"]) | values,
            "reasoning_details": st.lists(parts, max_size=2) | values,
            "reasoning_content": values,
            "name": values,
        },
    ),
    min_size=1,
    max_size=5,
)


def _decodes_or_refuses(body: dict[str, Any]) -> None:
    try:
        request = openai_chat.decode_request(orjson.dumps(body))
    except BadRequest:
        return
    assert isinstance(request, ir.Request)
    with contextlib.suppress(BadRequest):  # what decodes also encodes, or is refused as inexpressible
        openai_chat.encode_request(request, model="x")


@FUZZ
@given(body=requests, model=st.sampled_from([None, "m"]))
def test_decode_request_raises_only_bad_request(body: dict[str, Any], model: str | None) -> None:
    _decodes_or_refuses(body if model is None else {**body, "model": model})


@FUZZ
@given(body=requests, turns=messages)
def test_decode_request_with_message_shaped_garbage(body: dict[str, Any], turns: list[Any]) -> None:
    _decodes_or_refuses({**body, "model": "m", "messages": turns})


@FUZZ
@given(raw=st.binary(max_size=200))
def test_decode_request_on_raw_bytes(raw: bytes) -> None:
    with contextlib.suppress(BadRequest):
        openai_chat.decode_request(raw)


CHUNK_KEYS = [
    "choices",
    "delta",
    "content",
    "tool_calls",
    "index",
    "id",
    "function",
    "arguments",
    "name",
    "finish_reason",
    "usage",
    "error",
    "reasoning_content",
    "reasoning",
    "reasoning_details",
    "refusal",
    "type",
    "text",
    "prompt_tokens",
    "code",
    "message",
]
chunk_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(CHUNK_KEYS), inner, max_size=5)
    ),
    max_leaves=20,
)


@FUZZ
@given(chunks=st.lists(chunk_values, max_size=6), done=st.booleans(), junk=st.binary(max_size=30))
def test_stream_decoder_never_crashes_and_always_ends(chunks: list[Any], done: bool, junk: bytes) -> None:
    body = b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks) + junk
    if done:
        body += b"\n\ndata: [DONE]\n\n"
    events = decode_all(body)
    endings = [e for e in events if isinstance(e, ir.StreamEnd | ir.StreamError)]
    assert len(endings) == 1 and events[-1] is endings[0]


@FUZZ
@given(body=st.one_of(st.binary(max_size=100), chunk_values.map(orjson.dumps)))
def test_decode_response_raises_only_upstream_errors(body: bytes) -> None:
    with contextlib.suppress(errors.UpstreamError):
        openai_chat.decode_response(body)


@FUZZ
@given(
    status=st.integers(400, 599),
    body=st.one_of(st.binary(max_size=100), chunk_values.map(orjson.dumps)),
    headers=st.dictionaries(st.sampled_from(["retry-after", "Retry-After-Ms", "x"]), st.text(max_size=10)),
)
def test_decode_error_always_returns_an_upstream_error(
    status: int, body: bytes, headers: dict[str, str]
) -> None:
    error = openai_chat.decode_error(status, body, headers)
    assert isinstance(error, errors.UpstreamError)
    assert error.upstream_status == status
    assert error.retry_after is None or error.retry_after >= 0
