"""The Bedrock Converse codec: recorded Bedrock traffic, botocore's own model of Converse, properties."""

from __future__ import annotations

import base64
import copy
from typing import Any

import botocore.session
import orjson
import pytest
from botocore.validate import ParamValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from modelrouter import errors, ir
from modelrouter.errors import BadRequest
from modelrouter.protocols import bedrock_converse as bc
from modelrouter.protocols.eventstream import encode_message
from tests.protocols.anthropic_support import accumulate
from tests.recorded import MISSING_REASON, cassette, cassette_paths

DIR = "models/cassettes/test_bedrock/"
CLAUDE = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
STREAMS = [
    path
    for path in cassette_paths(DIR + "*.yaml")
    if cassette(path)[0].response_headers.get("content-type") == ["application/vnd.amazon.eventstream"]
]


def one(name: str, index: int = 0) -> Any:
    return cassette(DIR + name + ".yaml")[index]


def decode_stream(body: bytes, cuts: list[int] | None = None) -> list[ir.StreamEvent]:
    decoder = bc.StreamDecoder(response_id="r")
    events: list[ir.StreamEvent] = []
    start = 0
    for cut in [*(cuts or []), len(body)]:
        events += decoder.feed(body[start:cut])
        start = cut
    return events + decoder.close()


_SHAPES: dict[str, Any] = {}


def converse_shape(stream: bool = False) -> Any:
    """Botocore's input shape of Converse (or ConverseStream): the service's own contract."""
    name = "ConverseStream" if stream else "Converse"
    if name not in _SHAPES:
        model = botocore.session.get_session().get_service_model("bedrock-runtime")
        _SHAPES[name] = model.operation_model(name).input_shape
    return _SHAPES[name]


