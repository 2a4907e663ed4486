"""Provider endpoints that must never be called: cloud metadata services and link-local hosts.

An operator-configured `base_url` or `endpoint` pointing at 169.254.169.254 (or its IPv6 and
vendor cousins, or the same address written as one decimal number, in hex or in octal) would
hand the gateway's provider credentials, and the caller's prompt, to whatever answers there.
Loopback and private addresses stay allowed: a local model server or a corporate proxy is a
normal thing to configure. Callers can never set endpoints at all (see gateway/chat.py).

The same predicate runs twice: on the configured URL at start, and in the transport at
connect time on every address a provider's name resolves to (gateway/transport.py), so a
name that resolves, or later rebinds, to a metadata address is refused too.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from urllib.parse import urlsplit

from modelrouter.config import Config
from modelrouter.errors import ConfigError

__all__ = ["check_provider_url", "check_provider_urls", "forbidden_address", "forbidden_name"]

_METADATA_NAMES = frozenset({"metadata.google.internal", "metadata", "metadata.azure.com", "instance-data"})
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally, in any notation a resolver accepts (`0x7f.1` too)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:  # inet_aton reads 2130706433, 0x7f.1, 017700000001 and friends as IPv4
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):  # ValueError: a NUL in the host
        return None


@functools.lru_cache(maxsize=4096)
def forbidden_address(address: str) -> bool:
    """Whether `address` (a literal IP in any notation) is a metadata or link-local address.

    Cached: a gateway connects to few addresses, and the check runs on every new connection.
    """
    parsed = _address(address.split("%", 1)[0])  # an IPv6 zone (`fe80::1%eth0`) is not part of it
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return parsed is not None and (parsed in _METADATA_ADDRESSES or parsed.is_link_local)


def forbidden_name(host: str) -> bool:
    """Whether a URL's host is a metadata service's name or a forbidden address."""
    host = host.rstrip(".").lower()
    return host in _METADATA_NAMES or forbidden_address(host)


def check_provider_url(where: str, url: str) -> None:
    """`ConfigError` when `url` points at a metadata service or a link-local address."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError as exc:
        raise ConfigError(f"{where}: {url!r} is not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"{where}: {url!r} must be an http:// or https:// URL with a host")
    if forbidden_name(host):
        raise ConfigError(
            f"{where}: {url!r} points at a cloud metadata service or a link-local address; "
            "provider credentials are never sent there"
        )


def check_provider_urls(config: Config) -> None:
    """Check every provider's `base_url` and `endpoint` (a `{region}` placeholder counts as a name)."""
    for provider_id, section in config.providers.items():
        for name in ("base_url", "endpoint"):
            value = section.setting(name)
            if isinstance(value, str) and value:
                check_provider_url(f"providers.{provider_id}.{name}", value.replace("{region}", "region"))
