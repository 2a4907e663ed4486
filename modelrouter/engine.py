"""The assembled routing engine: config, catalog, readiness, named policies and the router.

The CLI and (later) the gateway build one `Engine` at start; `modelrouter.route()` is the
same explanation from Python.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from modelrouter.catalog.catalog import Catalog
from modelrouter.catalog.operator import build_catalog
from modelrouter.config import Config, load_config
from modelrouter.errors import BadRequest, ConfigError
from modelrouter.routing.policy import Policy, PolicyError
from modelrouter.routing.readiness import Readiness
from modelrouter.routing.select import Decision, Health, Needs, Router

__all__ = ["Engine", "route"]

_MAX_TIGHTENED = 1024
"""Policy intersections kept (the cache is dropped when it fills)."""


class Engine:
    """Everything a routing decision needs, built once from one config."""

    def __init__(
        self,
        config: Config | None = None,
        *,
        now: datetime | None = None,
        env: Mapping[str, str] | None = None,
        health: Health | None = None,
    ) -> None:
        self.config = config or Config()
        self.catalog: Catalog = build_catalog(self.config, now or datetime.now(UTC))
        self.readiness = Readiness(self.config, self.catalog.providers, env)
        self.policies = self._named_policies()
        self.default_policy = (
            self.policies[self.config.default_policy] if self.config.default_policy else Policy()
        )
        self.router = Router(
            self.catalog, self.readiness, customer_location=self.config.customer_location, health=health
        )
        self._tightened: dict[tuple[Policy, str | None, Policy, str | None], Policy] = {}
        self._by_names: dict[tuple[str | None, ...], Policy] = {}
        """Layers that are all policy names (or None) -> their effective policy."""

    @classmethod
    def load(cls, config_file: str | os.PathLike[str] | None = None, **kwargs: Any) -> Engine:
        """An engine for the config file found the SPEC way (`--config`, env, ./modelrouter.yaml)."""
        return cls(load_config(config_file), **kwargs)

    def _named_policies(self) -> dict[str, Policy]:
        policies = {}
        for name, data in self.config.policies.items():
            try:
                policies[name] = Policy.parse(data, name=name)
            except PolicyError as exc:
                raise ConfigError(f"policies.{name}: {exc.message}") from exc
        return policies

    def policy(self, spec: str | Mapping[str, Any] | Policy | None) -> Policy:
        """A policy by name, inline mapping, or as is; None is the empty policy."""
        if spec is None:
            return Policy()
        if isinstance(spec, Policy):
            return spec
        if isinstance(spec, str):
            found = self.policies.get(spec)
            if found is None:
                known = ", ".join(sorted(self.policies)) or "none defined"
                raise BadRequest(f"unknown policy {spec!r} (policies: {known})")
            return found
        return Policy.parse(spec, name="inline")

    def effective_policy(self, *layers: str | Mapping[str, Any] | Policy | None) -> Policy:
        """The default policy tightened by each layer in turn (key policy, request policy…).

        Intersections of known policies (named ones, keys' policies) are kept: the same few
        combinations come back on every request. Layers that are all names (or None) are
        looked up as they come, in one step; an unknown name raises every time.
        """
        for layer in layers:
            if layer is not None and type(layer) is not str:
                return self._tightened_by(layers)
        found = self._by_names.get(layers)  # type: ignore[arg-type]  # names and None only, as checked
        if found is None:
            if len(self._by_names) >= _MAX_TIGHTENED:
                self._by_names.clear()
            found = self._by_names[layers] = self._tightened_by(layers)  # type: ignore[index]
        return found

    def _tightened_by(self, layers: tuple[str | Mapping[str, Any] | Policy | None, ...]) -> Policy:
        policy = self.default_policy
        for layer in layers:
            if layer is None:
                continue
            other = self.policy(layer)
            if isinstance(layer, Mapping):  # an inline policy: seldom the same twice
                policy = policy.tighten(other)
                continue
            key = (policy, policy.name, other, other.name)
            found = self._tightened.get(key)
            if found is None:
                if len(self._tightened) >= _MAX_TIGHTENED:
                    self._tightened.clear()
                found = self._tightened[key] = policy.tighten(other)
            policy = found
        return policy

    def route(
        self,
        model: str,
        *policies: str | Mapping[str, Any] | Policy | None,
        needs: Needs | None = None,
    ) -> Decision:
        """Explain the routing of `model` under the default policy tightened by `policies`."""
        return self.router.route(model, self.effective_policy(*policies), needs)


def route(
    model: str,
    policy: str | Mapping[str, Any] | Policy | None = None,
    *,
    config: str | os.PathLike[str] | None = None,
    input_tokens: int | None = None,
    max_tokens: int | None = None,
    capabilities: frozenset[str] = frozenset(),
) -> Decision:
    """Explain how modelrouter would route a request for `model` (nothing is sent).

    >>> decision = route("claude-sonnet-4.5", {"residency": ["EU"]})
    >>> [c.entry.id for c in decision.candidates]  # doctest: +SKIP
    """
    engine = Engine.load(config)
    return engine.route(model, policy, needs=Needs(input_tokens, max_tokens, capabilities))
