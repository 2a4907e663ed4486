"""The one seam through which upstream HTTP goes: a pooled HTTP/1.1 client with deadlines.

The client (`http1`) was chosen by measurement (bench/): aiohttp's client costs about as much
CPU per request as the bare pass-through floor and httpx more; `http1` does the one
request shape a gateway sends with a fraction of either (see its docstring). Deadlines follow
reference/reliability.md section 2: connect, first byte (response headers), idle (between
body chunks) and a total that covers every retry of the request; each failure becomes an
`UpstreamTimeout` or `UpstreamConnectionError` naming which deadline passed.

TLS is always verified: against the system trust store (which honours `SSL_CERT_FILE` and
`SSL_CERT_DIR`, as the providers' SDKs do), or a provider's own `ca_bundle`. No setting turns
verification off, and a failed handshake is a failed attempt like any connection error.

Every address a connection is opened to is checked against `urlguard` at connect time: a
resolver wrapper refuses a name any of whose addresses is a metadata or link-local one, and the
socket factory refuses such an address however it arrived (a literal IP skips the resolver).
The pool connects only to the addresses its resolver returned, so what was checked is what is
connected to, and it caches them (five minutes), so pooled and cached calls pay nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any, NamedTuple, Protocol

import aiohttp
from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult
from typing_extensions import override

from modelrouter.config import Config
from modelrouter.errors import (
    ConfigError,
    UpstreamConnectionError,
    UpstreamProtocolError,
    UpstreamTimeout,
)
from modelrouter.gateway import http1
from modelrouter.urlguard import forbidden_address, forbidden_name

__all__ = [
    "Call",
    "Deadlines",
    "ForbiddenAddress",
    "GuardedResolver",
    "Transport",
    "UpstreamResponse",
    "guarded_socket",
    "provider_tls",
]

MAX_ERROR_BODY = 1 << 20
MAX_RESPONSE_BODY = 64 << 20


class Call(Protocol):
    """What to send (built by a provider adapter)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


class Deadlines(NamedTuple):
    """Seconds allowed for each phase; `total_at` is the loop time when the request must be done.

    A named tuple: built on every request, where a frozen dataclass took 10k instructions
    (each field set through `object.__setattr__`).
    """

    connect: float
    first_byte: float
    idle: float
    total_at: float

    def remaining(self) -> float:
        """Seconds left of the total deadline."""
        return self.total_at - asyncio.get_running_loop().time()


class ReadTimer:
    """The deadlines of one upstream wait after another (the answer's head, then each read).

    One lazily re-armed timer serves them all.

    `asyncio.timeout` around every read costs a timer handle per chunk (about 5 us, most of a
    streamed chunk's relay cost); here a read only moves `due`, and the timer, when it fires
    early, re-arms itself for the new `due`. It cancels the reading task only while a read
    is waiting, so time the caller spends elsewhere (a slow client) never counts as idle.
    """

    __slots__ = ("_base", "_due", "_handle", "_loop", "_reading", "_task", "_timed_out")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = task
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self._reading = False
        self._timed_out = False
        self._base = 0

    def arm(self, idle: float, total_at: float) -> float:
        """Start a read that may wait `idle` seconds, never past `total_at`; the budget given."""
        now = self._loop.time()
        self._due = min(now + idle, total_at)
        self._reading = True
        self._base = self._task.cancelling()
        if self._handle is None:
            self._handle = self._loop.call_at(self._due, self._fire)
        return max(self._due - now, 0.0) if self._due < now + idle else idle

    def disarm(self) -> None:
        """The read returned (the timer stays, to fire lazily)."""
        self._reading = False

    def expired(self) -> bool:
        """Whether a cancellation of the read was this timer's (then it is taken back)."""
        if not self._timed_out:
            return False
        self._timed_out = False
        return self._task.uncancel() <= self._base

    def _fire(self) -> None:
        self._handle = None
        if not self._reading:
            return  # the next read re-arms
        if self._loop.time() < self._due:
            self._handle = self._loop.call_at(self._due, self._fire)
            return
        self._timed_out = True
        self._task.cancel()

    def close(self) -> None:
        """No more reads."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class UpstreamResponse:
    """An upstream answer whose headers arrived; read it whole or chunk by chunk."""

    def __init__(self, response: http1.Response, deadlines: Deadlines, provider: str) -> None:
        self._response = response
        self._deadlines = deadlines
        self._provider = provider
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers

    async def read(self, limit: int = MAX_RESPONSE_BODY) -> bytes:
        """The whole body (bounded by `limit` and by the idle and total deadlines)."""
        body = self._response.whole()
        if body is not None:  # it came whole with the headers: no read to wait for or time
            if len(body) > limit:
                raise self._over(limit)
            return body
        parts = []
        size = 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                raise self._over(limit)
            parts.append(chunk)
        return b"".join(parts)

    def _over(self, limit: int) -> UpstreamProtocolError:
        return UpstreamProtocolError(
            f"{self._provider} sent a body over {limit} bytes", provider=self._provider
        )

    async def chunks(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive; an idle gap longer than the idle deadline raises."""
        response = self._response
        deadlines = self._deadlines
        task = asyncio.current_task()
        assert task is not None
        timer = ReadTimer(task)
        try:
            while True:
                budget = timer.arm(deadlines.idle, deadlines.total_at)
                try:
                    chunk = await response.readany()
                except asyncio.CancelledError:
                    if not timer.expired():
                        raise
                    which = "idle" if budget == deadlines.idle else "total"
                    raise UpstreamTimeout(
                        f"{self._provider} sent nothing for {budget:.1f}s ({which} deadline)",
                        provider=self._provider,
                    ) from None
                except http1.Disconnected as exc:
                    raise UpstreamConnectionError(
                        f"{self._provider} cut the response short: {exc}", provider=self._provider
                    ) from exc
                except http1.ClientError as exc:
                    raise UpstreamConnectionError(
                        f"{self._provider}: {exc}", provider=self._provider
                    ) from exc
                finally:
                    timer.disarm()
                if not chunk:
                    return
                yield chunk
        finally:
            timer.close()

    def close(self) -> None:
        """Abandon the response; the connection is dropped unless the body was read to the end."""
        self._response.close()


