"""Throughput of the Anthropic stream codec: text-delta chunks per second, decode, encode and both.

Builds one long Anthropic SSE answer (message_start, one text block of N `text_delta` events,
message_delta, message_stop), then times `StreamDecoder` (fed one SSE event per network chunk,
and in 16 KiB reads), `StreamEncoder`, and the two chained as the gateway runs them for an
Anthropic-to-Anthropic stream through the IR. Prints only; run `python bench/anthropic_stream_codec.py [N]`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from modelrouter import ir
from modelrouter.protocols.anthropic_messages import StreamDecoder, StreamEncoder

WORDS = [
    "The",
    " quick",
    " brown",
    " fox",
    " jumps",
    " over",
    " the",
    " lazy",
    " dog",
    ".",
    "\n",
    " é",
    " 😀",
]


def build_events(n: int) -> list[ir.StreamEvent]:
    events: list[ir.StreamEvent] = [
        ir.StreamStart(id="msg_bench", model="claude-bench", usage=ir.Usage(input_tokens=1200)),
        ir.PartStart(index=0, part=ir.TextPart(text="")),
    ]
    events += [ir.TextDelta(index=0, text=WORDS[i % len(WORDS)]) for i in range(n)]
    events += [
        ir.PartStop(index=0),
        ir.StreamEnd(stop_reason="end_turn", usage=ir.Usage(input_tokens=1200, output_tokens=n)),
    ]
    return events


def encode_chunks(events: list[ir.StreamEvent]) -> list[bytes]:
    encoder = StreamEncoder("claude-bench")
    return [chunk for chunk in map(encoder.encode, events) if chunk]


def decode(chunks: list[bytes]) -> int:
    decoder = StreamDecoder()
    count = sum(len(decoder.feed(chunk)) for chunk in chunks)
    return count + len(decoder.close())


def encode(events: list[ir.StreamEvent]) -> int:
    encoder = StreamEncoder("claude-bench")
    return sum(len(encoder.encode(event)) for event in events)


def relay(chunks: list[bytes]) -> int:
    decoder, encoder = StreamDecoder(), StreamEncoder("claude-gateway")
    size = 0
    for chunk in chunks:
        for event in decoder.feed(chunk):
            size += len(encoder.encode(event))
    for event in decoder.close():
        size += len(encoder.encode(event))
    return size


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    events = build_events(n)
    per_event = encode_chunks(events)
    wire = b"".join(per_event)
    reads = [wire[i : i + 16384] for i in range(0, len(wire), 16384)]
    print(f"{n} text deltas, {len(wire) / 1e6:.1f} MB of SSE, best of 5 runs")
    for label, work in [
        ("decode  (one event per chunk)", lambda: decode(per_event)),
        ("decode  (16 KiB reads)", lambda: decode(reads)),
        ("encode", lambda: encode(events)),
        ("decode+encode (one event per chunk)", lambda: relay(per_event)),
        ("decode+encode (16 KiB reads)", lambda: relay(reads)),
    ]:
        seconds = best_of(5, work)
        print(f"  {label:38s} {n / seconds:>12,.0f} chunks/s  ({seconds * 1e6 / n:.2f} us/chunk)")


if __name__ == "__main__":
    main()
