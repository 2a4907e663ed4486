"""A fake DNS and a fake network for the connect-time guard tests (reliability.md B7).

The names a test resolves, and the metadata and public addresses they answer, must never reach
the real network (this machine may only talk to loopback). So both are stood in for:

* `FakeDNS` is an aiohttp resolver answering from a table, in the table's order, and refusing
  every other name; it counts lookups, so a test can see what the DNS cache saved.
* `FakeNetwork` sits where aiohttp opens sockets (`aiohappyeyeballs.start_connection`): an
  address in its routes is delivered to a loopback listener (the "attacker" standing in for
  169.254.169.254), loopback goes through, and anything else is unreachable. The connector's
  own socket factory still sees the original address, so the gateway's guard is what decides.
* `Attacker` is that listener: it logs every connection and the bytes it was sent.

`python -m tests.fakes.network serve …` runs `modelrouter serve` with both installed, from the
JSON in $FAKE_NETWORK (`{"dns": {NAME: [ADDRESS…]}, "routes": {ADDRESS: [HOST, PORT]}}`).
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import socketserver
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohappyeyeballs
import aiohttp
from aiohappyeyeballs import AddrInfoType, SocketFactoryType
from aiohttp.abc import AbstractResolver, ResolveResult
from typing_extensions import override

__all__ = ["Attacker", "FakeDNS", "FakeNetwork"]

StartConnection = Callable[..., Awaitable[socket.socket]]


class FakeDNS(AbstractResolver):
    """Answers from `table` (name -> addresses, in order); any other name does not exist."""

    def __init__(self, table: Mapping[str, Sequence[str]]) -> None:
        self.table = {name: list(addresses) for name, addresses in table.items()}
        self.lookups: list[str] = []

    @override
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, f"fake DNS: {host} does not exist")
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in self.table[host]
        ]

    @override
    async def close(self) -> None:
        pass


class FakeNetwork:
    """Delivers routed addresses to loopback listeners; every other non-loopback address is unreachable."""

    def __init__(self, routes: Mapping[str, tuple[str, int]], real: StartConnection) -> None:
        self.routes = dict(routes)
        self.connects: list[str] = []
        """Every address a socket was asked to connect to, before the connector's own checks."""
        self._real = real

    def _route(self, info: AddrInfoType) -> AddrInfoType | None:
        """Where a connection to `info` really goes (None: nowhere, the address is unreachable)."""
        family, kind, proto, name, address = info
        host = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
        self.connects.append(str(host))
        for routed, (target, port) in self.routes.items():
            if ipaddress.ip_address(routed) == host:
                return (family, kind, proto, name, (target, port, *address[2:]))
        return info if host.is_loopback else None

    async def start_connection(
        self,
        addr_infos: Sequence[AddrInfoType],
        *,
        socket_factory: SocketFactoryType | None = None,
        **options: Any,
    ) -> socket.socket:
        """`aiohappyeyeballs.start_connection`, each address routed once the connector's factory saw it."""
        routes = [(info, self._route(info)) for info in addr_infos]
        given = [routed or info for info, routed in routes]
        originals = {
            id(g): (info, routed is not None) for g, (info, routed) in zip(given, routes, strict=True)
        }

        def factory(info: AddrInfoType) -> socket.socket:
            original, reachable = originals[id(info)]
            if socket_factory is not None:
                sock = socket_factory(original)
            else:
                sock = socket.socket(original[0], original[1], original[2])
            if not reachable:
                sock.close()
                raise ConnectionRefusedError(
                    errno.EHOSTUNREACH, f"fake network: {original[4][0]} is unreachable from here"
                )
            return sock

        return await self._real(given, socket_factory=factory, **options)

    def install(self) -> None:
        """Take the place of `aiohappyeyeballs.start_connection` (what aiohttp's connector calls)."""
        aiohappyeyeballs.start_connection = self.start_connection


class Attacker:
    """Loopback listeners (IPv4 and IPv6) that log every connection and what it carried."""

    def __init__(self) -> None:
        self.hits: list[bytes] = []
        self._lock = threading.Lock()
        attacker = self

        class Handler(socketserver.BaseRequestHandler):
            @override
            def handle(self) -> None:
                self.request.settimeout(2)
                try:
                    data = self.request.recv(1 << 16)
                except OSError:
                    data = b""
                with attacker._lock:
                    attacker.hits.append(data)
                self.request.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")

        class V6(socketserver.ThreadingTCPServer):
            address_family = socket.AF_INET6

        self._servers = [
            socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler),
            V6(("::1", 0), Handler),
        ]
        for server in self._servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.v4: tuple[str, int] = ("127.0.0.1", self._servers[0].server_address[1])
        self.v6: tuple[str, int] = ("::1", self._servers[1].server_address[1])

    def route_for(self, address: str) -> tuple[str, int]:
        """The listener of the same family as `address` (sockets keep their family)."""
        return self.v6 if ":" in address else self.v4

    def stop(self) -> None:
        """Close both listeners."""
        for server in self._servers:
            server.shutdown()
            server.server_close()


def main() -> None:
    """`modelrouter serve` behind the fake DNS and network described by $FAKE_NETWORK."""
    spec = json.loads(os.environ["FAKE_NETWORK"])
    dns = FakeDNS(spec["dns"])
    aiohttp.DefaultResolver = lambda: dns  # type: ignore[assignment]  # the transport's default
    routes = {address: (host, port) for address, (host, port) in spec["routes"].items()}
    FakeNetwork(routes, aiohappyeyeballs.start_connection).install()
    from modelrouter.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