class ForbiddenAddress(OSError):
    """A provider's host is, or resolves to, a cloud metadata or link-local address."""


class GuardedResolver(AbstractResolver):
    """DNS through `inner`; a name with any forbidden address is refused whole.

    Refusing the whole name, not filtering the bad address out, is deliberate: a name that
    answers a public address first and 169.254.169.254 second is a rebinding attempt.
    """

    def __init__(self, inner: AbstractResolver) -> None:
        self._inner = inner

    @override
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if forbidden_name(host):
            raise ForbiddenAddress(f"{host} is a cloud metadata service; never connected to")
        results = await self._inner.resolve(host, port, family)
        for result in results:
            if forbidden_address(result["host"]):
                raise ForbiddenAddress(
                    f"{host} resolves to {result['host']}, a cloud metadata or link-local address; "
                    "never connected to"
                )
        return results

    @override
    async def close(self) -> None:
        await self._inner.close()


def guarded_socket(addr_info: AddrInfoType) -> socket.socket:
    """The connector's socket factory: refuses a forbidden address, whatever its origin."""
    family, kind, proto, _, address = addr_info
    if forbidden_address(str(address[0])):
        raise ForbiddenAddress(f"{address[0]} is a cloud metadata or link-local address; never connected to")
    return socket.socket(family, kind, proto)


def provider_tls(config: Config) -> dict[str, ssl.SSLContext]:
    """A verifying TLS context per provider that names a `ca_bundle` (PEM CA certificates).

    As with an SDK's `verify=PATH`, the bundle replaces the system trust store for that
    provider (a corporate proxy's CA, a private model server's). Raises `ConfigError` at
    start for a bundle that cannot be read.
    """
    contexts: dict[str, ssl.SSLContext] = {}
    for provider_id, section in config.providers.items():
        path = section.setting("ca_bundle")
        if not path:
            continue
        try:
            contexts[provider_id] = http1.verifying_context(cafile=str(path))
        except OSError as exc:  # ssl.SSLError among them
            raise ConfigError(f"providers.{provider_id}.ca_bundle: cannot load {path}: {exc}") from exc
    return contexts


class Transport:
    """A pooled HTTP client shared by every provider (one per gateway process).

    No cap on open connections: a stream holds its connection for minutes, so a cap would
    queue callers behind other callers' streams until their connect deadline failed them.
    What the gateway admits (its callers) is the bound. `tls` holds providers' own verifying
    contexts (`provider_tls`); `resolver` replaces aiohttp's default DNS resolver, and is
    guarded like it.
    """

    def __init__(
        self,
        *,
        tls: Mapping[str, ssl.SSLContext] | None = None,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self._tls = dict(tls or {})
        self._resolver = resolver
        self._pool: http1.Pool | None = None

    def _client(self) -> http1.Pool:
        if self._pool is None:
            resolver = GuardedResolver(self._resolver or aiohttp.DefaultResolver())
            self._pool = http1.Pool(resolver, guarded_socket)
        return self._pool

    async def open(self, call: Call, deadlines: Deadlines, provider: str) -> UpstreamResponse:
        """Send `call` and wait for the response headers within the connect and first-byte deadlines.

        Timed by a `ReadTimer` (one timer handle) rather than `asyncio.timeout`, whose context
        manager cost about 29,000 instructions per request (callgrind), a twentieth of the
        gateway's own work on a small answer.
        """
        task = asyncio.current_task()
        assert task is not None
        timer = ReadTimer(task)
        budget = timer.arm(deadlines.first_byte, deadlines.total_at)
        try:
            response = await self._client().request(
                call.method,
                call.url,
                call.headers,
                call.body,
                tls=self._tls.get(provider),  # None: verified against the system store
                connect_timeout=deadlines.connect,
            )
        except asyncio.CancelledError:
            if not timer.expired():
                raise  # the request itself was cancelled (its client left, or shutdown)
            which = "first-byte" if budget == deadlines.first_byte else "total"
            raise UpstreamTimeout(
                f"{provider} did not answer within {budget:.1f}s ({which} deadline)", provider=provider
            ) from None
        except http1.ConnectTimeout as exc:
            raise UpstreamTimeout(
                f"{provider}: no connection within {deadlines.connect:.1f}s (connect deadline)",
                provider=provider,
            ) from exc
        except http1.ClientError as exc:
            raise UpstreamConnectionError(f"cannot reach {provider}: {exc}", provider=provider) from exc
        except ValueError as exc:  # a URL or header that cannot be sent (config, or a client's header)
            raise UpstreamConnectionError(f"cannot call {provider}: {exc}", provider=provider) from exc
        finally:
            timer.close()
        if 300 <= response.status < 400:
            response.close()
            raise UpstreamConnectionError(
                f"{provider} answered {response.status} redirecting to "
                f"{response.headers.get('location', '?')[:200]}; provider calls never follow redirects",
                provider=provider,
            )
        return UpstreamResponse(response, deadlines, provider)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await self._pool.aclose()
            self._pool = None
