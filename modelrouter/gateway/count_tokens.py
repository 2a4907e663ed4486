"""`POST /v1/messages/count_tokens`: what Claude Code asks before it sends a long prompt.

The body is an Anthropic Messages request (without `max_tokens`). The model is routed as a
chat request would be; when the first ready offering's adapter has a counting endpoint
(`count_tokens_url`: Anthropic's), that answers (exact, free). Otherwise the answer is the
gateway's estimate of the prompt (the one routing uses for context fit), and the response says
so in `x-modelrouter-token-count: estimated`. Errors come in Anthropic's shape.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson

from modelrouter.catalog.catalog import Entry
from modelrouter.config import Timeouts
from modelrouter.engine import Engine
from modelrouter.errors import BadRequest, ModelRouterError
from modelrouter.gateway.asgi import Receive, Scope, Send, header, read_body, respond
from modelrouter.gateway.auth import Gatekeeper
from modelrouter.gateway.doors import ANTHROPIC
from modelrouter.gateway.needs import estimate_input_tokens, needs_of
from modelrouter.gateway.transport import Deadlines, Transport
from modelrouter.ir import Request
from modelrouter.routing.attempt import Adapter

__all__ = ["TokenCounter"]

log = logging.getLogger(__name__)

JSON = ("content-type", "application/json")
COUNT_FIELDS = frozenset({"model", "messages", "system", "tools", "tool_choice", "thinking"})
"""What Anthropic's counting endpoint takes of a Messages body."""
COUNT_TIMEOUT_S = 10.0


class TokenCounter:
    """Serves the token-counting endpoint."""

    def __init__(
        self,
        engine: Engine,
        providers: dict[str, Adapter],
        transport: Transport,
        gate: Gatekeeper,
        timeouts: Timeouts,
        body_limit: int,
    ) -> None:
        self.engine = engine
        self.providers = providers
        self.transport = transport
        self.gate = gate
        self.timeouts = timeouts
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count, or estimate, the prompt's input tokens."""
        try:
            await self.gate.caller(scope)
            request = self._decode(await read_body(receive, self.body_limit))
            policy = self.engine.effective_policy(
                header(scope, b"x-modelrouter-policy"), request.extra.get("route")
            )
            decision = self.engine.router.route(request.model, policy, needs_of(request))
            for entry in decision.attempt_order[:1]:
                url = getattr(self.providers[entry.provider.id], "count_tokens_url", lambda _: None)(entry)
                if url is not None and entry.protocol == "anthropic_messages":
                    counted = await self._ask(entry, request, url)
                    if counted is not None:
                        await respond(send, 200, counted, [JSON, ("x-modelrouter-token-count", "provider")])
                        return
            body = orjson.dumps({"input_tokens": estimate_input_tokens(request)})
            await respond(send, 200, body, [JSON, ("x-modelrouter-token-count", "estimated")])
        except ModelRouterError as exc:
            await respond(send, exc.status, ANTHROPIC.encode_error(exc.status, exc.kind, exc.message), [JSON])

    def _decode(self, body: bytes) -> Request:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"request body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise BadRequest("the body must be a JSON object (an Anthropic Messages request)")
        data.setdefault("max_tokens", 1)  # counting takes none; the Messages decoder wants one
        return ANTHROPIC.decode(orjson.dumps(data))

    async def _ask(self, entry: Entry, request: Request, url: str) -> bytes | None:
        """The provider's own count, or None when it could not be had (the estimate stands in)."""
        adapter = self.providers[entry.provider.id]
        try:
            encoded: dict[str, Any] = orjson.loads(adapter.encode(request, entry))
            body = orjson.dumps({k: v for k, v in encoded.items() if k in COUNT_FIELDS})
            call = await adapter.authorize(adapter.prepare(entry, body, stream=False))
            call.url = url
            loop = asyncio.get_running_loop()
            deadlines = Deadlines(
                connect=self.timeouts.connect,
                first_byte=COUNT_TIMEOUT_S,
                idle=COUNT_TIMEOUT_S,
                total_at=loop.time() + COUNT_TIMEOUT_S,
            )
            upstream = await self.transport.open(call, deadlines, entry.provider.id)
            try:
                answer = await upstream.read()
            finally:
                upstream.close()
            if upstream.status != 200 or not isinstance(orjson.loads(answer).get("input_tokens"), int):
                raise ValueError(f"status {upstream.status}")
        except (ModelRouterError, ValueError, orjson.JSONDecodeError, AttributeError) as exc:
            log.info("%s token count unavailable (%s); answering with the estimate", entry.provider.id, exc)
            return None
        return answer
