"""AWS event-stream framing (`application/vnd.amazon.eventstream`), incremental and split-free.

Bedrock's ConverseStream answers with binary messages: a 12-byte prelude (total length,
headers length, CRC32 of those 8 bytes), typed headers, a payload and a CRC32 of everything
before it, all big-endian. `EventStreamDecoder` takes the bytes as they come and returns the
messages they complete, whatever the chunk boundaries; a bad CRC or an impossible length is an
`UpstreamProtocolError`, never a guess. `encode_message` writes the same framing (for tests and
fakes). Verified against botocore's own parser in the tests.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from modelrouter.errors import UpstreamProtocolError

__all__ = ["EventMessage", "EventStreamDecoder", "encode_message"]

PRELUDE: Final = 12
MAX_HEADERS: Final = 128 * 1024
MAX_PAYLOAD: Final = 24 * 1024 * 1024
_PRELUDE: Final = struct.Struct(">II")
_U32: Final = struct.Struct(">I")
_FIXED: Final = {
    2: struct.Struct(">b"),
    3: struct.Struct(">h"),
    4: struct.Struct(">i"),
    5: struct.Struct(">q"),
}


@dataclass(frozen=True, slots=True)
class EventMessage:
    """One decoded message: its headers by name and its raw payload."""

    headers: dict[str, Any]
    payload: bytes


def _headers(data: bytes) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    at = 0
    try:
        while at < len(data):
            size = data[at]
            name = data[at + 1 : at + 1 + size].decode()
            at += 1 + size
            kind = data[at]
            at += 1
            value: Any
            if kind in (0, 1):
                value = kind == 0
            elif kind in _FIXED:
                fixed = _FIXED[kind]
                (value,) = fixed.unpack_from(data, at)
                at += fixed.size
            elif kind in (6, 7):
                (length,) = struct.unpack_from(">H", data, at)
                raw = data[at + 2 : at + 2 + length]
                if len(raw) != length:
                    raise ValueError("header value runs past the headers")
                value = raw.decode() if kind == 7 else raw
                at += 2 + length
            elif kind == 8:
                (millis,) = struct.unpack_from(">q", data, at)
                value = datetime.fromtimestamp(millis / 1000, UTC)
                at += 8
            elif kind == 9:
                value = uuid.UUID(bytes=data[at : at + 16])
                at += 16
            else:
                raise ValueError(f"unknown header value type {kind}")
            headers[name] = value
    except (IndexError, struct.error, UnicodeDecodeError, ValueError) as exc:
        raise UpstreamProtocolError(f"event-stream headers do not parse: {exc}") from exc
    return headers


class EventStreamDecoder:
    """Feed bytes; get the complete messages back."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held that do not yet make a whole message."""
        return len(self._buffer)

    def feed(self, chunk: bytes) -> list[EventMessage]:
        """Consume `chunk` and return the messages it completes."""
        self._buffer += chunk
        messages: list[EventMessage] = []
        buffer = self._buffer
        while len(buffer) >= PRELUDE:
            total, headers_length = _PRELUDE.unpack_from(buffer)
            (prelude_crc,) = _U32.unpack_from(buffer, 8)
            if zlib.crc32(buffer[:8]) != prelude_crc:
                raise UpstreamProtocolError("event-stream prelude checksum mismatch")
            if headers_length > MAX_HEADERS or total - headers_length - PRELUDE - 4 > MAX_PAYLOAD:
                raise UpstreamProtocolError(f"event-stream message too large ({total} bytes)")
            if total < PRELUDE + 4 + headers_length:
                raise UpstreamProtocolError(f"event-stream message length {total} is impossible")
            if len(buffer) < total:
                break
            (message_crc,) = _U32.unpack_from(buffer, total - 4)
            if zlib.crc32(memoryview(buffer)[: total - 4]) != message_crc:
                raise UpstreamProtocolError("event-stream message checksum mismatch")
            headers = _headers(bytes(buffer[PRELUDE : PRELUDE + headers_length]))
            payload = bytes(buffer[PRELUDE + headers_length : total - 4])
            messages.append(EventMessage(headers, payload))
            del buffer[:total]
        return messages


def _header(name: str, value: str | bytes | bool | int) -> bytes:
    key = name.encode()
    head = struct.pack(">B", len(key)) + key
    if isinstance(value, bool):
        return head + (b"\x00" if value else b"\x01")
    if isinstance(value, int):
        return head + b"\x04" + struct.pack(">i", value)
    raw = value.encode() if isinstance(value, str) else value
    return head + (b"\x07" if isinstance(value, str) else b"\x06") + struct.pack(">H", len(raw)) + raw


def encode_message(headers: Mapping[str, str | bytes | bool | int], payload: bytes) -> bytes:
    """One framed message (string, bytes, bool and int32 headers)."""
    encoded = b"".join(_header(k, v) for k, v in headers.items())
    prelude = _PRELUDE.pack(PRELUDE + len(encoded) + len(payload) + 4, len(encoded))
    prelude += _U32.pack(zlib.crc32(prelude))
    message = prelude + encoded + payload
    return message + _U32.pack(zlib.crc32(message))
