"""Whether the gateway can call an offering at all: credentials and enabled regions.

Readiness is not a term: an offering without credentials still meets a policy, it just
cannot be tried. `route` shows both, so an operator sees what to configure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from modelrouter.catalog.catalog import Entry
from modelrouter.catalog.records import Provider
from modelrouter.config import ENV_PREFIX, Config, ProviderConfig

__all__ = ["Readiness"]


class Readiness:
    """Computes, once per config, which providers have credentials and which regions are enabled."""

    def __init__(
        self, config: Config, providers: Mapping[str, Provider], env: Mapping[str, str] | None = None
    ):
        self._env = os.environ if env is None else env
        self._sections = config.providers
        self.missing: dict[str, str] = {}
        """Provider id to the hint on how to give it credentials, for those that lack them."""
        for provider in providers.values():
            hint = self._credentials_hint(provider, config.providers.get(provider.id))
            if hint is not None:
                self.missing[provider.id] = hint

    def has_credentials(self, provider_id: str) -> bool:
        """Whether the provider's credentials are configured (in the config or environment)."""
        return provider_id not in self.missing

    def problems(self, entry: Entry) -> tuple[str, ...]:
        """Why the gateway cannot call this offering now (empty when it can)."""
        out = []
        hint = self.missing.get(entry.provider.id)
        if hint is not None:
            out.append(f"no credentials for {entry.provider.id}: {hint}")
        section = self._sections.get(entry.provider.id)
        raw = self._value(section.settings.get("regions")) if section is not None else None
        configured = [raw] if isinstance(raw, str) else [str(c) for c in raw] if isinstance(raw, list) else []
        region = entry.offering.region
        if configured and not entry.region.reachable_from(region, configured):
            where = f"providers.{entry.provider.id}.regions"
            out.append(f"region {region} is not enabled: {where} lists {', '.join(configured)}")
        return tuple(out)

    def _credentials_hint(self, provider: Provider, section: ProviderConfig | None) -> str | None:
        if not provider.credentials:
            return None
        for alternative in provider.credentials:
            if all(self._set(key, env, section) for key, env in alternative):
                return None
        ways = [" and ".join(env for _, env in alt) for alt in provider.credentials]
        keys = [
            " and ".join(f"providers.{provider.id}.{key}" for key, _ in alt) for alt in provider.credentials
        ]
        return f"set {' or '.join(ways)} (or {' or '.join(keys)} in modelrouter.yaml)"

    def _set(self, key: str, env: str, section: ProviderConfig | None) -> bool:
        if section is not None and self._value(section.settings.get(key)):
            return True
        return bool(env and self._env.get(env))

    def _value(self, raw: object) -> object:
        """A setting's value, reading `env:NAME` from this readiness's environment."""
        if isinstance(raw, str) and raw.startswith(ENV_PREFIX):
            return self._env.get(raw[len(ENV_PREFIX) :])
        return raw
