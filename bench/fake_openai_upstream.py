"""A minimal OpenAI-compatible upstream for benchmarks: fixed answers, no work per request.

`python bench/fake_openai_upstream.py PORT` serves `POST /v1/chat/completions` on 127.0.0.1:
a plain completion, or (with `"stream": true`) a 22-chunk SSE stream with a usage chunk.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from aiohttp import web

MODEL = "gpt-4o-mini"


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


ANSWER = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello there, how can I help?"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20},
    }
).encode()
USAGE = {"prompt_tokens": 12, "completion_tokens": 20, "total_tokens": 32}
STREAM = (
    _chunk({"role": "assistant", "content": ""})
    + _chunk({"content": "hi "}) * 20
    + _chunk({}, "stop")
    + b"data: "
    + json.dumps(
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": MODEL,
            "choices": [],
            "usage": USAGE,
        }
    ).encode()
    + b"\n\ndata: [DONE]\n\n"
)


async def chat(request: web.Request) -> web.Response:
    """The fixed answer, streamed or not as asked."""
    body = await request.json()
    if body.get("stream"):
        return web.Response(body=STREAM, content_type="text/event-stream")
    return web.Response(body=ANSWER, content_type="application/json")


def main() -> None:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
