"""The catalog: models x providers x offerings, resolved into entries the router can judge fast.

An `Entry` is an offering resolved against its provider and model: the effective terms (the
provider's defaults with the offering's overrides, residency from its region), the effective
lifecycle, capabilities and price. Entries are built once per catalog, so a routing decision
reads plain attributes and never merges dictionaries on the hot path.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from modelrouter.catalog.prices import Price, offering_price
from modelrouter.catalog.records import (
    TERM_NAMES,
    Fact,
    Jurisdiction,
    Lifecycle,
    LifecycleStatus,
    Model,
    Offering,
    Provider,
    Region,
)
from modelrouter.errors import ConfigError, ModelNotFound

__all__ = ["Catalog", "Entry", "Target"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, eq=False)
class Entry:
    """One offering, resolved: what the policy engine and the listings read."""

    id: str
    """The offering id, `MODEL@PROVIDER[:REGION][#VARIANT]` (computed once: the router keys on it)."""
    offering: Offering
    provider: Provider
    model: Model
    terms: Mapping[str, Fact]
    """All seven terms, effective for this offering (residency from its region)."""
    region: Region
    lifecycle: Lifecycle
    capabilities: frozenset[str]
    context_window: int | None
    max_output: int | None
    price: Price | None
    jurisdiction: Jurisdiction | None = field(repr=False)
    retention_days: int | None = field(repr=False)
    training: bool | None = field(repr=False)
    private_endpoint: bool | None = field(repr=False)
    compliance: frozenset[str] | None = field(repr=False)

    @property
    def protocol(self) -> str:
        """The wire protocol this offering speaks (the offering's own, else its provider's)."""
        return self.offering.protocol or self.provider.protocol

    def status(self, today: date) -> LifecycleStatus:
        """The lifecycle status on `today` (a passed deprecation date means retired)."""
        return self.lifecycle.effective(today)


@dataclass(frozen=True, slots=True)
class Target:
    """What a requested model name points at: a model, maybe pinned to a provider or offerings."""

    model: Model
    provider: str | None = None
    region: str | None = None
    offerings: frozenset[str] | None = None
    """Exact offering ids, when the name was a provider's own model id."""
    via_alias: str | None = None
    """The operator alias the name went through, if any."""

    def admits(self, entry: Entry) -> bool:
        """Whether a pin (provider, region or exact offering) allows this entry."""
        if self.offerings is not None and entry.id not in self.offerings:
            return False
        if self.provider is not None and entry.provider.id != self.provider:
            return False
        return self.region is None or entry.offering.region == self.region


