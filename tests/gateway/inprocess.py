"""The real gateway built in the test's own process, its ASGI app called directly.

For property tests that send thousands of requests: no server process, no sockets between
the client and the gateway (the gateway still reaches the fake upstream over real HTTP), so
an example costs a few milliseconds. Everything from the door to the ledger is the product's
own code, as `modelrouter serve` builds it (`build_gateway`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson

from modelrouter.config import Config
from modelrouter.gateway.app import Gateway, build_gateway
from tests.conftest import NOW

__all__ = ["InProcessGateway", "Reply"]


@dataclass
class Reply:
    """A whole response: status, headers (lower-case names) and the body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return orjson.loads(self.body)


class InProcessGateway:
    """A gateway and the event loop it runs on; `post` sends one request through it."""

    def __init__(self, config: dict[str, Any], env: dict[str, str] | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        # lifecycles judged as of the catalog's review, like the rest of the routing tests
        self.app: Gateway = build_gateway(Config.model_validate(config), env=env or {}, now=NOW)

    def post(self, path: str, body: dict[str, Any], headers: Iterable[tuple[str, str]] = ()) -> Reply:
        """POST `body` as JSON to `path` and wait for the whole answer (streams included)."""
        return self.loop.run_until_complete(self._post(path, orjson.dumps(body), list(headers)))

    async def _post(self, path: str, raw: bytes, headers: list[tuple[str, str]]) -> Reply:
        delivered = False
        answered = asyncio.Event()

        async def receive() -> MutableMapping[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": raw, "more_body": False}
            await answered.wait()  # the client stays until the answer is complete
            return {"type": "http.disconnect"}

        status, sent_headers, parts = 0, dict[str, str](), list[bytes]()

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                sent_headers.update((k.decode().lower(), v.decode()) for k, v in message["headers"])
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 4000),
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
                *((k.lower().encode(), v.encode()) for k, v in headers),
            ],
        }
        try:
            await self.app(scope, receive, send)
        finally:
            answered.set()
        return Reply(status, sent_headers, b"".join(parts))

    def close(self) -> None:
        """Close upstream connections, flush the ledger, close the loop."""
        try:
            self.loop.run_until_complete(self.app.aclose())
        finally:
            self.loop.close()
