"""Throughput of the OpenAI Chat stream codec: provider chunks decoded to IR and re-encoded for a client.

Builds a long text-delta stream shaped like OpenAI's own (`usage: null`, `obfuscation`, ...),
then times, on one core: decoding (one SSE event per `feed`, as chunks usually arrive, and in
64 KiB reads), encoding the IR events for a client, and both together. Prints chunks per
second; nothing is asserted. Run: `.venv/bin/python bench/openai_stream_codec.py [chunks]`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import orjson

from modelrouter import ir
from modelrouter.protocols.openai_chat import StreamDecoder, StreamEncoder

WORDS = ["The", " capital", " of", " the", " United", " Kingdom", " is", " London", ",", " a", " city", "."]


def provider_stream(chunks: int) -> list[bytes]:
    """One SSE event per element: a role chunk, `chunks` text deltas, the finish, usage and [DONE]."""
    meta = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1782955818,
        "model": "gpt-5.2",
    }

    def frame(delta: dict[str, object], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        chunk = {
            **meta,
            "service_tier": "default",
            "choices": [choice],
            "usage": None,
            "obfuscation": "Jovwz5hY6J",
        }
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    events = [frame({"role": "assistant", "content": "", "refusal": None})]
    events.extend(frame({"content": WORDS[i % len(WORDS)]}) for i in range(chunks))
    events.append(frame({}, "stop"))
    usage = {"prompt_tokens": 20, "completion_tokens": chunks, "total_tokens": 20 + chunks}
    events.append(b"data: " + orjson.dumps({**meta, "choices": [], "usage": usage}) + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    return events


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of `runs` timings of `work`, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    chunks = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    frames = provider_stream(chunks)
    body = b"".join(frames)
    reads = [body[i : i + 65536] for i in range(0, len(body), 65536)]

    def decode(pieces: list[bytes]) -> list[ir.StreamEvent]:
        decoder = StreamDecoder()
        events: list[ir.StreamEvent] = []
        for piece in pieces:
            events.extend(decoder.feed(piece))
        events.extend(decoder.close())
        return events

    events = decode(frames)
    assert isinstance(events[-1], ir.StreamEnd), events[-1]

    def encode() -> None:
        encoder = StreamEncoder(include_usage=True, model="gpt-5.2")
        for event in events:
            encoder.encode(event)

    def translate() -> None:
        decoder = StreamDecoder()
        encoder = StreamEncoder(include_usage=True, model="gpt-5.2")
        for frame in frames:
            for event in decoder.feed(frame):
                encoder.encode(event)

    print(f"{chunks} text-delta chunks, {len(body) / 1e6:.1f} MB of provider SSE (best of 3, one core)")
    for label, work in [
        ("decode, one SSE event per feed", lambda: decode(frames)),
        ("decode, 64 KiB reads", lambda: decode(reads)),
        ("encode for the client", encode),
        ("decode + encode, end to end", translate),
    ]:
        seconds = best_of(3, work)
        print(f"  {label:34s} {chunks / seconds:>12,.0f} chunks/s  ({seconds * 1e6 / chunks:.2f} us/chunk)")


if __name__ == "__main__":
    main()
