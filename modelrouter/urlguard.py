"""Provider endpoints that must never be called: cloud metadata services and link-local hosts.

An operator-configured `base_url` or `endpoint` pointing at 169.254.169.254 (or its IPv6 and
vendor cousins, or the same address written as one decimal number, in hex or in octal) would
hand the gateway's provider credentials, and the caller's prompt, to whatever answers there.
Loopback and private addresses stay allowed: a local model server or a corporate proxy is a
normal thing to configure. Callers can never set endpoints at all (see gateway/chat.py).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from modelrouter.config import Config
from modelrouter.errors import ConfigError

__all__ = ["check_provider_url", "check_provider_urls"]

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
    except OSError:
        return None


def check_provider_url(where: str, url: str) -> None:
    """`ConfigError` when `url` points at a metadata service or a link-local address."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError as exc:
        raise ConfigError(f"{where}: {url!r} is not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"{where}: {url!r} must be an http:// or https:// URL with a host")
    address = _address(host)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if (
        host in _METADATA_NAMES
        or address in _METADATA_ADDRESSES
        or (address is not None and address.is_link_local)
    ):
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
