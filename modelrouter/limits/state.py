"""Counters with expiry, checked and bumped atomically: in-process, or in Redis when shared.

`admit` takes a list of checks (counter, limit, amount, ttl) and either bumps every counter or
none, returning which check refused and how long its window still runs. Redis runs the same
logic as one Lua script, so two instances sharing a limit of 100 per minute admit 100.
Every Redis call has a short timeout; when Redis fails, `RedisState` falls back to
in-process counters (limits then hold per instance) and reports itself degraded until Redis
answers again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Check", "MemoryState", "RedisState", "Refusal", "State", "open_state"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Check:
    """Admit `amount` more on `counter` if that stays within `limit`; the counter lives `ttl_s`."""

    counter: str
    limit: int
    amount: int
    ttl_s: int
    seed: int | None = None
    """The counter's starting value when it does not exist yet (spend already in the ledger)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Which check refused, and in how many seconds its counter expires."""

    check: Check
    retry_after_s: float


class State(Protocol):
    """Where limit counters live."""

    degraded: str | None

    async def admit(self, checks: list[Check]) -> Refusal | None:
        """Bump every counter, or none and say which check refused."""

    async def adjust(self, counter: str, delta: int, ttl_s: int) -> None:
        """Add `delta` (may be negative) to an existing counter: settling a reservation."""

    async def close(self) -> None:
        """Release connections."""


class MemoryState:
    """Counters in this process (the default: one gateway process)."""

    degraded: str | None = None

    def __init__(self) -> None:
        self._counters: dict[str, tuple[int, float]] = {}

    def _current(self, check: Check, now: float) -> int:
        value, expires = self._counters.get(check.counter, (0, 0.0))
        if expires <= now:
            return check.seed or 0
        return value

    async def admit(self, checks: list[Check]) -> Refusal | None:
        """Check all, then bump all (no await in between: atomic on the event loop)."""
        now = time.monotonic()
        for check in checks:
            if self._current(check, now) + check.amount > check.limit:
                _, expires = self._counters.get(check.counter, (0, now + check.ttl_s))
                return Refusal(check, max(0.0, expires - now))
        for check in checks:
            value = self._current(check, now)
            expires = self._counters.get(check.counter, (0, 0.0))[1]
            if expires <= now:
                expires = now + check.ttl_s
            self._counters[check.counter] = (value + check.amount, expires)
        if len(self._counters) > 100_000:
            self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
        return None

    async def adjust(self, counter: str, delta: int, ttl_s: int) -> None:
        """Settle: only a counter still alive is adjusted (an expired window owes nothing)."""
        now = time.monotonic()
        value, expires = self._counters.get(counter, (0, 0.0))
        if expires > now:
            self._counters[counter] = (value + delta, expires)

    async def close(self) -> None:
        """Nothing to release."""


_ADMIT = """
for i = 1, #KEYS do
    local limit = tonumber(ARGV[(i - 1) * 4 + 1])
    local amount = tonumber(ARGV[(i - 1) * 4 + 2])
    local seed = tonumber(ARGV[(i - 1) * 4 + 4])
    local current = tonumber(redis.call('GET', KEYS[i]) or seed)
    if current + amount > limit then
        local ttl = redis.call('PTTL', KEYS[i])
        if ttl < 0 then ttl = tonumber(ARGV[(i - 1) * 4 + 3]) * 1000 end
        return {i, ttl}
    end
end
for i = 1, #KEYS do
    local amount = tonumber(ARGV[(i - 1) * 4 + 2])
    local ttl = tonumber(ARGV[(i - 1) * 4 + 3])
    local seed = tonumber(ARGV[(i - 1) * 4 + 4])
    if redis.call('EXISTS', KEYS[i]) == 0 then
        redis.call('SET', KEYS[i], seed + amount, 'EX', ttl)
    else
        redis.call('INCRBY', KEYS[i], amount)
    end
end
return {0, 0}
"""

_ADJUST = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return 0
"""


class RedisState:
    """Counters in Redis, shared by every gateway instance and worker."""

    RETRY_AFTER_FAILURE_S = 5.0

    MAX_CONNECTIONS = 16
    """Per instance; a burst of requests queues for a connection rather than opening hundreds."""

    def __init__(self, url: str, *, timeout_s: float = 0.5) -> None:
        import redis.asyncio as aioredis

        self.url = url
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=self.MAX_CONNECTIONS,
            timeout=timeout_s,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
        )
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No retries: a slow Redis must not slow requests down; the fallback takes over instead.
        self._pool: Any = pool
        self._redis: Any = aioredis.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))
        self._admit = self._redis.register_script(_ADMIT)
        self._adjust = self._redis.register_script(_ADJUST)
        self._fallback = MemoryState()
        self._failed_at = -self.RETRY_AFTER_FAILURE_S
        self.degraded: str | None = None

    def _use_fallback(self) -> bool:
        return self.degraded is not None and time.monotonic() - self._failed_at < self.RETRY_AFTER_FAILURE_S

    def _failed(self, exc: Exception) -> None:
        if self.degraded is None:
            log.warning("Redis state unreachable (%s); limits now hold per instance until it answers", exc)
        self.degraded = f"state: Redis unreachable ({type(exc).__name__}); limits hold per instance"
        self._failed_at = time.monotonic()

    async def admit(self, checks: list[Check]) -> Refusal | None:
        """One Lua script: check every counter, then bump all or none."""
        if self._use_fallback():
            return await self._fallback.admit(checks)
        args: list[int] = []
        for check in checks:
            args += [check.limit, check.amount, check.ttl_s, check.seed or 0]
        try:
            index, ttl_ms = await self._admit(keys=[c.counter for c in checks], args=args)
        except Exception as exc:  # any Redis failure means: degrade, keep serving
            self._failed(exc)
            return await self._fallback.admit(checks)
        if self.degraded is not None:
            log.warning("Redis state answers again; limits are shared again")
            self.degraded = None
        index = int(index)
        return None if index == 0 else Refusal(checks[index - 1], int(ttl_ms) / 1000)

    async def get_text(self, key: str) -> str | None:
        """A shared value (None when absent, or while Redis is away)."""
        if self._use_fallback():
            return None
        try:
            value = await self._redis.get(key)
        except Exception as exc:  # degrade, keep serving
            self._failed(exc)
            return None
        return value.decode() if isinstance(value, bytes) else value

    async def set_text(self, key: str, value: str, ttl_s: int) -> None:
        """Share a value for `ttl_s` seconds (dropped while Redis is away)."""
        if self._use_fallback():
            return
        try:
            await self._redis.set(key, value, ex=ttl_s)
        except Exception as exc:  # degrade, keep serving
            self._failed(exc)

    async def adjust(self, counter: str, delta: int, ttl_s: int) -> None:
        """Settle a reservation on the shared counter (in-process while Redis is away)."""
        if self._use_fallback():
            await self._fallback.adjust(counter, delta, ttl_s)
            return
        try:
            await self._adjust(keys=[counter], args=[delta])
        except Exception as exc:  # degrade, keep serving
            self._failed(exc)
            await self._fallback.adjust(counter, delta, ttl_s)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()
        await self._pool.aclose()


def open_state(url: str) -> MemoryState | RedisState:
    """The state backend of the config's `state:` value (`memory` or `redis://…`)."""
    if url == "memory":
        return MemoryState()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisState(url)
    from modelrouter.errors import ConfigError

    raise ConfigError(f"state must be memory or redis://HOST:PORT/DB, got {url!r}")