class Catalog:
    """Every model, provider and offering, with lookups by id, alias, slug and provider model id."""

    def __init__(
        self,
        models: Iterable[Model],
        providers: Iterable[Provider],
        *,
        now: datetime,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.now = now
        self.today = now.date()
        self.models: dict[str, Model] = {}
        for model in models:
            if model.id in self.models:
                raise ConfigError(f"model {model.id!r} is defined twice")
            self.models[model.id] = model
        self.providers: dict[str, Provider] = {p.id: p for p in providers}
        self.entries: list[Entry] = []
        self.by_model: dict[str, list[Entry]] = {model_id: [] for model_id in self.models}
        for provider in self.providers.values():
            for offering in provider.offerings:
                self._add(provider, offering)
        self._names = self._index_names()
        self._provider_models = self._index_provider_models()
        self.aliases = {k.lower(): v for k, v in (aliases or {}).items()}
        self._slugs = {slug: p.id for p in self.providers.values() for slug in (p.id, *p.openrouter_slugs)}

    def _add(self, provider: Provider, offering: Offering) -> None:
        model = self.models.get(offering.model)
        if model is None:
            raise ConfigError(
                f"provider {provider.id} offers unknown model {offering.model!r}; "
                "define the model first (catalog models or the config's `models` section)"
            )
        entry = _resolve(provider, offering, model, self.now)
        if any(e.id == entry.id for e in self.by_model[model.id]):
            raise ConfigError(
                f"offering {entry.id} is listed twice; give one of them a `variant` name to tell them apart"
            )
        self.entries.append(entry)
        self.by_model[model.id].append(entry)

    def _index_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for model in self.models.values():
            for name in (model.id, *model.aliases):
                key = name.lower()
                if names.get(key, model.id) != model.id:
                    raise ConfigError(f"name {name!r} is claimed by both {names[key]} and {model.id}")
                names[key] = model.id
        return names

    def _index_provider_models(self) -> dict[str, list[Entry]]:
        index: dict[str, list[Entry]] = {}
        for entry in self.entries:
            index.setdefault(entry.offering.provider_model.lower(), []).append(entry)
        return index

    def provider_id(self, name: str) -> str | None:
        """Our provider id for a name or an OpenRouter provider slug (case-insensitive)."""
        return self._slugs.get(name.lower())

    def resolve(self, name: str, _depth: int = 0) -> Target:
        """Resolve a requested model name (SPEC section 1) or raise `ModelNotFound`.

        Order: the operator's aliases, a model id or alias (OpenRouter slugs included), a
        provider's own model id (pins those exact offerings), then `MODEL@PROVIDER[:REGION]`.
        """
        key = name.strip().lower()
        if key in self.aliases and _depth < 5:
            target = self.resolve(self.aliases[key], _depth + 1)
            return Target(target.model, target.provider, target.region, target.offerings, via_alias=name)
        if key in self._names:
            return Target(self.models[self._names[key]])
        exact = self._provider_models.get(key)
        if exact:
            return Target(exact[0].model, offerings=frozenset(e.id for e in exact))
        if "@" in key:
            return self._resolve_pin(name, key)
        raise ModelNotFound(self._not_found(name))

    def _resolve_pin(self, name: str, key: str) -> Target:
        model_part, _, pin = key.rpartition("@")
        provider_part, _, region = pin.partition(":")
        provider = self.provider_id(provider_part)
        if provider is None:
            known = ", ".join(sorted(self.providers))
            raise ModelNotFound(f"unknown provider {provider_part!r} in {name!r}; providers: {known}")
        target = self.resolve(model_part)
        if region and not any(e.offering.region == region for e in self.by_model[target.model.id]):
            regions = sorted(
                {e.offering.region for e in self.by_model[target.model.id] if e.provider.id == provider}
            )
            raise ModelNotFound(
                f"{target.model.id} has no offering at {provider} in region {region!r}"
                + (f"; regions there: {', '.join(regions)}" if regions else "")
            )
        return Target(target.model, provider, region or None, target.offerings)

    def _not_found(self, name: str) -> str:
        close = difflib.get_close_matches(name.lower(), list(self._names), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(self._names[c]) for c in close)}?" if close else ""
        return f"unknown model {name!r}{hint} (`modelrouter models` lists them)"


def _resolve(provider: Provider, offering: Offering, model: Model, now: datetime) -> Entry:
    region = provider.regions[offering.region]
    terms = {name: offering.terms.get(name) or provider.term(name) for name in TERM_NAMES}
    if "residency" not in offering.terms:
        terms["residency"] = _residency_fact(offering.region, region)
    capabilities = model.capabilities
    if offering.capabilities is not None:
        capabilities = capabilities & frozenset(offering.capabilities)
    return Entry(
        id=offering.id,
        offering=offering,
        provider=provider,
        model=model,
        terms=terms,
        region=region,
        lifecycle=offering.lifecycle or model.lifecycle,
        capabilities=capabilities,
        context_window=offering.context_window or model.context_window,
        max_output=offering.max_output or model.max_output,
        price=offering_price(provider, offering, now),
        jurisdiction=_jurisdiction(terms["jurisdiction"]),
        retention_days=_typed(terms["retention_days"], int),
        training=_typed(terms["training"], bool),
        private_endpoint=_typed(terms["private_endpoint"], bool),
        compliance=frozenset(terms["compliance"].value) if terms["compliance"].known else None,
    )


def _residency_fact(name: str, region: Region) -> Fact:
    note = region.note or (f"processed in {region.geo} ({name})" if region.geo else f"{name}: no residency")
    return Fact(
        value=region.geo, source=region.source, as_of=region.as_of, confidence=region.confidence, note=note
    )


def _jurisdiction(fact: Fact) -> Jurisdiction | None:
    if not fact.known:
        return None
    if isinstance(fact.value, str):
        return Jurisdiction(default=fact.value)
    return Jurisdiction.model_validate(fact.value)


def _typed(fact: Fact, kind: type[_T]) -> _T | None:
    if not fact.known:
        return None
    if type(fact.value) is not kind:
        raise ConfigError(f"term value {fact.value!r} should be a {kind.__name__}")
    value: _T = fact.value
    return value
