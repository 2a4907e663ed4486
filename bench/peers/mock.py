"""The bench's fake upstream: an nginx config answering like OpenAI and Anthropic, at no cost.

nginx (with the echo module for paced streams) is never the bottleneck: it answers a fixed
body in microseconds of C, so what a gateway adds is all that differs between targets.
Routes (POST; the request body is read and ignored):

    /openai/v1/chat/completions          chat.completion JSON
    /openai-stream/v1/chat/completions   SSE, role chunk + 20 content chunks + stop + usage + [DONE], at once
    /openai-paced/v1/chat/completions    the same SSE, one chunk every 5 ms (time to first token)
    /openai-slow/v1/chat/completions     50 content chunks, one every 250 ms (thousands of open streams)
    /anthropic/v1/messages               Anthropic message JSON
    /anthropic-stream/v1/messages        Anthropic SSE (message_start ... message_stop), at once
    /anthropic-paced/v1/messages         the same, one event every 5 ms
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ECHO_MODULE = Path("/usr/share/nginx/modules/ngx_http_echo_module.so")
TEXT = "Hello from the bench mock."
SLOW_PACE_S = 0.25
SLOW_CHUNKS = 50


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def openai_completion() -> str:
    return _json(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "gpt-4o-mini",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": TEXT}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
        }
    )


def openai_events(chunks: int) -> list[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> str:
        body: dict[str, Any] = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if usage is None else [],
        }
        if usage is not None:
            body["usage"] = usage
        return "data: " + _json(body) + "\n\n"

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": f"tok{i} "}) for i in range(chunks)]
    events.append(chunk({}, "stop"))
    events.append(
        chunk({}, usage={"prompt_tokens": 12, "completion_tokens": chunks, "total_tokens": 12 + chunks})
    )
    events.append("data: [DONE]\n\n")
    return events


def anthropic_message() -> str:
    return _json(
        {
            "id": "msg_bench",
            "type": "message",
            "role": "assistant",
            "model": "claude-bench",
            "content": [{"type": "text", "text": TEXT}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 12, "output_tokens": 7},
        }
    )


def anthropic_events(chunks: int) -> list[str]:
    def event(name: str, data: dict[str, Any]) -> str:
        return f"event: {name}\ndata: {_json({'type': name, **data})}\n\n"

    start: dict[str, Any] = {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": "claude-bench",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 1},
    }
    events = [
        event("message_start", {"message": start}),
        event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
    ]
    events += [
        event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": f"tok{i} "}})
        for i in range(chunks)
    ]
    events += [
        event("content_block_stop", {"index": 0}),
        event(
            "message_delta",
            {"delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": chunks}},
        ),
        event("message_stop", {}),
    ]
    return events


def _quote(text: str) -> str:
    """A single-quoted nginx string (the bodies hold no `$`, so nothing is expanded)."""
    assert "$" not in text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def _paced(path: str, events: list[str], pace_s: float) -> str:
    lines = []
    for number, text in enumerate(events):
        lines.append(f"            echo -n {_quote(text)};")
        lines.append("            echo_flush;")
        if number < len(events) - 1:
            lines.append(f"            echo_sleep {pace_s:.3f};")
    body = "\n".join(lines)
    return f"""
        location = {path} {{
            default_type text/event-stream;
            echo_read_request_body;
{body}
        }}"""


def _static(path: str, file: str) -> str:
    # nginx's static handler refuses POST with 405; error_page turns that into the file, 200
    return f"""
        location = {path} {{
            error_page 405 =200 /__{file};
        }}
        location = /__{file} {{
            internal;
            default_type text/event-stream;
        }}"""


def write_config(directory: Path, port: int, slow_pace_s: float = SLOW_PACE_S) -> Path:
    """Write nginx.conf and its files under `directory`; the config's path."""
    for sub in ("logs", "tmp", "www"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    for path, text in (
        ("__openai.sse", "".join(openai_events(20))),
        ("__anthropic.sse", "".join(anthropic_events(20))),
        # the static handler looks for the file before it refuses the POST
        ("openai-stream/v1/chat/completions", ""),
        ("anthropic-stream/v1/messages", ""),
    ):
        (directory / "www" / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / "www" / path).write_text(text)
    routes = "".join(
        (
            _static("/openai-stream/v1/chat/completions", "openai.sse"),
            _static("/anthropic-stream/v1/messages", "anthropic.sse"),
            _paced("/openai-paced/v1/chat/completions", openai_events(20), 0.005),
            _paced("/openai-slow/v1/chat/completions", openai_events(SLOW_CHUNKS), slow_pace_s),
            _paced("/anthropic-paced/v1/messages", anthropic_events(20), 0.005),
        )
    )
    config = f"""# written by bench/peers/mock.py
load_module {ECHO_MODULE};
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/logs/error.log warn;
daemon off;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {directory}/tmp/body;
    proxy_temp_path {directory}/tmp/proxy;
    fastcgi_temp_path {directory}/tmp/fastcgi;
    uwsgi_temp_path {directory}/tmp/uwsgi;
    scgi_temp_path {directory}/tmp/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 75s;
    client_body_buffer_size 1m;
    tcp_nodelay on;
    root {directory}/www;
    server {{
        listen 127.0.0.1:{port} backlog=8192;
        location = /healthz {{ return 200 'ok'; }}
        location = /openai/v1/chat/completions {{
            default_type application/json;
            return 200 {_quote(openai_completion())};
        }}
        location = /anthropic/v1/messages {{
            default_type application/json;
            return 200 {_quote(anthropic_message())};
        }}{routes}
        location / {{ return 404; }}
    }}
}}
"""
    config_path = directory / "nginx.conf"
    config_path.write_text(config)
    return config_path