def as_boto_params(body: dict[str, Any], model: str) -> dict[str, Any]:
    """A Converse JSON body as boto3 parameters: base64 `bytes` back to bytes, plus the modelId."""
    params = copy.deepcopy(body)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "bytes" and isinstance(value, str):
                    node[key] = base64.b64decode(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(params)
    return {"modelId": model, **params}


def assert_valid(body: bytes, model: str = CLAUDE) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(body)
    report = ParamValidator().validate(as_boto_params(data, model), converse_shape())
    assert not report.has_errors(), report.generate_report()
    return data


# --- recorded answers ----------------------------------------------------------------------------


def test_plain_answer_with_usage() -> None:
    response = bc.decode_response(one("test_bedrock_model_anthropic_model_without_tools").response_body)
    [text] = response.content
    assert isinstance(text, ir.TextPart) and text.text.startswith("The capital of France is **Paris**")
    assert (response.stop_reason, response.usage.input_tokens, response.usage.output_tokens) == (
        "end_turn",
        21,
        69,
    )
    assert response.id.startswith("msg_bdrk_")


def test_tool_use_answer_and_the_recorded_follow_up_request() -> None:
    first = bc.decode_response(one("test_bedrock_model_retry").response_body)
    assert first.stop_reason == "tool_use"
    _, call = first.content
    assert isinstance(call, ir.ToolCallPart) and (call.id, call.name) == (
        "tooluse_Ze_bgl9CSqu8aJv7XD-_Dw",
        "get_capital",
    )
    recorded = one("test_bedrock_model_retry", 1).request_json
    result_block = recorded["messages"][2]["content"][0]["toolResult"]
    result_text = result_block["content"][0]["text"]
    request = ir.Request(
        model="nova",
        system=[ir.TextPart(text="You are a helpful chatbot.")],
        messages=[
            ir.Message(role="user", content=[ir.TextPart(text="What is the capital of France?")]),
            ir.Message(role="assistant", content=first.content),
            ir.Message(
                role="user",
                content=[
                    ir.ToolResultPart(
                        tool_call_id=call.id,
                        content=[ir.TextPart(text=result_text)],
                        is_error=result_block.get("status") == "error",
                    )
                ],
            ),
        ],
        tools=[
            ir.ToolSpec(
                name="get_capital",
                description="Get the capital of a country.",
                parameters=recorded["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"],
            )
        ],
        tool_choice=ir.ToolChoice(mode="auto"),
        temperature=0.0,
    )
    ours = assert_valid(
        bc.encode_request(request, model="us.amazon.nova-micro-v1:0"), "us.amazon.nova-micro-v1:0"
    )
    for key in ("messages", "system", "inferenceConfig", "toolConfig"):
        assert ours[key] == recorded[key], key


def test_thinking_answer_goes_back_with_its_signature() -> None:
    first = bc.decode_response(one("test_bedrock_model_thinking_part_anthropic_legacy").response_body)
    reasoning = first.content[0]
    assert isinstance(reasoning, ir.ReasoningPart) and reasoning.origin == "bedrock" and reasoning.signature
    recorded = one("test_bedrock_model_thinking_part_anthropic_legacy", 1).request_json
    request = ir.Request(
        model="claude",
        messages=[
            ir.Message(role="user", content=[ir.TextPart(text="How do I cross the street?")]),
            ir.Message(role="assistant", content=first.content),
            *[
                ir.Message(
                    role=m["role"], content=[ir.TextPart(text=b["text"]) for b in m["content"] if "text" in b]
                )
                for m in recorded["messages"][2:]
            ],
        ],
        reasoning=ir.ReasoningConfig(enabled=True, budget_tokens=10000),
    )
    ours = assert_valid(bc.encode_request(request, model=CLAUDE))
    # The cassette's stored answer spells one em dash "--" while its recorded follow-up has "\u2014".
    assert (
        orjson.loads(orjson.dumps(ours["messages"]).replace(b"--", "\u2014".encode())) == recorded["messages"]
    )
    assert ours["additionalModelRequestFields"] == recorded["additionalModelRequestFields"]


def test_recorded_thinking_stream() -> None:
    events = decode_stream(one("test_bedrock_model_thinking_part_stream").response_body)
    answer = accumulate(events)
    reasoning, text = answer.content
    assert isinstance(reasoning, ir.ReasoningPart) and reasoning.text and reasoning.signature
    assert isinstance(text, ir.TextPart) and text.text
    assert isinstance(events[-1], ir.StreamEnd) and events[-1].usage is not None
    assert answer.usage.output_tokens > 0


@pytest.mark.parametrize("path", STREAMS or [pytest.param("", marks=pytest.mark.skip(reason=MISSING_REASON))])
def test_every_two_piece_split_of_every_recorded_stream(path: str) -> None:
    body = cassette(path)[0].response_body
    whole = decode_stream(body)
    assert isinstance(whole[0], ir.StreamStart) and isinstance(whole[-1], ir.StreamEnd)
    for cut in range(1, len(body)):
        assert decode_stream(body, [cut]) == whole


def test_a_cut_stream_is_truncated_and_exceptions_are_errors() -> None:
    body = one("test_bedrock_model_stream").response_body
    assert isinstance(decode_stream(body[: len(body) // 2])[-1], ir.StreamError)
    throttled = encode_message(
        {
            ":message-type": "exception",
            ":exception-type": "throttlingException",
            ":content-type": "application/json",
        },
        b'{"message":"Too many requests"}',
    )
    [error] = decode_stream(throttled)
    assert error == ir.StreamError(
        kind="throttlingException", message="Bedrock throttlingException: Too many requests", status=429
    )


def test_recorded_error() -> None:
    recorded = one("test_bedrock_error")
    headers = {k: v[0] for k, v in recorded.response_headers.items()}
    error = bc.decode_error(recorded.status, recorded.response_body, headers)
    assert isinstance(error, errors.UpstreamBadRequest) and "model identifier is invalid" in error.message


# --- requests ------------------------------------------------------------------------------------


def full_request() -> ir.Request:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n0000").decode()
    return ir.Request(
        model="claude",
        system=[ir.TextPart(text="be brief", cache_control=ir.CacheControl())],
        messages=[
            ir.Message(role="user", content=[ir.TextPart(text="look"), ir.ImagePart(data=png)]),
            ir.Message(
                role="user",
                content=[
                    ir.DocumentPart(data="JVBERi0=", media_type="application/pdf", filename="my_report.pdf")
                ],
            ),
            ir.Message(
                role="assistant",
                content=[
                    ir.ReasoningPart(text="hmm", signature="sig", origin="bedrock"),
                    ir.ReasoningPart(text="foreign", signature="x", origin="anthropic"),
                    ir.ToolCallPart(id="call.1", name="f", arguments='{"a": 1}'),
                ],
            ),
            ir.Message(
                role="user",
                content=[
                    ir.ToolResultPart(tool_call_id="call.1", content=[ir.TextPart(text="bad")], is_error=True)
                ],
            ),
        ],
        tools=[
            ir.ToolSpec(
                name="f",
                description="F",
                parameters={"type": "object", "properties": {"a": {"type": "integer"}}},
            )
        ],
        tool_choice=ir.ToolChoice(mode="tool", name="f"),
        response_format=ir.ResponseFormat(type="json_schema", schema={"type": "object"}, name="out"),
        max_tokens=100,
        temperature=1.0,
        top_p=0.9,
        top_k=40,
        stop=["END"],
        reasoning=ir.ReasoningConfig(enabled=True, budget_tokens=2048),
    )


def test_every_feature_lands_in_its_converse_field_and_botocore_accepts_it() -> None:
    body = assert_valid(bc.encode_request(full_request(), model=CLAUDE))
    assert body["system"] == [{"text": "be brief"}, {"cachePoint": {"type": "default"}}]
    first, assistant, results = body["messages"]
    image = full_request().messages[0].content[1]
    assert isinstance(image, ir.ImagePart)
    assert first["content"][1] == {"image": {"format": "png", "source": {"bytes": image.data}}}
    assert first["content"][2] == {
        "document": {"format": "pdf", "name": "my report pdf", "source": {"bytes": "JVBERi0="}}
    }
    assert assistant["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig"}}},
        {"toolUse": {"toolUseId": "call_1", "name": "f", "input": {"a": 1}}},
    ]
    assert results["content"] == [
        {"toolResult": {"toolUseId": "call_1", "content": [{"text": "bad"}], "status": "error"}}
    ]
    assert body["inferenceConfig"] == {
        "maxTokens": 100,
        "temperature": 1.0,
        "topP": 0.9,
        "stopSequences": ["END"],
    }
    assert body["toolConfig"]["toolChoice"] == {"tool": {"name": "f"}}
    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "top_k": 40,
    }
    structure = body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
    assert orjson.loads(structure["schema"]) == {"type": "object"} and structure["name"] == "out"


