"""The gateway as an ASGI application: routes, start-up and shutdown.

`Gateway` is a bare ASGI callable (any ASGI server runs it); `build_gateway(config)` wires
the engine, provider adapters, the shared upstream transport, health board, ledger and
metrics. Endpoints (SPEC section 5): the OpenAI and Anthropic chat doors, `/v1/models`,
`/v1/route`, `/healthz` and `/metrics`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from modelrouter import __version__
from modelrouter.config import Config, master_key, resolve
from modelrouter.engine import Engine
from modelrouter.errors import BadRequest, ModelRouterError
from modelrouter.gateway.admin import AdminAPI
from modelrouter.gateway.asgi import Receive, Scope, Send, read_body, respond
from modelrouter.gateway.auth import Gatekeeper
from modelrouter.gateway.chat import JSON, ChatHandler
from modelrouter.gateway.count_tokens import TokenCounter
from modelrouter.gateway.doors import DOORS, OPENAI
from modelrouter.gateway.metrics import Metrics
from modelrouter.gateway.openapi import openapi_document
from modelrouter.gateway.transport import Transport, provider_tls
from modelrouter.health import HealthBoard
from modelrouter.keys import KeyStore
from modelrouter.ledger import Ledger
from modelrouter.limits import Limiter, open_state
from modelrouter.redact import install_log_scrubbing, register_secrets
from modelrouter.routing.attempt import Adapter, Forwarder
from modelrouter.routing.select import Needs
from modelrouter.urlguard import check_provider_urls

__all__ = ["Gateway", "build_gateway"]

log = logging.getLogger(__name__)

ROUTE_BODY_LIMIT = 1 << 20
DRAIN_S = 2.0
"""How long shutdown waits for cancelled requests to end (each gives its client 1 s at most)."""
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Gateway:
    """The ASGI application."""

    engine: Engine
    chat: ChatHandler
    transport: Transport
    ledger: Ledger
    health: HealthBoard
    metrics: Metrics
    gate: Gatekeeper
    keys: KeyStore

    admin: AdminAPI
    count_tokens: TokenCounter

    def __post_init__(self) -> None:
        self._routes: dict[tuple[str, str], Handler] = {
            ("GET", "/v1/models"): self._models_route,
            ("POST", "/v1/route"): self._route_route,
            ("GET", "/healthz"): self._healthz_route,
            ("GET", "/metrics"): self._metrics_route,
            ("POST", "/v1/messages/count_tokens"): self.count_tokens,
            ("GET", "/openapi.json"): self._openapi_route,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch one ASGI connection by method and path."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        door = DOORS.get(path)
        if door is not None and method == "POST":
            await self.chat(scope, receive, send, door)
            return
        if path.startswith("/admin/"):
            await self.admin(scope, receive, send)
            return
        handler = self._routes.get((method, path))
        if handler is not None:
            await handler(scope, receive, send)
            return
        status = 405 if door is not None or path in _KNOWN else 404
        message = f"{method} {path} is not served here" if status == 404 else f"{path} does not take {method}"
        await respond(send, status, OPENAI.encode_error(status, "not_found_error", message), [JSON])

    async def _models_route(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await self._authenticated(scope, send):
            await self._json(send, 200, self._models())

    async def _route_route(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await self._authenticated(scope, send):
            await self._route(receive, send)

    async def _healthz_route(self, scope: Scope, receive: Receive, send: Send) -> None:
        health = self.healthz()
        await self._json(send, 200 if health["status"] != "down" else 503, health)

    async def _openapi_route(self, scope: Scope, receive: Receive, send: Send) -> None:
        await respond(send, 200, _OPENAPI, [JSON])

    async def _metrics_route(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self.metrics.render(self.health.states())
        await respond(send, 200, body, [("content-type", "text/plain; version=0.0.4; charset=utf-8")])

    async def _authenticated(self, scope: Scope, send: Send) -> bool:
        try:
            await self.gate.caller(scope)
        except ModelRouterError as exc:
            await self._error(send, exc)
            return False
        return True

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aclose(self) -> None:
        """Let requests in flight record their end, close upstream connections, flush the ledger.

        uvicorn sends the shutdown event as soon as it has cancelled the requests that outlived
        the grace period, while they are still ending (a last event to the client, then their
        final ledger rows): closing the ledger first could lose those rows.
        """
        if not await self.chat.drained(DRAIN_S):
            log.warning(
                "%d request(s) still running at shutdown; their rows may be left started", self.chat.in_flight
            )
        await self.transport.aclose()
        await self.chat.limiter.state.close()
        self.keys.close()
        flushed = await asyncio.to_thread(self.ledger.close, 10.0)
        if not flushed:
            log.error(
                "the ledger could not be flushed before exit; the journal keeps the rest for next start"
            )

    async def _json(self, send: Send, status: int, data: Any) -> None:
        await respond(send, status, orjson.dumps(data), [JSON])

    def _models(self) -> dict[str, Any]:
        """The OpenAI list shape, with modelrouter's details alongside."""
        catalog = self.engine.catalog
        data = []
        for model in catalog.models.values():
            data.append(
                {
                    "id": model.id,
                    "object": "model",
                    "created": 0,
                    "owned_by": model.maker,
                    "lifecycle": model.lifecycle.effective(catalog.today),
                    "replacement": model.lifecycle.replacement,
                    "providers": sorted({e.provider.id for e in catalog.by_model[model.id]}),
                }
            )
        return {"object": "list", "data": data}

    async def _route(self, receive: Receive, send: Send) -> None:
        """`POST /v1/route`: the `route --format json` explanation for a model and policy."""
        try:
            body = orjson.loads(await read_body(receive, ROUTE_BODY_LIMIT))
            if not isinstance(body, dict) or not isinstance(body.get("model"), str):
                raise BadRequest('the body must be {"model": NAME, "route": POLICY, "input_tokens": N}')
            needs = Needs(body.get("input_tokens"), body.get("max_tokens"))
            decision = self.engine.route(body["model"], body.get("route") or body.get("policy"), needs=needs)
            await self._json(send, 200, decision.to_json())
        except orjson.JSONDecodeError as exc:
            await self._error(send, BadRequest(f"request body is not valid JSON: {exc}"))
        except ModelRouterError as exc:
            await self._error(send, exc)

    async def _error(self, send: Send, exc: ModelRouterError) -> None:
        await respond(send, exc.status, OPENAI.encode_error(exc.status, exc.kind, exc.message), [JSON])

    def healthz(self) -> dict[str, Any]:
        """Liveness and what is degraded: the ledger's journal and database, open breakers.

        `down` (HTTP 503) while the ledger's journal cannot be written: billable requests are
        refused then, so a load balancer should send them elsewhere. Each call retries the
        journal, so the instance comes back as soon as the disk has room again.
        """
        self.ledger.retry()
        breakers = self.health.states()
        journal, error = self.ledger.journal_error, self.ledger.error
        ledger = {
            "depth_bytes": self.ledger.depth,
            "error": error,
            "journal_error": journal,
            "waiting_rows": self.ledger.waiting,
        }
        degraded = [f"ledger: {journal}; billable requests are refused"] if journal else []
        if error:
            degraded.append(f"ledger: {error}")
        if self.chat.limiter.state.degraded:
            degraded.append(self.chat.limiter.state.degraded)
        degraded += [f"breaker open: {o}" for o, s in breakers.items() if s == "open"]
        return {
            "status": "down" if journal else "degraded" if degraded else "ok",
            "degraded": degraded,
            "load": {"in_flight": self.chat.in_flight, "tasks": _tasks()},
            "ledger": ledger,
            "breakers": breakers,
            "providers": {p: self.engine.readiness.has_credentials(p) for p in self.engine.catalog.providers},
        }


