"""Fuzz targets for the parsers the gateway feeds with bytes it does not control (reliability.md B11).

Each target takes one input (bytes) and may raise only its declared error types; anything else
is a bug (the gateway would answer 500, or a stream would die). Some targets check a property
beyond "no crash": the SSE parser and the event-stream decoder give the same result however
the bytes are split, and the URL guard agrees with `ipaddress` on every notation of an address.

Inputs are steered with atheris' `FuzzedDataProvider`: a first choice picks raw bytes or a
structural mutation of a valid seed (a request, an answer, a stream), so the fuzzer spends its
time inside the codecs rather than on getting JSON right. Seeds come from the fake providers.
`run.py` fuzzes these; `test_fuzz.py` replays committed regression inputs and fuzzes briefly.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import math
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any, TypeAlias

import atheris
import orjson

from modelrouter import ir
from modelrouter.errors import ConfigError, RequestError, UpstreamError
from modelrouter.gateway.doors import DOORS, OPENAI
from modelrouter.protocols import anthropic_messages, bedrock_converse, gemini, openai_chat
from modelrouter.protocols.eventstream import EventStreamDecoder, encode_message
from modelrouter.protocols.retry_after import MAX_RETRY_AFTER_S, retry_after_seconds
from modelrouter.protocols.sse import SSEParser, encode_event
from modelrouter.urlguard import check_provider_url, forbidden_name
from tests.fakes import anthropic_wire, bedrock_wire, gemini_wire, openai_wire
from tests.fakes.plan import Call, Plan

__all__ = ["TARGETS", "Target"]

Provider: TypeAlias = Any
"""atheris.FuzzedDataProvider (atheris ships no type information)."""


@dataclass(frozen=True)
class Target:
    """A named fuzz target: `run(data)` raises nothing but `declared`."""

    name: str
    run: Callable[[Provider], None]
    declared: tuple[type[BaseException], ...] = ()

    def __call__(self, data: bytes) -> None:
        """One execution; a declared error is an accepted outcome."""
        with contextlib.suppress(*self.declared):
            self.run(atheris.FuzzedDataProvider(data))


# --- building inputs ------------------------------------------------------------------------

_WORDS = (
    "model messages role user assistant system developer tool content type text image_url url "
    "tool_calls function name arguments tool_call_id tools parameters tool_choice auto required "
    "none any response_format json_schema json_object schema strict stream stream_options "
    "include_usage max_tokens max_completion_tokens reasoning_effort reasoning reasoning_content "
    "reasoning_details thinking budget_tokens enabled disabled adaptive display summarized tool_use "
    "tool_result input id image source base64 media_type data document cache_control ephemeral ttl "
    "signature redacted_thinking metadata user_id stop stop_sequences temperature top_p top_k seed "
    "refusal output_config effort format instructions input_text output_text input_image "
    "input_file file file_data filename function_call function_call_output call_id output "
    "namespace web_search max_output_tokens parallel_tool_calls disable_parallel_tool_use "
    "is_error candidates parts functionCall functionResponse args thought thoughtSignature "
    "finishReason STOP MAX_TOKENS SAFETY usageMetadata promptTokenCount candidatesTokenCount "
    "thoughtsTokenCount message toolUse toolUseId reasoningContent reasoningText stopReason end_turn "
    "usage inputTokens outputTokens choices delta finish_reason index prompt_tokens "
    "completion_tokens prompt_tokens_details cached_tokens message_start content_block_start "
    "content_block_delta content_block_stop message_delta message_stop text_delta input_json_delta "
    "partial_json thinking_delta signature_delta error overloaded_error contentBlockDelta "
    "contentBlockStart messageStop metadata extra_content google thought_signature route provider "
    "models __thought__ data:image/png;base64,iVBORw0KGgo= https://example.com/a.png gs://b/a.pdf "
    "s3://b/a.pdf anthropic.claude-sonnet-4-5 [DONE] low medium high xhigh minimal"
)
VOCABULARY = _WORDS.split()
"""Field names and values of the four protocols, for the structural mutations to draw from."""


def _scalar(fdp: Provider) -> Any:
    choice = fdp.ConsumeIntInRange(0, 8)
    if choice == 0:
        return None
    if choice == 1:
        return fdp.ConsumeBool()
    if choice == 2:
        return fdp.ConsumeIntInRange(-(2**63), 2**63 - 1)
    if choice == 3:
        return fdp.ConsumeIntInRange(-2, 70000)
    if choice == 4:
        number = fdp.ConsumeRegularFloat()
        return number if math.isfinite(number) else 0.5
    if choice == 5:
        return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 40))
    return fdp.PickValueInList(VOCABULARY)


def _value(fdp: Provider, depth: int = 0) -> Any:
    choice = fdp.ConsumeIntInRange(0, 9 if depth < 3 else 6)
    if choice <= 6:
        return _scalar(fdp)
    if choice == 7:
        return [_value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    return {
        fdp.PickValueInList(VOCABULARY): _value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))
    }


def _containers(node: Any, found: list[Any]) -> list[Any]:
    if isinstance(node, dict | list):
        found.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            _containers(child, found)
    return found


def mutate(seed: Any, fdp: Provider) -> Any:
    """A copy of the JSON value `seed` with a few fuzzer-chosen edits (replace, delete, insert)."""
    value = orjson.loads(orjson.dumps(seed))
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        containers = _containers(value, [])
        if not containers:
            return _value(fdp)
        node = containers[fdp.ConsumeIntInRange(0, len(containers) - 1)]
        op = fdp.ConsumeIntInRange(0, 2)
        if isinstance(node, dict):
            keys = list(node)
            if op == 0 and keys:
                node[fdp.PickValueInList(keys)] = _value(fdp)
            elif op == 1 and keys:
                del node[fdp.PickValueInList(keys)]
            else:
                node[fdp.PickValueInList(VOCABULARY)] = _value(fdp)
        elif op == 0 and node:
            node[fdp.ConsumeIntInRange(0, len(node) - 1)] = _value(fdp)
        elif op == 1 and node:
            del node[fdp.ConsumeIntInRange(0, len(node) - 1)]
        else:
            node.append(_value(fdp))
    return value


def _chunks(data: bytes, fdp: Provider) -> list[bytes]:
    """`data` cut where the fuzzer says (one size for the whole input keeps the choice cheap)."""
    size = fdp.ConsumeIntInRange(1, 64)
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def _structured(fdp: Provider) -> bool:
    """Whether this input mutates a seed (else it is raw bytes)."""
    return bool(fdp.ConsumeIntInRange(0, 3) != 0)


# --- seeds ------------------------------------------------------------------------------------

_IMAGE = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
_TOOL = {"name": "lookup", "description": "find", "parameters": {"type": "object", "properties": {}}}


@cache
def door_seeds() -> dict[str, list[dict[str, Any]]]:
    """Valid requests for each front door: plain, tools and results, images, reasoning, schemas."""
    openai_seed: list[dict[str, Any]] = [
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        {
            "model": "m",
            "stream": True,
            "stream_options": {"include_usage": True},
            "reasoning_effort": "high",
            "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {}}},
            "tools": [{"type": "function", "function": _TOOL}],
            "tool_choice": "auto",
            "messages": [
                {"role": "system", "content": "be brief"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "a"},
                        {"type": "image_url", "image_url": {"url": _IMAGE}},
                    ],
                },
                {
                    "role": "assistant",
                    "content": None,
                    "reasoning_content": "hmm",
                    "tool_calls": [
                        {
                            "id": "c1__thought__c2ln",
                            "type": "function",
                            "function": {"name": "lookup", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1__thought__c2ln", "content": "found"},
            ],
        },
    ]
    anthropic_seed: list[dict[str, Any]] = [
        {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]},
        {
            "model": "m",
            "max_tokens": 2048,
            "stream": True,
            "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "tools": [{"name": "lookup", "description": "find", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "auto"},
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
                        },
                        {"type": "text", "text": "a"},
                    ],
                },
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                        {"type": "tool_use", "id": "t1", "name": "lookup", "input": {}},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "t1", "content": "found", "is_error": False}
                    ],
                },
            ],
        },
    ]
    responses_seed: list[dict[str, Any]] = [
        {"model": "m", "input": "hi"},
        {
            "model": "m",
            "instructions": "be brief",
            "stream": True,
            "reasoning": {"effort": "low", "summary": "auto"},
            "tools": [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}],
            "input": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "a"},
                        {"type": "input_image", "image_url": _IMAGE},
                    ],
                },
                {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "found"},
            ],
        },
    ]
    return {
        "/v1/chat/completions": openai_seed,
        "/v1/messages": anthropic_seed,
        "/v1/responses": responses_seed,
    }


def _plans() -> list[Plan]:
    return [
        Plan(
            "m",
            "fuzz",
            reasoning="thinking it over",
            text="hello there, friend",
            input_tokens=12,
            output_tokens=7,
            signature="c2ln",
            cache_read_tokens=3,
        ),
        Plan(
            "m",
            "fuzz",
            text="calling",
            calls=[Call("call_1", "lookup", {"q": "x"}), Call("call_2", "other", {})],
            input_tokens=5,
            output_tokens=9,
        ),
    ]


WIRES: dict[str, ModuleType] = {
    "openai_chat": openai_wire,
    "anthropic_messages": anthropic_wire,
    "gemini": gemini_wire,
    "bedrock_converse": bedrock_wire,
}
CODECS: dict[str, ModuleType] = {
    "openai_chat": openai_chat,
    "anthropic_messages": anthropic_messages,
    "gemini": gemini,
    "bedrock_converse": bedrock_converse,
}


@cache
def answer_seeds(protocol: str) -> list[Any]:
    """Non-streamed provider answers, as JSON values."""
    return [orjson.loads(WIRES[protocol].answer(plan, "r1")) for plan in _plans()]


def _stream_events(protocol: str, chunks: list[bytes]) -> list[tuple[str | None, Any]]:
    data = b"".join(chunks)
    if protocol == "bedrock_converse":
        return [
            (m.headers.get(":event-type"), orjson.loads(m.payload)) for m in EventStreamDecoder().feed(data)
        ]
    parser = SSEParser()
    events = parser.feed(data) + parser.flush()
    return [(e.event, e.data if e.data == "[DONE]" else orjson.loads(e.data)) for e in events]


@cache
def stream_seeds(protocol: str) -> list[list[tuple[str | None, Any]]]:
    """Streamed provider answers, as (event name, JSON payload) lists."""
    return [_stream_events(protocol, WIRES[protocol].stream(plan, "r1", True)) for plan in _plans()]


def render_stream(protocol: str, events: Sequence[tuple[str | None, Any]]) -> bytes:
    """The wire bytes of a stream of (event name, payload) pairs."""
    out = []
    for name, payload in events:
        data = payload.encode() if isinstance(payload, str) else orjson.dumps(payload)
        if protocol == "bedrock_converse":
            out.append(
                encode_message(
                    {
                        ":event-type": name or "x",
                        ":message-type": "event",
                        ":content-type": "application/json",
                    },
                    data,
                )
            )
        else:
            out.append(encode_event(data, name))
    return b"".join(out)


# --- targets ----------------------------------------------------------------------------------


def _sse(fdp: Provider) -> None:
    chunks = _chunks(fdp.ConsumeBytes(fdp.remaining_bytes()), fdp) if fdp.ConsumeBool() else []
    data = b"".join(chunks)
    whole = SSEParser()
    expected = whole.feed(data) + whole.flush()
    split = SSEParser()
    got = [event for chunk in chunks for event in split.feed(chunk)] + split.flush()
    assert got == expected, (got, expected)


def _fix_crcs(data: bytes) -> bytes:
    """Valid checksums on every whole frame, so the fuzzer explores what lies behind them."""
    out = bytearray(data)
    at = 0
    while at + 16 <= len(out):
        (total,) = struct.unpack_from(">I", out, at)
        if total < 16 or at + total > len(out):
            break
        struct.pack_into(">I", out, at + 8, zlib.crc32(out[at : at + 8]))
        struct.pack_into(">I", out, at + total - 4, zlib.crc32(out[at : at + total - 4]))
        at += total
    return bytes(out)


def _decode_frames(chunks: list[bytes]) -> tuple[list[Any], bool, int]:
    decoder = EventStreamDecoder()
    messages: list[Any] = []
    try:
        for chunk in chunks:
            messages += decoder.feed(chunk)
    except UpstreamError:
        return messages, True, 0
    return messages, False, decoder.pending


def _eventstream(fdp: Provider) -> None:
    fix = fdp.ConsumeBool()
    size = fdp.ConsumeIntInRange(1, 64)
    data = fdp.ConsumeBytes(fdp.remaining_bytes())
    if fix:
        data = _fix_crcs(data)
    whole = _decode_frames([data])
    split = _decode_frames([data[i : i + size] for i in range(0, len(data), size)])
    assert whole[1] == split[1], "an error is an error however the bytes arrive"
    if not whole[1]:
        assert whole == split


def _retry_after(fdp: Provider) -> None:
    name = fdp.PickValueInList(["retry-after", "Retry-After", "retry-after-ms", "x-ms-retry-after-ms"])
    value = fdp.ConsumeBytes(fdp.remaining_bytes()).decode("latin-1")
    seconds = retry_after_seconds({name: value}, clock=lambda: 1_764_000_000.0)
    assert seconds is None or (math.isfinite(seconds) and 0 <= seconds <= MAX_RETRY_AFTER_S), seconds


_METADATA = {
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
}
_NOTABLE = [
    "169.254.169.254", "169.254.170.2", "100.100.100.200", "169.254.0.1", "127.0.0.1", "10.0.0.5",
    "8.8.8.8", "fd00:ec2::254", "fe80::1", "::1", "2001:db8::1", "::ffff:169.254.169.254",
]  # fmt: skip


def _notation(address: ipaddress.IPv4Address | ipaddress.IPv6Address, style: int) -> str:
    """`address` written as URLs and resolvers accept it (inet_aton forms for IPv4)."""
    if isinstance(address, ipaddress.IPv6Address):
        forms = [address.compressed, address.exploded, address.compressed.upper()]
        if address.ipv4_mapped is not None:
            forms.append(f"::ffff:{address.ipv4_mapped}")
        return forms[style % len(forms)]
    n = int(address)
    octets = list(address.packed)
    forms = [
        str(address),
        str(n),
        hex(n),
        ".".join(oct(o).replace("0o", "0") for o in octets),
        ".".join(hex(o) for o in octets),
        f"{octets[0]}.{n & 0xFFFFFF}",
        f"{octets[0]}.{octets[1]}.{n & 0xFFFF}",
        f"{address}.",
    ]
    return forms[style % len(forms)]


def _urlguard(fdp: Provider) -> None:
    if fdp.ConsumeBool():  # any host at all: only ConfigError, never anything else
        host = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
        forbidden_name(host)
        with contextlib.suppress(ConfigError):
            check_provider_url("providers.x.base_url", f"http://{host}/v1")
        return
    if fdp.ConsumeBool():
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            fdp.PickValueInList(_NOTABLE)
        )
    elif fdp.ConsumeBool():
        address = ipaddress.IPv4Address(fdp.ConsumeIntInRange(0, 2**32 - 1))
    else:
        address = ipaddress.IPv6Address(fdp.ConsumeIntInRange(0, 2**128 - 1))
    text = _notation(address, fdp.ConsumeIntInRange(0, 15))
    plain = (
        address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped else address
    )
    expected = plain in _METADATA or plain.is_link_local
    assert forbidden_name(text) == expected, (text, expected)
    url = f"http://[{text}]:8080/v1" if ":" in text else f"http://{text}:8080/v1"
    try:
        check_provider_url("providers.x.base_url", url)
        refused = False
    except ConfigError:
        refused = True
    assert refused == expected, (url, expected)


def _encode_everywhere(request: ir.Request) -> None:
    """The request translated for every provider protocol (each may refuse with `BadRequest`)."""
    attempts: list[Callable[[], bytes]] = [
        lambda: openai_chat.encode_request(request, model="m"),
        lambda: openai_chat.encode_request(
            request, model="m", max_tokens_field="max_tokens", reasoning_echo="reasoning_details"
        ),
        lambda: anthropic_messages.encode_request(request, model="m"),
        lambda: anthropic_messages.encode_request(request, model="m", vertex=True),
        lambda: gemini.encode_request(request, model="m"),
        lambda: bedrock_converse.encode_request(request, model="anthropic.claude-sonnet-4-5"),
        lambda: bedrock_converse.encode_request(request, model="amazon.nova-pro"),
        # the same protocol both sides: the client's own body (None when it must be translated)
        lambda: openai_chat.passthrough_request(request, model="m") or b"{}",
        lambda: anthropic_messages.passthrough_request(request, model="m") or b"{}",
    ]
    for attempt in attempts:
        with contextlib.suppress(RequestError):
            orjson.loads(attempt())


def _door(path: str) -> Callable[[Provider], None]:
    door = DOORS[path]

    def run(fdp: Provider) -> None:
        if _structured(fdp):
            seeds = door_seeds()[path]
            body = orjson.dumps(mutate(seeds[fdp.ConsumeIntInRange(0, len(seeds) - 1)], fdp))
        else:
            body = fdp.ConsumeBytes(fdp.remaining_bytes())
        request = door.decode(body)
        _encode_everywhere(request)

    return run


@cache
def _client_request() -> ir.Request:
    return OPENAI.decode(
        b'{"model": "m", "messages": [{"role": "user", "content": "hi"}],'
        b' "stream_options": {"include_usage": true}}'
    )


def _to_clients(response: ir.Response) -> None:
    for door in DOORS.values():
        orjson.loads(door.encode_response(response, "p"))


def _stream_to_clients(events: list[ir.StreamEvent]) -> None:
    for door in DOORS.values():
        encoder = door.stream_encoder(_client_request(), "m")
        for event in events:
            encoder.encode(event)


def _answer(protocol: str) -> Callable[[Provider], None]:
    codec = CODECS[protocol]

    def run(fdp: Provider) -> None:
        streamed = fdp.ConsumeBool()
        structured = _structured(fdp)
        if not streamed:
            if structured:
                seeds = answer_seeds(protocol)
                body = orjson.dumps(mutate(seeds[fdp.ConsumeIntInRange(0, len(seeds) - 1)], fdp))
            else:
                body = fdp.ConsumeBytes(fdp.remaining_bytes())
            _to_clients(codec.decode_response(body))
            return
        if structured:
            events = list(stream_seeds(protocol)[fdp.ConsumeIntInRange(0, 1)])
            at = fdp.ConsumeIntInRange(0, len(events) - 1)
            events[at] = (events[at][0], mutate(events[at][1], fdp))
            if fdp.ConsumeBool():
                del events[fdp.ConsumeIntInRange(0, len(events) - 1)]
            data = render_stream(protocol, events)
        else:
            data = fdp.ConsumeBytes(fdp.remaining_bytes())
        decoder = codec.StreamDecoder()
        decoded: list[ir.StreamEvent] = []
        for chunk in _chunks(data, fdp):
            decoded += decoder.feed(chunk)
        decoded += decoder.close()
        _stream_to_clients(decoded)

    return run


TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target("sse", _sse),
        Target("eventstream", _eventstream),
        Target("retry_after", _retry_after),
        Target("urlguard", _urlguard),
        Target("openai_door", _door("/v1/chat/completions"), (RequestError,)),
        Target("anthropic_door", _door("/v1/messages"), (RequestError,)),
        Target("responses_door", _door("/v1/responses"), (RequestError,)),
        Target("openai_answer", _answer("openai_chat"), (UpstreamError,)),
        Target("anthropic_answer", _answer("anthropic_messages"), (UpstreamError,)),
        Target("gemini_answer", _answer("gemini"), (UpstreamError,)),
        Target("bedrock_answer", _answer("bedrock_converse"), (UpstreamError,)),
    ]
}
"""Every target by name. Door targets also translate what they decoded to every provider
protocol; answer targets decode a provider's answer or stream and encode it for every door."""