def test_claude_only_fields_stay_away_from_other_models() -> None:
    body = assert_valid(
        bc.encode_request(full_request(), model="eu.amazon.nova-pro-v1:0"), "eu.amazon.nova-pro-v1:0"
    )
    assert "additionalModelRequestFields" not in body


def test_tool_choice_none() -> None:
    request = ir.Request(
        model="m",
        messages=[ir.Message(role="user", content=[ir.TextPart(text="x")])],
        tools=[ir.ToolSpec(name="f")],
        tool_choice=ir.ToolChoice(mode="none"),
    )
    assert "toolConfig" not in orjson.loads(bc.encode_request(request, model=CLAUDE))
    request.messages = full_request().messages
    assert (
        assert_valid(bc.encode_request(request, model=CLAUDE))["toolConfig"]["tools"][0]["toolSpec"]["name"]
        == "f"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"messages": [ir.Message(role="user", content=[ir.ImagePart(url="https://x/y.png")])]},
            "inline data or s3",
        ),
        (
            {
                "messages": [
                    ir.Message(role="user", content=[ir.ImagePart(data="AAAA", media_type="image/tiff")])
                ]
            },
            "PNG, JPEG",
        ),
        (
            {"messages": [ir.Message(role="assistant", content=[ir.TextPart(text="hi")])]},
            "start with a user turn",
        ),
        ({"messages": []}, "no message content"),
        ({"tool_choice": ir.ToolChoice(mode="tool", name="zz")}, "not among the tools"),
    ],
)
def test_what_bedrock_cannot_take_is_refused(change: dict[str, Any], message: str) -> None:
    request = full_request()
    for key, value in change.items():
        setattr(request, key, value)
    with pytest.raises(BadRequest, match=message):
        bc.encode_request(request, model=CLAUDE)


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "message", "cls"),
    [
        (
            429,
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "slow down",
            errors.UpstreamRateLimited,
        ),
        (503, "ServiceUnavailableException", "busy", errors.UpstreamOverloaded),
        (429, "ModelNotReadyException", "warming", errors.UpstreamOverloaded),
        (500, "InternalServerException", "oops", errors.UpstreamServerError),
        (424, "ModelErrorException", "model failed", errors.UpstreamServerError),
        (408, "ModelTimeoutException", "slow", errors.UpstreamTimeout),
        (403, "AccessDeniedException", "no", errors.UpstreamAuthError),
        (403, "UnrecognizedClientException", "bad key", errors.UpstreamAuthError),
        (400, "ValidationException", "Input is too long for requested model.", errors.ContextLengthExceeded),
        (400, "ValidationException", "bad field", errors.UpstreamBadRequest),
    ],
)
def test_errors_are_classified(status: int, code: str, message: str, cls: type[errors.UpstreamError]) -> None:
    error = bc.decode_error(status, orjson.dumps({"message": message}), {"x-amzn-ErrorType": code})
    assert type(error) is cls and message in error.message and error.upstream_status == status


