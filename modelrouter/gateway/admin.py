"""The admin API, for the master key only: keys (create, list, revoke) and usage reports.

`GET /admin/keys`, `POST /admin/keys` (JSON fields as `modelrouter keys create`; answers 201
with the key, shown this once), `DELETE /admin/keys/{id, name or prefix}`, and
`GET /admin/usage?since=&until=&group_by=&records=true` (the `modelrouter usage` report).
Virtual keys never reach these routes. Answers and errors are OpenAI-shaped JSON.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

import orjson

from modelrouter.config import Config
from modelrouter.errors import BadRequest, ModelNotFound, ModelRouterError
from modelrouter.gateway.asgi import Receive, Scope, Send, read_body, respond
from modelrouter.gateway.auth import Gatekeeper
from modelrouter.gateway.doors import OPENAI
from modelrouter.keys import KeyStore, period_start
from modelrouter.keys.fields import describe, key_spec, parse_when
from modelrouter.ledger.usage import usage_report

__all__ = ["AdminAPI"]

JSON = ("content-type", "application/json")
BODY_LIMIT = 64 * 1024


class AdminAPI:
    """Serves `/admin/...`."""

    def __init__(self, config: Config, gate: Gatekeeper, keys: KeyStore) -> None:
        self.config = config
        self.gate = gate
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate as the master key, then dispatch."""
        try:
            await self.gate.admin(scope)
            status, data = await self._dispatch(scope, receive)
        except ModelRouterError as exc:
            await respond(send, exc.status, OPENAI.encode_error(exc.status, exc.kind, exc.message), [JSON])
            return
        await respond(send, status, orjson.dumps(data), [JSON])

    ROUTES: tuple[tuple[str, str], ...] = (
        ("GET", "/admin/keys"),
        ("POST", "/admin/keys"),
        ("DELETE", "/admin/keys/{ref}"),
        ("GET", "/admin/usage"),
    )
    """Every admin route (tests walk this list: each must refuse all but the master key)."""

    async def _dispatch(self, scope: Scope, receive: Receive) -> tuple[int, Any]:
        method, path = scope["method"], scope["path"]
        if path == "/admin/keys" and method == "GET":
            return 200, await asyncio.to_thread(self._list)
        if path == "/admin/keys" and method == "POST":
            return 201, await self._create(receive)
        if path.startswith("/admin/keys/") and method == "DELETE":
            ref = unquote(path[len("/admin/keys/") :])
            record = await asyncio.to_thread(self.keys.revoke, ref)
            return 200, record.to_json()
        if path == "/admin/usage" and method == "GET":
            return 200, await asyncio.to_thread(self._usage, scope)
        raise ModelNotFound(f"{method} {path} is not an admin route (keys, usage)")

    def _list(self) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        return [
            describe(r, self.keys.spent_micro_usd(r.key_id, period_start(r.budget_period, now)), now)
            for r in self.keys.all()
        ]

    async def _create(self, receive: Receive) -> dict[str, Any]:
        try:
            fields = orjson.loads(await read_body(receive, BODY_LIMIT))
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"the body is not JSON: {exc}") from exc
        if not isinstance(fields, dict):
            raise BadRequest("the body must be a JSON object of key fields")
        spec = key_spec(self.config, fields)
        key, record = await asyncio.to_thread(self.keys.create, spec)
        return {"key": key, **record.to_json()}

    def _usage(self, scope: Scope) -> dict[str, Any]:
        query = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()}
        unknown = set(query) - {"since", "until", "group_by", "records"}
        if unknown:
            raise BadRequest(
                f"unknown parameter(s) {', '.join(sorted(unknown))}; use since, until, group_by, records"
            )
        return usage_report(
            self.keys.db,
            since=parse_when(query.get("since")),
            until=parse_when(query.get("until")),
            group_by=query.get("group_by"),
            key_names={r.key_id: r.name for r in self.keys.all()},
            records=query.get("records", "").lower() in ("1", "true", "yes"),
        )
