"""AWS event-stream framing, checked against botocore's own parser and recorded Bedrock streams."""

from __future__ import annotations

import struct
import uuid
import zlib

import pytest
from botocore.eventstream import EventStreamBuffer
from hypothesis import given, settings
from hypothesis import strategies as st

from modelrouter.errors import UpstreamProtocolError
from modelrouter.protocols.eventstream import EventMessage, EventStreamDecoder, encode_message
from tests.recorded import MISSING_REASON, cassette, cassette_paths

RECORDED = [
    path
    for path in cassette_paths("models/cassettes/test_bedrock/*.yaml")
    if any(
        it.response_headers.get("content-type") == ["application/vnd.amazon.eventstream"]
        for it in cassette(path)
    )
]

_headers = st.dictionaries(
    st.text("abcdefghij:-", min_size=1, max_size=12),
    st.text(max_size=30) | st.binary(max_size=30) | st.booleans() | st.integers(-(2**31), 2**31 - 1),
    max_size=4,
)


def decode_all(data: bytes, cuts: list[int] | None = None) -> list[EventMessage]:
    decoder = EventStreamDecoder()
    out: list[EventMessage] = []
    start = 0
    for cut in [*(cuts or []), len(data)]:
        out += decoder.feed(data[start:cut])
        start = cut
    assert decoder.pending == 0
    return out


def botocore_messages(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(dict(m.headers), m.payload) for m in buffer]


@settings(max_examples=100, deadline=None)
@given(
    messages=st.lists(st.tuples(_headers, st.binary(max_size=200)), min_size=1, max_size=5), data=st.data()
)
def test_our_frames_parse_the_same_in_botocore_and_in_any_split(
    messages: list[tuple[dict[str, str | bytes | bool | int], bytes]], data: st.DataObject
) -> None:
    wire = b"".join(encode_message(h, p) for h, p in messages)
    theirs = botocore_messages(wire)
    assert [(m.headers, m.payload) for m in decode_all(wire)] == theirs == messages
    cuts = sorted(data.draw(st.sets(st.integers(1, len(wire) - 1), max_size=8)))
    assert decode_all(wire, cuts) == decode_all(wire)


@pytest.mark.parametrize(
    "path", RECORDED or [pytest.param("", marks=pytest.mark.skip(reason=MISSING_REASON))]
)
def test_recorded_streams_decode_like_botocore_at_every_split(path: str) -> None:
    body = cassette(path)[0].response_body
    ours = decode_all(body)
    assert [(m.headers, m.payload) for m in ours] == botocore_messages(body)
    assert ours[0].headers[":event-type"] == "messageStart"
    for cut in range(1, len(body), 7):
        assert decode_all(body, [cut]) == ours


def test_every_header_type_botocore_knows() -> None:
    name = b":t"
    millis = 1_764_000_000_123
    ident = uuid.uuid4()
    raw = b"".join(
        [
            bytes([2]) + b"aa" + b"\x02" + struct.pack(">b", -5),
            bytes([2]) + b"bb" + b"\x03" + struct.pack(">h", 300),
            bytes([2]) + b"cc" + b"\x05" + struct.pack(">q", 2**40),
            bytes([2]) + b"dd" + b"\x08" + struct.pack(">q", millis),
            bytes([2]) + b"ee" + b"\x09" + ident.bytes,
            bytes([len(name)]) + name + b"\x01",
        ]
    )
    prelude = struct.pack(">II", 16 + len(raw) + 2, len(raw))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + raw + b"{}"
    message += struct.pack(">I", zlib.crc32(message))
    [decoded] = decode_all(message)
    assert decoded.headers["aa"] == -5 and decoded.headers["bb"] == 300 and decoded.headers["cc"] == 2**40
    assert int(decoded.headers["dd"].timestamp() * 1000) == millis
    assert decoded.headers["ee"] == ident and decoded.headers[":t"] is False
    [(theirs, _)] = botocore_messages(message)
    assert theirs["aa"] == -5 and theirs["ee"] == ident.bytes


def test_corruption_is_refused_not_guessed() -> None:
    good = encode_message({":event-type": "x"}, b"{}")
    with pytest.raises(UpstreamProtocolError, match="prelude checksum"):
        EventStreamDecoder().feed(good[:7] + bytes([good[7] ^ 1]) + good[8:])
    with pytest.raises(UpstreamProtocolError, match="message checksum"):
        EventStreamDecoder().feed(good[:-6] + b"X" + good[-5:])
    huge = struct.pack(">II", 64 * 1024 * 1024, 10)
    with pytest.raises(UpstreamProtocolError, match="too large"):
        EventStreamDecoder().feed(huge + struct.pack(">I", zlib.crc32(huge)))