def _tasks() -> int | None:
    """Asyncio tasks alive in this worker (requests, streams, background work).

    Back to its baseline after a load, or something was left behind.
    """
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:  # no running loop (health read from outside the server)
        return None


_SECRET_NAME = re.compile(r"(api_?key|secret|token|password|credential|master_?key)", re.IGNORECASE)


def config_secrets(config: Config, env: Mapping[str, str]) -> list[str]:
    """Every credential the gateway may hold, to keep out of what it writes.

    Provider settings with secret-sounding names, the master key, the key-hashing secret, the
    passwords in the store and state URLs, and environment variables a provider may read its
    credentials from.
    """
    found: list[str] = []
    for section in config.providers.values():
        for name in section.settings:
            if _SECRET_NAME.search(name):
                value = section.setting(name)
                if isinstance(value, str):
                    found.append(value)
    found += [master_key(config, env) or "", resolve(config.server.key_secret) or ""]
    for url in (config.store, config.state):  # postgresql://user:PASSWORD@…, redis://:PASSWORD@…
        password = urlsplit(url).password
        found += [password, unquote(password)] if password else []
    found += [value for name, value in env.items() if _SECRET_NAME.search(name)]
    return found


_KNOWN = frozenset(
    {
        "/v1/models",
        "/v1/route",
        "/healthz",
        "/metrics",
        "/admin/keys",
        "/admin/usage",
        "/v1/messages/count_tokens",
        "/openapi.json",
    }
)
_OPENAPI = orjson.dumps(openapi_document(__version__))


def build_gateway(
    config: Config,
    *,
    env: Mapping[str, str] | None = None,
    providers: Mapping[str, Adapter] | None = None,
    transport: Transport | None = None,
    now: datetime | None = None,
) -> Gateway:
    """A gateway for `config`: catalog, adapters, transport, health, ledger and metrics.

    `now` is the instant lifecycles are judged at (default: the clock at start-up).
    """
    register_secrets(config_secrets(config, os.environ if env is None else env))
    check_provider_urls(config)
    install_log_scrubbing()
    health = HealthBoard()
    engine = Engine(config, env=env, health=health, now=now)
    if providers is None:
        from modelrouter.providers import load_all

        providers = load_all(engine.catalog, config, env)
    adapters = providers
    transport = transport or Transport(tls=provider_tls(config))
    ledger = Ledger(config.store, total_deadline_s=config.timeouts.total, ingest_in="process")
    keys = KeyStore(config.store, secret=resolve(config.server.key_secret))
    register_secrets([keys.secret])
    gate = Gatekeeper(master_key(config, env), keys)
    limiter = Limiter(open_state(config.state), keys)
    metrics = Metrics()
    forwarder = Forwarder(adapters, transport, health)
    chat = ChatHandler(engine, forwarder, ledger, metrics, gate, limiter)
    admin = AdminAPI(config, gate, keys)
    counter = TokenCounter(engine, dict(adapters), transport, gate, config.timeouts, chat.body_limit)
    return Gateway(engine, chat, transport, ledger, health, metrics, gate, keys, admin, counter)
