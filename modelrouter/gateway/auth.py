"""Who is calling: the master key, a virtual key, or nobody (open, loopback-only mode).

Keys arrive as `Authorization: Bearer KEY` or `x-api-key: KEY`. The master key is compared
in constant time; virtual keys are looked up by their keyed hash and cached for
`CACHE_TTL_S`, which bounds how long a revocation takes to reach every instance. With no
master key and no usable virtual key, nothing is required (the server then listens on
loopback only); as soon as either exists, every `/v1` request must carry a key.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import NamedTuple

from modelrouter.errors import AuthenticationRequired, Forbidden
from modelrouter.gateway.asgi import Scope, header
from modelrouter.keys import KeyRecord, KeyStore

__all__ = ["CACHE_TTL_S", "Caller", "Gatekeeper"]

CACHE_TTL_S = 2.0


class Caller(NamedTuple):
    """The authenticated caller: `master`, `key` (with its record) or `open` (no auth configured).

    A named tuple: one is built per keyed request (a frozen dataclass costs twice as much).
    """

    kind: str
    key: KeyRecord | None = None

    @property
    def key_id(self) -> str | None:
        """The virtual key's id, for the ledger."""
        return self.key.key_id if self.key else None


OPEN = Caller("open")
MASTER = Caller("master")


def presented_key(scope: Scope) -> str | None:
    """The key in `Authorization: Bearer` or `x-api-key`, if any."""
    authorization = header(scope, b"authorization")
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return header(scope, b"x-api-key") or None


class Gatekeeper:
    """Authenticates callers against the master key and the key store, with a short cache."""

    def __init__(self, master_key: str | None, keys: KeyStore | None) -> None:
        self.master_key = master_key
        self.keys = keys
        self._cache: dict[str, tuple[float, KeyRecord | None]] = {}
        self._any_keys: tuple[float, bool] = (-CACHE_TTL_S, False)

    async def auth_required(self) -> bool:
        """Whether requests must carry a key (a master key, or any usable virtual key)."""
        if self.master_key:
            return True
        if self.keys is None:
            return False
        checked_at, found = self._any_keys
        if time.monotonic() - checked_at > CACHE_TTL_S:
            found = await asyncio.to_thread(self.keys.count_usable) > 0
            self._any_keys = (time.monotonic(), found)
        return found

    async def _lookup(self, key: str) -> KeyRecord | None:
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < CACHE_TTL_S:
            return cached[1]
        assert self.keys is not None
        record = await asyncio.to_thread(self.keys.lookup, key)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (time.monotonic(), record)
        return record

    async def caller(self, scope: Scope) -> Caller:
        """The caller of a `/v1` request; `AuthenticationRequired` when the key is missing or bad."""
        key = presented_key(scope)
        if (
            key is not None
            and self.master_key
            and hmac.compare_digest(key.encode(), self.master_key.encode())
        ):
            return MASTER
        if key is None:
            if await self.auth_required():
                raise AuthenticationRequired(
                    "this gateway needs a key: send it as `Authorization: Bearer KEY` or `x-api-key: KEY` "
                    "(`modelrouter keys create` makes one)"
                )
            return OPEN
        record = await self._lookup(key) if self.keys is not None else None
        if record is None:
            if not await self.auth_required():
                return OPEN  # no auth configured: a client's leftover key is not an error
            raise AuthenticationRequired("the key is not known to this gateway")
        refusal = record.refusal()
        if refusal is not None:
            raise AuthenticationRequired(refusal)
        return Caller("key", record)

    async def admin(self, scope: Scope) -> None:
        """Allow the admin API to the master key only."""
        if not self.master_key:
            raise Forbidden(
                "the admin API needs a master key: set server.master_key or MODELROUTER_MASTER_KEY"
            )
        key = presented_key(scope)
        if key is None:
            raise AuthenticationRequired(
                "the admin API needs the master key: send it as `Authorization: Bearer KEY`"
            )
        if not hmac.compare_digest(key.encode(), self.master_key.encode()):
            raise Forbidden("the admin API takes the master key only")
