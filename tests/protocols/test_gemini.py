"""The Gemini codec: recorded Gemini API and Vertex traffic, the google-genai SDK's types, properties."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from google.genai import types as gtypes
from hypothesis import given, settings
from hypothesis import strategies as st

from modelrouter import errors, ir
from modelrouter.errors import BadRequest
from modelrouter.protocols import gemini
from tests.protocols.anthropic_support import accumulate
from tests.recorded import MISSING_REASON, cassette, cassette_paths

DIR = "models/cassettes/test_google/"
STREAMS = [
    (path, i)
    for path in cassette_paths(DIR + "*.yaml")
    for i, it in enumerate(cassette(path))
    if it.status == 200 and it.response_json is None
]


def one(name: str, index: int = 0) -> Any:
    return cassette(DIR + name + ".yaml")[index]


def decode_stream(body: bytes, cuts: list[int] | None = None) -> list[ir.StreamEvent]:
    decoder = gemini.StreamDecoder()
    events: list[ir.StreamEvent] = []
    start = 0
    for cut in [*(cuts or []), len(body)]:
        events += decoder.feed(body[start:cut])
        start = cut
    return events + decoder.close()


def b64_bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))


# --- recorded answers ----------------------------------------------------------------------------


def test_plain_answer_and_usage() -> None:
    response = gemini.decode_response(one("test_google_model").response_body)
    assert response.content == [ir.TextPart(text="Hello! How can I help you today?")]
    assert (response.stop_reason, response.model) == ("end_turn", "gemini-2.5-flash")
    usage = response.usage  # 9 answer tokens and 34 thinking tokens: output counts both
    assert (usage.input_tokens, usage.output_tokens, usage.reasoning_tokens) == (9, 43, 34)


def test_function_calls_get_stable_ids_and_tool_use() -> None:
    recorded = one("test_google_tool_output").response_body
    first, again = gemini.decode_response(recorded), gemini.decode_response(recorded)
    [call] = first.content
    assert isinstance(call, ir.ToolCallPart) and (call.name, call.input()) == ("get_user_country", {})
    assert call.id.startswith("call_") and call.id == again.content[0].id  # type: ignore[union-attr]
    assert first.stop_reason == "tool_use"
    second = gemini.decode_response(one("test_google_tool_output", 1).response_body)
    assert second.content[0].input() == {"city": "Mexico City", "country": "Mexico"}  # type: ignore[union-attr]
    assert second.content[0].id != call.id  # type: ignore[union-attr]


def test_thought_signature_on_a_streamed_call_is_kept_and_sent_back() -> None:
    recorded = one("test_google_streaming_tool_call_thought_signature")
    answer = accumulate(decode_stream(recorded.response_body))
    [call] = [p for p in answer.content if isinstance(p, ir.ToolCallPart)]
    assert call.name == "get_country" and call.signature and answer.stop_reason == "tool_use"
    follow_up = one("test_google_streaming_tool_call_thought_signature", 1).request_json
    request = ir.Request(
        model="gemini-3-pro-preview",
        messages=[
            ir.Message(
                role="user",
                content=[ir.TextPart(text="What is the capital of the user country? Call the tool")],
            ),
            ir.Message(role="assistant", content=answer.content),
        ],
    )
    sent = orjson.loads(gemini.encode_request(request, model="gemini-3-pro-preview"))
    [recorded_call] = follow_up["contents"][1]["parts"]
    [our_call] = sent["contents"][1]["parts"]
    assert our_call["functionCall"]["name"] == recorded_call["functionCall"]["name"]
    assert our_call["functionCall"]["args"] == recorded_call["functionCall"]["args"]
    assert b64_bytes(our_call["thoughtSignature"]) == b64_bytes(recorded_call["thoughtSignature"])


def test_a_signature_on_text_rides_after_it_and_goes_back_onto_it() -> None:
    recorded = one("test_google_vertex_service_tier_flex_stream")
    answer = accumulate(decode_stream(recorded.response_body))
    text = [p for p in answer.content if isinstance(p, ir.TextPart)]
    signatures = [p for p in answer.content if isinstance(p, ir.ReasoningPart)]
    assert "".join(t.text for t in text).startswith("OK")
    assert signatures and all(p.origin == "gemini" and p.signature and not p.text for p in signatures)
    request = ir.Request(model="m", messages=[ir.Message(role="assistant", content=answer.content)])
    parts = orjson.loads(gemini.encode_request(request, model="m"))["contents"][0]["parts"]
    assert parts[0]["text"].startswith("OK") and parts[0]["thoughtSignature"] == signatures[0].signature
    assert (
        answer.usage.reasoning_tokens == answer.usage.output_tokens - 1 or answer.usage.reasoning_tokens >= 0
    )


def test_stream_with_calls_and_text() -> None:
    events = decode_stream(one("test_google_model_iter_stream", 2).response_body)
    answer = accumulate(events)
    assert isinstance(events[0], ir.StreamStart) and isinstance(events[-1], ir.StreamEnd)
    assert answer.content[0].text.startswith("The temperature in Paris")  # type: ignore[union-attr]
    assert answer.usage.input_tokens == 169 or answer.usage.input_tokens > 0


@pytest.mark.parametrize(
    ("path", "index"), STREAMS or [pytest.param("", 0, marks=pytest.mark.skip(reason=MISSING_REASON))]
)
def test_every_two_piece_split_of_every_recorded_stream(path: str, index: int) -> None:
    body = cassette(path)[index].response_body
    whole = decode_stream(body)
    assert not [e for e in whole if isinstance(e, ir.StreamError)]
    for cut in range(1, len(body)):
        assert decode_stream(body, [cut]) == whole


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_multi_splits_of_recorded_streams(data: st.DataObject) -> None:
    if not STREAMS:
        pytest.skip(MISSING_REASON)
    path, index = data.draw(st.sampled_from(STREAMS))
    body = cassette(path)[index].response_body
    cuts = sorted(data.draw(st.sets(st.integers(1, len(body) - 1), max_size=12)))
    assert decode_stream(body, cuts) == decode_stream(body)


def test_a_stream_without_finish_reason_is_truncated_and_errors_in_band_are_errors() -> None:
    body = one("test_google_model_stream").response_body
    cut = body[: body.rindex(b"data:")]
    assert isinstance(decode_stream(cut)[-1], ir.StreamError)
    overloaded = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    error = b"data: " + orjson.dumps(overloaded) + b"\r\n\r\n"
    [event] = decode_stream(error)
    assert event == ir.StreamError(kind="overloaded_error", message="The model is overloaded.", status=503)


# --- requests ----------------------------------------------------------------------------------


def test_recorded_tool_loop_request_is_what_we_encode() -> None:
    recorded = one("test_google_tool_output", 1).request_json
    call = ir.ToolCallPart(
        id="pyd_ai_3fa5644dae1d4aad997ae39c70006fbd", name="get_user_country", arguments="{}"
    )
    result = ir.ToolResultPart(tool_call_id=call.id, content=[ir.TextPart(text="Mexico")])
    request = ir.Request(
        model="gemini-2.0-flash",
        messages=[
            ir.Message(
                role="user", content=[ir.TextPart(text="What is the largest city in the user country?")]
            ),
            ir.Message(role="assistant", content=[call]),
            ir.Message(role="user", content=[result]),
        ],
        tools=[
            ir.ToolSpec(
                name="get_user_country", description="", parameters={"properties": {}, "type": "object"}
            )
        ],
        tool_choice=ir.ToolChoice(mode="required"),
    )
    ours = orjson.loads(gemini.encode_request(request, model="gemini-2.0-flash"))
    assert [c["role"] for c in ours["contents"]] == [c["role"] for c in recorded["contents"]]
    assert ours["contents"][0] == recorded["contents"][0]
    assert (
        ours["contents"][1]["parts"][0]["functionCall"] == recorded["contents"][1]["parts"][0]["functionCall"]
    )
    ours_response = ours["contents"][2]["parts"][0]["functionResponse"]
    recorded_response = recorded["contents"][2]["parts"][0]["functionResponse"]
    assert (ours_response["id"], ours_response["name"]) == (
        recorded_response["id"],
        recorded_response["name"],
    )
    assert ours_response["response"] == {"result": "Mexico"}  # pydantic-ai wraps it as return_value
    assert (
        ours["toolConfig"]["functionCallingConfig"]["mode"]
        == recorded["toolConfig"]["functionCallingConfig"]["mode"]
    )
    assert ours["tools"][0]["functionDeclarations"][0]["name"] == "get_user_country"


def full_request() -> ir.Request:
    return ir.Request(
        model="gemini-3.1-pro",
        system=[ir.TextPart(text="be brief")],
        messages=[
            ir.Message(
                role="user",
                content=[
                    ir.TextPart(text="look"),
                    ir.ImagePart(data=base64.b64encode(b"\x89PNG\r\n\x1a\n0000").decode()),
                    ir.ImagePart(url="https://example.com/cat.jpg"),
                ],
            ),
            ir.Message(
                role="assistant",
                content=[
                    ir.ReasoningPart(text="hmm", signature="c2ln", origin="gemini"),
                    ir.ReasoningPart(text="foreign", signature="x", origin="anthropic"),
                    ir.ToolCallPart(id="c1", name="f", arguments='{"a": 1}', signature="c2lnMg=="),
                    ir.ToolCallPart(id="c2", name="g", arguments="{}"),
                ],
            ),
            ir.Message(
                role="user",
                content=[
                    ir.ToolResultPart(tool_call_id="c1", content=[ir.TextPart(text="one")]),
                    ir.ToolResultPart(tool_call_id="c2", content=[ir.TextPart(text="bad")], is_error=True),
                ],
            ),
            ir.Message(role="user", content=[ir.TextPart(text="and?")]),
        ],
        tools=[
            ir.ToolSpec(name="f", parameters={"type": "object", "properties": {"a": {"type": "integer"}}}),
            ir.ToolSpec(name="g"),
        ],
        tool_choice=ir.ToolChoice(mode="tool", name="f"),
        response_format=ir.ResponseFormat(type="json_schema", schema={"type": "object"}),
        max_tokens=100,
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        stop=["END"],
        seed=7,
        reasoning=ir.ReasoningConfig(enabled=True, effort="high", include_thoughts=True),
    )


def test_every_feature_lands_in_its_gemini_field() -> None:
    body = orjson.loads(gemini.encode_request(full_request(), model="m"))
    assert body["systemInstruction"] == {"parts": [{"text": "be brief"}]}
    user, model, results = body["contents"]
    image = full_request().messages[0].content[1]
    assert isinstance(image, ir.ImagePart)
    assert user["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": image.data}}
    assert user["parts"][2] == {
        "fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.jpg"}
    }
    assert model["role"] == "model" and model["parts"] == [
        {"text": "hmm", "thought": True, "thoughtSignature": "c2ln"},
        {"functionCall": {"id": "c1", "name": "f", "args": {"a": 1}}, "thoughtSignature": "c2lnMg=="},
        {"functionCall": {"id": "c2", "name": "g", "args": {}}},
    ]
    assert results["parts"] == [
        {"functionResponse": {"id": "c1", "name": "f", "response": {"result": "one"}}},
        {"functionResponse": {"id": "c2", "name": "g", "response": {"error": "bad"}}},
        {"text": "and?"},
    ]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}}
    assert body["generationConfig"] == {
        "maxOutputTokens": 100,
        "temperature": 0.5,
        "topP": 0.9,
        "topK": 40,
        "seed": 7,
        "stopSequences": ["END"],
        "responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object"},
        "thinkingConfig": {"thinkingLevel": "HIGH", "includeThoughts": True},
    }


def test_the_sdk_types_accept_our_bodies() -> None:
    body = orjson.loads(gemini.encode_request(full_request(), model="m"))
    contents = [gtypes.Content.model_validate(c) for c in body["contents"]]
    assert contents[1].parts is not None and contents[1].parts[1].function_call is not None
    assert contents[1].parts[1].thought_signature == base64.b64decode("c2lnMg==")
    tools = [gtypes.Tool.model_validate(t) for t in body["tools"]]
    assert tools[0].function_declarations is not None
    assert tools[0].function_declarations[0].parameters_json_schema == full_request().tools[0].parameters
    config = gtypes.GenerationConfig.model_validate(body["generationConfig"])
    assert config.thinking_config is not None and config.thinking_config.include_thoughts
    assert gtypes.ToolConfig.model_validate(body["toolConfig"]).function_calling_config is not None
    assert set(body) == {"contents", "systemInstruction", "tools", "toolConfig", "generationConfig"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"stop": ["a", "b", "c", "d", "e", "f"]}, "at most 5 stop sequences"),
        ({"tool_choice": ir.ToolChoice(mode="tool", name="nope")}, "not among the tools"),
        ({"reasoning": ir.ReasoningConfig(effort="turbo")}, "no Gemini thinking level"),
        ({"messages": [ir.Message(role="user", content=[ir.ImagePart(url="ftp://x/y.png")])]}, "inline data"),
        ({"messages": [ir.Message(role="user", content=[ir.ImagePart(url="https://x/y")])]}, "media type"),
        (
            {"messages": [ir.Message(role="user", content=[ir.ToolResultPart(tool_call_id="zz")])]},
            "tool's name",
        ),
        ({"messages": []}, "no message content"),
    ],
)
def test_what_gemini_cannot_take_is_refused_before_sending(change: dict[str, Any], message: str) -> None:
    request = full_request()
    for key, value in change.items():
        setattr(request, key, value)
    with pytest.raises(BadRequest, match=message):
        gemini.encode_request(request, model="m")


def test_thinking_budget_and_disable() -> None:
    def config(reasoning: ir.ReasoningConfig) -> Any:
        request = ir.Request(
            model="m",
            messages=[ir.Message(role="user", content=[ir.TextPart(text="x")])],
            reasoning=reasoning,
        )
        return orjson.loads(gemini.encode_request(request, model="m"))["generationConfig"]["thinkingConfig"]

    assert config(ir.ReasoningConfig(enabled=True, budget_tokens=2048, effort="low")) == {
        "thinkingBudget": 2048
    }
    assert config(ir.ReasoningConfig(enabled=False)) == {"thinkingBudget": 0}


# --- errors --------------------------------------------------------------------------------------


def google_error(code: int, status: str, message: str = "m", details: list[Any] | None = None) -> bytes:
    return orjson.dumps(
        {"error": {"code": code, "message": message, "status": status, "details": details or []}}
    )


@pytest.mark.parametrize(
    ("status", "body", "cls", "retry_after"),
    [
        (
            429,
            google_error(
                429,
                "RESOURCE_EXHAUSTED",
                details=[{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}],
            ),
            errors.UpstreamRateLimited,
            17.0,
        ),
        (503, google_error(503, "UNAVAILABLE"), errors.UpstreamOverloaded, None),
        (500, google_error(500, "INTERNAL"), errors.UpstreamServerError, None),
        (504, google_error(504, "DEADLINE_EXCEEDED"), errors.UpstreamTimeout, None),
        (403, google_error(403, "PERMISSION_DENIED"), errors.UpstreamAuthError, None),
        (
            400,
            google_error(
                400,
                "INVALID_ARGUMENT",
                "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            ),
            errors.ContextLengthExceeded,
            None,
        ),
        (400, google_error(400, "INVALID_ARGUMENT", "bad field"), errors.UpstreamBadRequest, None),
        (502, b"<html>bad gateway</html>", errors.UpstreamServerError, None),
    ],
)
def test_errors_are_classified(
    status: int, body: bytes, cls: type[errors.UpstreamError], retry_after: float | None
) -> None:
    error = gemini.decode_error(status, body, {})
    assert type(error) is cls and error.retry_after == retry_after and error.upstream_status == status
    assert "Gemini answered" in error.message


def test_a_garbled_answer_is_a_protocol_error() -> None:
    with pytest.raises(errors.UpstreamProtocolError):
        gemini.decode_response(b'{"this is": not json')
    with pytest.raises(errors.UpstreamProtocolError):
        gemini.decode_response(b'{"foo": 1}')


# --- round trips ---------------------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20)
_signature = st.binary(min_size=1, max_size=12).map(lambda b: base64.b64encode(b).decode())
_args = st.dictionaries(
    st.text("abc", min_size=1, max_size=3), st.integers(-(2**53), 2**53) | st.text(max_size=5), max_size=3
)


@st.composite
def answers(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Gemini answer parts in the shapes Gemini sends: thoughts, text (maybe signed), calls."""
    parts: list[dict[str, Any]] = []
    if draw(st.booleans()):
        parts.append({"text": draw(_text), "thought": True, "thoughtSignature": draw(_signature)})
    if draw(st.booleans()):
        text: dict[str, Any] = {"text": draw(_text)}
        if draw(st.booleans()):
            text["thoughtSignature"] = draw(_signature)
        parts.append(text)
    for number in range(draw(st.integers(0, 3))):
        call: dict[str, Any] = {
            "functionCall": {"id": f"c{number}", "name": f"f{number}", "args": draw(_args)}
        }
        if number == 0 and draw(st.booleans()):
            call["thoughtSignature"] = draw(_signature)
        parts.append(call)
    return parts or [{"text": "x"}]


