"""B11: the fuzz targets hold, replayed on every input that once broke them, and fuzzed briefly.

The regression cases are what atheris found (tests/fuzz/run.py), written out as the concrete
bodies, streams and hosts that reached the code, so they stay meaningful when the targets'
mutators change. Each once raised something other than the declared error types: a TypeError
from a list used as a lookup key, a None part, a token count no JSON encoder can hold. The short
fuzz run (FUZZ_SECONDS per target, default 1) keeps every target alive in CI; `python -m
tests.fuzz.run` is the long version.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from modelrouter.errors import ConfigError, RequestError, UpstreamError
from modelrouter.gateway.doors import DOORS
from modelrouter.urlguard import check_provider_url, forbidden_name
from tests.fuzz.run import Outcome, fuzz
from tests.fuzz.targets import CODECS, TARGETS, _encode_everywhere, _stream_to_clients, _to_clients

FUZZ_SECONDS = float(os.environ.get("FUZZ_SECONDS", "1"))

DOOR_CASES: list[tuple[str, bytes]] = [
    ("/v1/messages", b'{"model":null,"max_tokens":100,"messages":[{"role":[],"content":"hi"}]}'),
    (
        "/v1/responses",
        b'{"model":"m","instructions":"be brief","stream":true,"reasoning":{"effort":"low","summary":"auto"},"tools":true,"input":[{"role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgoAAAAAAAAAAAAAAAAAAAAA"}]},{"type":"function_call","call_id":"c1","name":"lookup","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"found"}]}',
    ),
    (
        "/v1/responses",
        b'{"model":"m","instructions":"be brief","stream":true,"reasoning":{"effort":"low","summary":"auto"},"tools":[{"type":"function","name":"lookup","parameters":"disable_parallel_tool_use"}],"input":[{"role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgoAAAAAAAAAAAAAAAAAAAAA"}]},{"type":"function_call","call_id":"c1","name":"lookup","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"found"}]}',
    ),
    (
        "/v1/responses",
        b'{"model":"m","instructions":"be brief","stream":true,"reasoning":{"effort":{},"summary":"auto"},"tools":[{"type":"function","name":"lookup","parameters":{"type":"object"}}],"input":[{"role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgoAAAAAAAAAAAAAAAAAAAAA"}]},{"type":"function_call","call_id":"c1","name":"lookup","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"found"}]}',
    ),
    (
        "/v1/responses",
        b'{"model":"m","instructions":"be brief","stream":true,"reasoning":{"effort":"low","summary":"auto"},"tools":[{"type":{"model":null},"name":"lookup","parameters":{"type":"object"}}],"input":[{"role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgoAAAAAAAAAAAAAAAAAAAAA"}]},{"type":"function_call","call_id":"c1","name":"lookup","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"found"}]}',
    ),
    (
        "/v1/responses",
        b'{"model":"m","instructions":"be brief","stream":true,"reasoning":{"effort":"low","summary":"auto"},"tools":[{"type":"function","name":"lookup","parameters":61675}],"input":[{"role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgoAAAAAAAAAAAAAAAAAAAAA"}]},{"type":"function_call","call_id":"c1","name":"lookup","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"found"}]}',
    ),
    (
        "/v1/responses",
        b'{"model":"m","instructions":"be brief","stream":true,"reasoning":{"effort":"low","summary":"auto"},"tools":[{"type":[],"name":"lookup","parameters":{"type":"object"}}],"input":[{"role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgoAAAAAAAAAAAAAAAAAAAAA"}]},{"type":"function_call","call_id":"c1","name":"lookup","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"found"}]}',
    ),
]
ANSWER_CASES: list[tuple[str, bytes]] = [
    (
        "bedrock_converse",
        b'{"output":{"message":{"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"thinking it over","signature":"c2ln"}}},{"text":"hello there, friend"}]}},"stopReason":"end_turn","usage":{"inputTokens":-1.7976931348623157e+308,"outputTokens":7,"totalTokens":19,"cacheReadInputTokens":3,"cacheWriteInputTokens":0},"metrics":{"latencyMs":12}}',
    ),
    (
        "bedrock_converse",
        b'{"output":{"message":{"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"thinking it over","signature":"c2ln"}}},{"text":"hello there, friend"}]}},"stopReason":"end_turn","usage":{"inputTokens":{"model":null},"outputTokens":7,"totalTokens":19,"cacheReadInputTokens":3,"cacheWriteInputTokens":0},"metrics":{"latencyMs":12}}',
    ),
    (
        "gemini",
        b'{"candidates":null,"modelVersion":"m","responseId":"r1","usageMetadata":{"promptTokenCount":{"model":null},"candidatesTokenCount":4,"totalTokenCount":19,"promptTokensDetails":[{"modality":"TEXT","tokenCount":12}],"thoughtsTokenCount":3}}',
    ),
    (
        "gemini",
        b'{"candidates":{"model":null},"modelVersion":"m","responseId":"r1","usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":9,"totalTokenCount":14,"promptTokensDetails":[{"modality":"TEXT","tokenCount":5}]}}',
    ),
]
STREAM_CASES: list[tuple[str, bytes]] = [
    (
        "anthropic_messages",
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_r1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"calling"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_1","name":"lookup","input":{}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"q\\":"}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \\"x\\"}"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_2","name":"other","input":{}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{"}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"}"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":2}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}\n\nevent: message_stop\ndata: {"type":{},"strict":{}}\n\n',
    ),
    (
        "anthropic_messages",
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_r1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}\n\nevent: ping\ndata: {"type":"ping"}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"calling"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_1","name":"lookup","input":{}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"q\\":"}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \\"x\\"}"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_2","name":"other","input":{}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{"}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"}"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":2}\n\nevent: message_delta\ndata: {"type":[],"delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n',
    ),
    (
        "anthropic_messages",
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_r1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}\n\nevent: ping\ndata: {"type":"ping"}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"calling"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_1","name":"lookup","input":{}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"q\\":"}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \\"x\\"}"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\nevent: content_block_start\ndata: {"type":[],"index":2,"content_block":{"type":"tool_use","id":"call_2","name":"other","input":{}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{"}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"}"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":2}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n',
    ),
    (
        "bedrock_converse",
        b'\x00\x00\x00\x85\x00\x00\x00R\x99A\xd0S\x0b:event-type\x07\x00\x0cmessageStart\r:message-type\x07\x00\x05event\r:content-type\x07\x00\x10application/json{"role":"assistant","p":"abcdefgh"}\xd6L\xdd\xc2\x00\x00\x00\xa8\x00\x00\x00W\xd0z\xcfi\x0b:event-type\x07\x00\x11contentBlockDelta\r:message-type\x07\x00\x05event\r:content-type\x07\x00\x10application/json{"contentBlockIndex":0,"delta":{"text":"calling"},"p":"abcdefgh"}\x13\x7f\xa9i\x00\x00\x00\x8c\x00\x00\x00V\x93<v;\x0b:event-type\x07\x00\x10contentBlockStop\r:message-type\x07\x00\x05event\r:content-type\x07\x00\x10application/json{"contentBlockIndex":0,"p":"abcdefgh"}Gj\xe0\\\x00\x00\x00\xc8\x00\x00\x00WIH\xb8$\x0b:event-type\x07\x00\x11contentBlockStart\r:message-type\x07\x00\x05event\r:content-type\x07\x00\x10application/json{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"call_1","name":"lookup"}},"p":"abcdefgh"}\x8d\xbf/R\x00\x00\x00\xa6\x00\x00\x00WoJq\x08\x0b:event-type\x07\x00\x11contentBlockDelta\r:message-type\x07\x00\x05event\r:content-type\x07\x00\x10application/json{"contentBlockIndex":1,"delta":{"toolUse":null},"p":"abcdefgh"}\xf7\x8cz\xb8',
    ),
    (
        "bedrock_converse",
        b'\x00\x00\x00\x85\x00\x00\x00R\x99A\xd0S\x0b:event-type\x07\x00\x0cmessageStart\r:message-type\x07\x00\x05event\r:content-type\x07\x00\x10application/json{"role":"assistant","p":"abcdefgh"}\xd6L\xdd\xc2\x00\x00\x00\xa8\x00\x00\x00W\xd0z\xcfi\x0b:event-type\x07\x00\x11contentBlockDelta\r:message-type\x07\x00\x05event\r:content-type\x07\x00\x10application/json{"contentBlockIndex":0,"delta":{"text":"calling"},"p":"abcdefgh"}\x13\x7f\xa9i\x00\x00\x00\x8c\x00\x00\x00V\x93<v;\x0b:event-type\x07\x00\x10contentBlockStop\r:message-type\x07\x00\x05event\r:content-type\x07\x00\x10application/json{"contentBlockIndex":0,"p":"abcdefgh"}Gj\xe0\\\x00\x00\x00\xc8\x00\x00\x00WIH\xb8$\x0b:event-type\x07\x00\x11contentBlockStart\r:message-type\x07\x00\x05event\r:content-type\x07\x00\x10application/json{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"call_1","name":"lookup"}},"p":"abcdefgh"}\x8d\xbf/R\x00\x00\x00\xb5\x00\x00\x00WH\n\x9cZ\x0b:event-type\x07\x00\x11contentBlockDelta\r:message-type\x07\x00\x05event\r:content-type\x07\x00\x10application/json{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\\"q\\":"}},"p":"abcdefgh"}\xdf\x02Z\x80\x00\x00\x00\xa6\x00\x00\x00WoJq\x08\x0b:event-type\x07\x00\x11contentBlockDelta\r:message-type\x07\x00\x05event\r:content-type\x07\x00\x10application/json{"contentBlockIndex":1,"delta":{"toolUse":null},"p":"abcdefgh"}\xf7\x8cz\xb8',
    ),
    (
        "gemini",
        b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"thinking it over","thought":true}]},"index":0}],"modelVersion":"m","responseId":"r1","usageMetadata":{"promptTokenCount":12}}\n\ndata: {"candidates":[{"content":{"role":"model","parts":[{"text":"hello "}]},"index":0}],"modelVersion":"m","responseId":"r1","usageMetadata":{"promptTokenCount":12}}\n\ndata: {"candidates":[{"content":{"role":"model","parts":[{"text":"there, "}]},"index":0}],"modelVersion":"m","responseId":"r1","usageMetadata":{"promptTokenCount":12}}\n\ndata: {"candidates":[{"content":{"role":"model","parts":[null]},"index":0,"finishReason":"STOP"}],"modelVersion":"m","responseId":"r1","usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":4,"totalTokenCount":19,"promptTokensDetails":[{"modality":"TEXT","tokenCount":12}],"thoughtsTokenCount":3}}\n\n',
    ),
    (
        "gemini",
        b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"thinking it over","thought":true}]},"index":0}],"modelVersion":"m","responseId":"r1","usageMetadata":{"promptTokenCount":12}}\n\ndata: {"candidates":[{"content":{"role":"model","parts":[null]},"index":0}],"modelVersion":"m","responseId":"r1","usageMetadata":{"promptTokenCount":12}}\n\n',
    ),
]
HOST_CASES: list[str] = ["\x00q"]


@pytest.mark.parametrize(("path", "body"), DOOR_CASES)
def test_a_client_request_that_once_crashed_a_door_is_refused_with_a_400(path: str, body: bytes) -> None:
    try:
        request = DOORS[path].decode(body)
    except RequestError as refused:
        assert refused.status == 400
        return
    _encode_everywhere(request)


@pytest.mark.parametrize(("protocol", "body"), ANSWER_CASES)
def test_a_provider_answer_that_once_crashed_a_codec_is_a_protocol_error(protocol: str, body: bytes) -> None:
    with contextlib.suppress(UpstreamError):
        _to_clients(CODECS[protocol].decode_response(body))


@pytest.mark.parametrize(("protocol", "data"), STREAM_CASES)
def test_a_provider_stream_that_once_crashed_a_decoder_is_a_protocol_error(
    protocol: str, data: bytes
) -> None:
    decoder = CODECS[protocol].StreamDecoder()
    with contextlib.suppress(UpstreamError):
        _stream_to_clients(decoder.feed(data) + decoder.close())


@pytest.mark.parametrize("host", HOST_CASES)
def test_a_host_that_once_crashed_the_url_guard_is_judged_without_an_exception(host: str) -> None:
    assert forbidden_name(host) is False
    with contextlib.suppress(ConfigError):
        check_provider_url("providers.x.base_url", f"http://{host}/v1")


@pytest.fixture(scope="module")
def short_runs() -> dict[str, Outcome]:
    """Every target fuzzed briefly, two at a time (most of each run is atheris starting up)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = pool.map(lambda target: fuzz(target, FUZZ_SECONDS, seed=1), TARGETS)
        return dict(zip(TARGETS, outcomes, strict=True))


@pytest.mark.parametrize("target", list(TARGETS))
def test_a_short_fuzz_run_finds_nothing(target: str, short_runs: dict[str, Outcome]) -> None:
    outcome = short_runs[target]
    assert outcome.ok, outcome.report
    assert outcome.executions > 0
