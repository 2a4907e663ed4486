"""Stream translation throughput: Anthropic SSE -> OpenAI SSE and OpenAI SSE -> Anthropic SSE.

What the gateway does per chunk when an OpenAI client talks to Claude (and the reverse): decode
the provider's bytes to IR events, encode them in the client's dialect. Each network chunk
holds one SSE event, as providers send them. Prints text-delta chunks per second on one core
(the issue's target: 200,000); run `python bench/translate_stream.py [N]`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import orjson

from modelrouter.protocols import anthropic_messages, openai_chat

WORDS = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".", "\n", " é"]


def anthropic_chunks(n: int) -> list[bytes]:
    """An Anthropic text answer of `n` deltas, one SSE event per chunk."""

    def event(data: dict[str, object]) -> bytes:
        return f"event: {data['type']}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"

    message: dict[str, object] = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 1},
    }
    out = [
        event({"type": "message_start", "message": message}),
        event({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ]
    out += [
        event(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": WORDS[i % len(WORDS)]},
            }
        )
        for i in range(n)
    ]
    out += [
        event({"type": "content_block_stop", "index": 0}),
        event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": n},
            }
        ),
        event({"type": "message_stop"}),
    ]
    return out


def openai_chunks(n: int) -> list[bytes]:
    """An OpenAI text answer of `n` deltas, one SSE event per chunk."""

    def chunk(delta: dict[str, object], finish: str | None = None) -> bytes:
        body = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return b"data: " + orjson.dumps(body) + b"\n\n"

    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": WORDS[i % len(WORDS)]}) for i in range(n)]
    return [*out, chunk({}, "stop"), b"data: [DONE]\n\n"]


def translate(chunks: list[bytes], decoder: object, encoder: object) -> int:
    feed: Callable[[bytes], list[object]] = decoder.feed  # type: ignore[attr-defined]
    encode: Callable[[object], bytes] = encoder.encode  # type: ignore[attr-defined]
    size = 0
    for chunk in chunks:
        for event in feed(chunk):
            size += len(encode(event))
    return size


def best_of(runs: int, work: Callable[[], int]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    a_chunks, o_chunks = anthropic_chunks(n), openai_chunks(n)
    a_to_o = best_of(
        5,
        lambda: translate(
            a_chunks,
            anthropic_messages.StreamDecoder(),
            openai_chat.StreamEncoder(include_usage=True, model="m", created=1),
        ),
    )
    o_to_a = best_of(
        5,
        lambda: translate(o_chunks, openai_chat.StreamDecoder(), anthropic_messages.StreamEncoder(model="m")),
    )
    print(f"{n:,} text-delta chunks, one SSE event per chunk, best of 5, one core")
    for label, seconds in (
        ("Anthropic stream -> OpenAI stream", a_to_o),
        ("OpenAI stream -> Anthropic stream", o_to_a),
    ):
        print(f"  {label}: {n / seconds:>10,.0f} chunks/s  ({seconds / n * 1e6:.2f} µs/chunk)")


if __name__ == "__main__":
    main()