def _envelope(parts: list[dict[str, Any]], finish: str | None, usage: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": "g", "responseId": "r1"}
    if usage:
        body["usageMetadata"] = {
            "promptTokenCount": 5,
            "candidatesTokenCount": 3,
            "thoughtsTokenCount": 2,
            "cachedContentTokenCount": 1,
        }
    return body


@settings(max_examples=80, deadline=None)
@given(parts=answers(), data=st.data())
def test_whole_and_streamed_answers_decode_to_the_same_ir(
    parts: list[dict[str, Any]], data: st.DataObject
) -> None:
    whole = gemini.decode_response(orjson.dumps(_envelope(parts, "STOP", True)))
    chunks = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        pieces = [part]
        if (
            "text" in part
            and not part.get("thought")
            and len(part["text"]) > 1
            and "thoughtSignature" not in part
        ):
            cut = data.draw(st.integers(1, len(part["text"]) - 1))
            pieces = [{"text": part["text"][:cut]}, {"text": part["text"][cut:]}]
        for j, piece in enumerate(pieces):
            final = last and j == len(pieces) - 1
            chunks.append(
                b"data: " + orjson.dumps(_envelope([piece], "STOP" if final else None, final)) + b"\r\n\r\n"
            )
    body = b"".join(chunks)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(body) - 1), max_size=6)))
    streamed = accumulate(decode_stream(body, cuts))
    assert streamed.content == whole.content
    assert (streamed.stop_reason, streamed.usage) == (whole.stop_reason, whole.usage)
    assert whole.usage == ir.Usage(input_tokens=5, output_tokens=5, cache_read_tokens=1, reasoning_tokens=2)
    calls = [p for p in parts if "functionCall" in p]
    assert whole.stop_reason == ("tool_use" if calls else "end_turn")
    assert [(c.name, c.input(), c.signature) for c in whole.content if isinstance(c, ir.ToolCallPart)] == [
        (p["functionCall"]["name"], p["functionCall"]["args"], p.get("thoughtSignature")) for p in calls
    ]
    again = ir.Request(model="g", messages=[ir.Message(role="assistant", content=whole.content)])
    assert orjson.loads(gemini.encode_request(again, model="g"))["contents"][0]["parts"] == [
        {**p, "functionCall": {**p["functionCall"]}} if "functionCall" in p else p for p in parts
    ]