# --- round trips -----------------------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20).filter(
    str.strip  # blank text is dropped on the way back (a documented rule), so the round trip needs some
)


@st.composite
def answers(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Converse content blocks as Bedrock sends them."""
    blocks: list[dict[str, Any]] = []
    if draw(st.booleans()):
        blocks.append(
            {"reasoningContent": {"reasoningText": {"text": draw(_text), "signature": draw(_text)}}}
        )
    if draw(st.booleans()):
        blocks.append({"text": draw(_text)})
    for number in range(draw(st.integers(0, 2))):
        args = draw(
            st.dictionaries(st.text("abc", min_size=1, max_size=2), st.integers(-1000, 1000), max_size=2)
        )
        blocks.append({"toolUse": {"toolUseId": f"tooluse_{number}", "name": f"f{number}", "input": args}})
    return blocks or [{"text": "x"}]


def _stream(blocks: list[dict[str, Any]], stop: str) -> bytes:
    def event(name: str, body: dict[str, Any]) -> bytes:
        headers = {":event-type": name, ":content-type": "application/json", ":message-type": "event"}
        return encode_message(headers, orjson.dumps(body))

    out = [event("messageStart", {"role": "assistant"})]
    for i, block in enumerate(blocks):
        if "text" in block:
            text = block["text"]
            out += [
                event("contentBlockDelta", {"contentBlockIndex": i, "delta": {"text": piece}})
                for piece in (text[:1], text[1:])
                if piece
            ]
        elif "toolUse" in block:
            use = block["toolUse"]
            out.append(
                event(
                    "contentBlockStart",
                    {
                        "contentBlockIndex": i,
                        "start": {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}},
                    },
                )
            )
            out.append(
                event(
                    "contentBlockDelta",
                    {
                        "contentBlockIndex": i,
                        "delta": {"toolUse": {"input": orjson.dumps(use["input"]).decode()}},
                    },
                )
            )
        else:
            reasoning = block["reasoningContent"]["reasoningText"]
            out.append(
                event(
                    "contentBlockDelta",
                    {"contentBlockIndex": i, "delta": {"reasoningContent": {"text": reasoning["text"]}}},
                )
            )
            out.append(
                event(
                    "contentBlockDelta",
                    {
                        "contentBlockIndex": i,
                        "delta": {"reasoningContent": {"signature": reasoning["signature"]}},
                    },
                )
            )
        out.append(event("contentBlockStop", {"contentBlockIndex": i}))
    out.append(event("messageStop", {"stopReason": stop}))
    usage = {"inputTokens": 3, "outputTokens": 4, "totalTokens": 9, "cacheReadInputTokens": 2}
    out.append(event("metadata", {"usage": usage, "metrics": {"latencyMs": 1}}))
    return b"".join(out)


@settings(max_examples=80, deadline=None)
@given(blocks=answers(), data=st.data())
def test_whole_and_streamed_answers_decode_to_the_same_ir_and_encode_back(
    blocks: list[dict[str, Any]], data: st.DataObject
) -> None:
    stop = "tool_use" if any("toolUse" in b for b in blocks) else "end_turn"
    usage = {"inputTokens": 3, "outputTokens": 4, "totalTokens": 9, "cacheReadInputTokens": 2}
    whole = bc.decode_response(
        orjson.dumps(
            {
                "output": {"message": {"role": "assistant", "content": blocks}},
                "stopReason": stop,
                "usage": usage,
            }
        ),
        response_id="r",
    )
    body = _stream(blocks, stop)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(body) - 1), max_size=6)))
    streamed = accumulate(decode_stream(body, cuts))
    assert (streamed.id, streamed.content, streamed.stop_reason, streamed.usage) == (
        whole.id,
        whole.content,
        whole.stop_reason,
        whole.usage,
    )
    assert whole.usage == ir.Usage(input_tokens=5, output_tokens=4, cache_read_tokens=2)
    again = ir.Request(
        model="m",
        messages=[
            ir.Message(role="user", content=[ir.TextPart(text="q")]),
            ir.Message(role="assistant", content=whole.content),
        ],
    )
    assert assert_valid(bc.encode_request(again, model=CLAUDE))["messages"][1]["content"] == blocks
