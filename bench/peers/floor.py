"""The floor: the least a Python gateway can do (aiohttp server and client, uvloop), nothing more.

Reads the body, picks the upstream by `model`, forwards it on a pooled keep-alive connection
and relays the answer (SSE chunk by chunk). No auth, no ledger, no retries, no translation:
what any Python proxy costs on this machine, the yardstick of issue 6's targets.

    python bench/peers/floor.py PORT UPSTREAM_BASE   (UPSTREAM_BASE: http://127.0.0.1:P)
"""

from __future__ import annotations

import sys

import aiohttp
import orjson
import uvloop
from aiohttp import web

ROUTES = {
    "gpt-4o-mini": "/openai/v1/chat/completions",
    "gpt-4o-mini-stream": "/openai-stream/v1/chat/completions",
    "gpt-4o-mini-paced": "/openai-paced/v1/chat/completions",
    "gpt-4o-mini-slow": "/openai-slow/v1/chat/completions",
}


async def chat(request: web.Request) -> web.StreamResponse:
    raw = await request.read()
    try:
        body = orjson.loads(raw)
        path = ROUTES[body["model"]]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return web.json_response({"error": {"message": "unknown model"}}, status=400)
    session: aiohttp.ClientSession = request.app["session"]
    headers = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}
    async with session.post(request.app["base"] + path, data=raw, headers=headers) as upstream:
        if not body.get("stream"):
            return web.Response(
                body=await upstream.read(), status=upstream.status, content_type="application/json"
            )
        response = web.StreamResponse(status=upstream.status, headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)
        await response.write_eof()
        return response


async def app(base: str) -> web.Application:
    application = web.Application()
    application["base"] = base
    application.router.add_post("/v1/chat/completions", chat)

    async def session(application: web.Application):  # type: ignore[no-untyped-def]
        application["session"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        yield
        await application["session"].close()

    application.cleanup_ctx.append(session)
    return application


if __name__ == "__main__":
    uvloop.install()
    web.run_app(app(sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
