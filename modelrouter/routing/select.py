"""Routing decisions: which offerings meet the policy, why the others do not, in what order.

`Router.route` is pure given its inputs (catalog, readiness, policy, the request's needs, an
optional health view) and explains itself: every rejected offering carries human-readable
reasons. Hard constraints never let an unknown fact qualify. The part of a decision that
depends only on (policy, model, pin) is cached, so a warm decision touches only the few
offerings of one model.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from modelrouter.catalog.catalog import Catalog, Entry, Target
from modelrouter.catalog.records import Model
from modelrouter.errors import ModelRetired
from modelrouter.routing.checks import compile_checks
from modelrouter.routing.policy import Policy
from modelrouter.routing.readiness import Readiness

__all__ = ["Candidate", "Decision", "Health", "Needs", "Rejection", "Router"]

_KIND_RANK = {"direct": 0, "cloud": 1, "aggregator": 2, "custom": 3}
_MAX_SUBSTITUTIONS = 5


class Needs(NamedTuple):
    """What the request itself requires of an offering, checked whatever the policy says.

    A named tuple, like `Decision`: built on every request, and a frozen dataclass takes
    twice as long to construct (each field goes through `object.__setattr__`).
    """

    input_tokens: int | None = None
    max_tokens: int | None = None
    capabilities: frozenset[str] = frozenset()


class Health(Protocol):
    """Live measurements per offering id, for the latency and throughput sorts."""

    def latency_ms(self, offering: str) -> float | None:
        """Typical time to first token, or None before any measurement."""

    def throughput(self, offering: str) -> float | None:
        """Typical output tokens per second, or None before any measurement."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """An offering that meets the policy; `not_ready` says why the gateway cannot call it yet."""

    entry: Entry
    score: Decimal | float | None
    not_ready: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        """Whether the gateway can call it (credentials, enabled region)."""
        return not self.not_ready


@dataclass(frozen=True, slots=True)
class Rejection:
    """An offering that does not meet the policy or the request, with every reason."""

    entry: Entry
    reasons: tuple[str, ...]


class Decision(NamedTuple):
    """The explanation of one routing decision (`modelrouter route`, `POST /v1/route`)."""

    requested: str
    model: Model
    policy: Policy
    candidates: tuple[Candidate, ...]
    rejected: tuple[Rejection, ...]
    substituted_from: str | None = None
    sort: str = "price"
    notes: tuple[str, ...] = ()

    @property
    def attempt_order(self) -> list[Entry]:
        """The offerings the gateway would try, in order (one only without fallbacks)."""
        ready = [c.entry for c in self.candidates if c.ready]
        return ready if self.policy.allow_fallbacks else ready[:1]

    def to_json(self) -> dict[str, Any]:
        """The SPEC section 2 `route --format json` object."""
        return {
            "model": self.model.id,
            "requested": self.requested,
            "substituted": {"from": self.substituted_from, "to": self.model.id}
            if self.substituted_from
            else None,
            "policy": self.policy.describe(),
            "sort": self.sort,
            "candidates": [_candidate_json(c) for c in self.candidates],
            "rejected": [
                {"provider": r.entry.provider.id, "offering": r.entry.id, "reasons": list(r.reasons)}
                for r in self.rejected
            ],
            "notes": list(self.notes),
        }


def _candidate_json(candidate: Candidate) -> dict[str, Any]:
    entry = candidate.entry
    price = entry.price
    return {
        "provider": entry.provider.id,
        "offering": entry.id,
        "provider_model": entry.offering.provider_model,
        "region": entry.offering.region,
        "price": {
            "input": _num(price.per_million("input")) if price else None,
            "output": _num(price.per_million("output")) if price else None,
        },
        "score": _num(candidate.score),
        "ready": candidate.ready,
        "not_ready": list(candidate.not_ready),
        "lifecycle": entry.lifecycle.status,
    }


def _num(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class _Static:
    """The cacheable part of a decision: who passes the terms (ranked), and every rejection."""

    candidates: tuple[Candidate, ...]
    """Ranked as for a tiny prompt; re-ranked only when a prompt crosses `tier_start`."""
    rejected: tuple[Rejection, ...]
    tier_start: int | None
    smallest_window: int | None
    """The smallest context window among the candidates: a request within it fits them all."""


class Router:
    """Makes routing decisions against one catalog and one configuration."""

    cache_size = 4096
    """Distinct (policy, model, pin) evaluations kept; the cache is dropped when it fills."""

    def __init__(
        self,
        catalog: Catalog,
        readiness: Readiness,
        *,
        customer_location: str | None = None,
        health: Health | None = None,
    ) -> None:
        self.catalog = catalog
        self.readiness = readiness
        self.customer_location = customer_location
        self.health = health
        self._cache: dict[tuple[object, ...], _Static] = {}
        self._targets: dict[tuple[str, bool], tuple[Target, str | None]] = {}
        """(requested name, substitution allowed) -> what it resolved to: the catalog is fixed."""

    def route(self, requested: str, policy: Policy | None = None, needs: Needs | None = None) -> Decision:
        """Explain which offerings of `requested` would serve a request under `policy`.

        Raises `ModelNotFound` for unknown names and `ModelRetired` for a retired model when
        the policy forbids substitution.
        """
        policy = policy or Policy()
        needs = needs or Needs()
        target, substituted_from = self._target(requested, policy.allow_substitution)
        sort, notes = self._sort_key(policy)
        static = self._static(target, policy, needs.capabilities, sort)
        candidates, rejected = static.candidates, static.rejected
        tokens = needs.input_tokens
        if tokens is not None:
            wanted = tokens + (needs.max_tokens or 0)
            smallest = static.smallest_window
            if smallest is not None and wanted > smallest:  # within it, every candidate fits
                candidates, too_long = self._fit(candidates, needs, wanted)
                rejected += too_long
        if sort != "price" or (
            tokens is not None and static.tier_start is not None and tokens > static.tier_start
        ):
            candidates = self._order(candidates, policy, tokens or 0, sort)
        return Decision(requested, target.model, policy, candidates, rejected, substituted_from, sort, notes)

    def _target(self, requested: str, allow_substitution: bool) -> tuple[Target, str | None]:
        """The name resolved (and a retired model substituted): the same for every request naming it.

        Only answers are kept (an unknown or retired name raises again each time).
        """
        key = (requested, allow_substitution)
        found = self._targets.get(key)
        if found is None:
            found = self._substitute(self.catalog.resolve(requested), allow_substitution)
            if len(self._targets) >= self.cache_size:
                self._targets.clear()
            self._targets[key] = found
        return found

    def _substitute(self, target: Target, allow_substitution: bool) -> tuple[Target, str | None]:
        """A retired model answers through its maker's replacement, unless the policy forbids it."""
        original = target.model
        pinned = target.provider is not None or target.offerings is not None
        if pinned and self._pinned_offering_answers(target):
            return target, None
        for _ in range(_MAX_SUBSTITUTIONS):
            lifecycle = target.model.lifecycle
            if lifecycle.effective(self.catalog.today) != "retired":
                break
            replacement = lifecycle.replacement
            if not allow_substitution or replacement is None or replacement not in self.catalog.models:
                message = _retired_message(target.model, replacement)
                raise ModelRetired(message, model=original.id, replacement=replacement)
            provider, region = self._carried_pin(target)
            target = Target(self.catalog.models[replacement], provider, region, None, target.via_alias)
        return target, (original.id if target.model.id != original.id else None)

    def _carried_pin(self, target: Target) -> tuple[str | None, str | None]:
        """The provider and region a pin names, to hold the replacement to the same place.

        A caller who pinned `@vertex:europe-west1` (or a provider's EU model id) chose where its
        data goes: the replacement is served there or not at all, never somewhere else.
        """
        if target.offerings is None:
            return target.provider, target.region
        pinned = [e for e in self.catalog.by_model[target.model.id] if e.id in target.offerings]
        providers = {e.provider.id for e in pinned}
        regions = {e.offering.region for e in pinned}
        provider = providers.pop() if len(providers) == 1 else target.provider
        return provider, regions.pop() if len(regions) == 1 else None

    def _pinned_offering_answers(self, target: Target) -> bool:
        entries = [e for e in self.catalog.by_model[target.model.id] if target.admits(e)]
        return any(e.status(self.catalog.today) != "retired" for e in entries)

    def _static(self, target: Target, policy: Policy, needed: frozenset[str], sort: str) -> _Static:
        key = (target.model.id, target.provider, target.region, target.offerings, policy, needed, sort)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            cached = self._cache[key] = self._evaluate(target, policy, needed, sort)
        return cached

    def _evaluate(self, target: Target, policy: Policy, needed: frozenset[str], sort: str) -> _Static:
        checks = compile_checks(policy, needed, self.catalog, self.customer_location)
        passing = []
        rejected = []
        for entry in self.catalog.by_model[target.model.id]:
            reasons = [] if target.admits(entry) else [_pin_reason(target)]
            reasons.extend(r for check in checks if (r := check(entry)) is not None)
            if reasons:
                rejected.append(Rejection(entry, tuple(reasons)))
            else:
                passing.append(Candidate(entry, None, self.readiness.problems(entry)))
        ranked = self._order(tuple(passing), policy, 0, sort)
        starts = [
            c.entry.price.tier_start for c in ranked if c.entry.price and c.entry.price.tier_start is not None
        ]
        windows = [c.entry.context_window for c in ranked if c.entry.context_window is not None]
        return _Static(ranked, tuple(rejected), min(starts, default=None), min(windows, default=None))

    def _fit(
        self, candidates: tuple[Candidate, ...], needs: Needs, wanted: int
    ) -> tuple[tuple[Candidate, ...], tuple[Rejection, ...]]:
        """Context fit depends on the request (`wanted` tokens), so it is checked after the cached part."""
        fits, too_long = [], []
        for candidate in candidates:
            window = candidate.entry.context_window
            if window is not None and wanted > window:
                too_long.append(Rejection(candidate.entry, (_context_reason(needs, window),)))
            else:
                fits.append(candidate)
        return tuple(fits), tuple(too_long)

    def _sort_key(self, policy: Policy) -> tuple[str, tuple[str, ...]]:
        sort = policy.sort or "price"
        if sort != "price" and self.health is None:
            return "price", (f"no {sort} measurements yet: ordered by price",)
        return sort, ()

    def _order(
        self, candidates: tuple[Candidate, ...], policy: Policy, tokens: int, sort: str
    ) -> tuple[Candidate, ...]:
        scored = [Candidate(c.entry, self._score(c.entry, sort, tokens), c.not_ready) for c in candidates]
        order = {name: i for i, name in enumerate(policy.order)}

        def rank(candidate: Candidate) -> tuple[Any, ...]:
            entry = candidate.entry
            preferred = min((order[n] for n in _names(entry) if n in order), default=len(order))
            score = candidate.score
            by_score = (score is None, -score if sort == "throughput" and score is not None else score or 0)
            return (preferred, *by_score, _KIND_RANK.get(entry.provider.kind, 9), entry.id)

        return tuple(sorted(scored, key=rank))

    def _score(self, entry: Entry, sort: str, input_tokens: int) -> Decimal | float | None:
        if sort == "latency" and self.health is not None:
            return self.health.latency_ms(entry.id)
        if sort == "throughput" and self.health is not None:
            return self.health.throughput(entry.id)
        price = entry.price
        if price is None:
            return None
        rate_in = price.per_million("input", input_tokens)
        rate_out = price.per_million("output", input_tokens)
        if rate_in is None or rate_out is None:
            return None
        return (3 * rate_in + rate_out) / 4


def _names(entry: Entry) -> tuple[str, ...]:
    return (entry.provider.id, *entry.provider.openrouter_slugs)


def _pin_reason(target: Target) -> str:
    if target.offerings is not None:
        return "not the requested provider model id"
    where = target.provider or ""
    if target.region:
        where += f":{target.region}"
    return f"not the pinned provider ({where})"


def _context_reason(needs: Needs, window: int) -> str:
    output = f" + {needs.max_tokens:,} output" if needs.max_tokens else ""
    return f"context: {needs.input_tokens:,} input{output} tokens exceed the {window:,}-token window"


def _retired_message(model: Model, replacement: str | None) -> str:
    when = model.lifecycle.retired_on or model.lifecycle.retires_on
    since = f" on {when.isoformat()}" if when else ""
    if replacement:
        return (
            f"{model.id} was retired{since}; its replacement is {replacement}. Ask for {replacement}, "
            "or allow substitution (allow_substitution: true)"
        )
    return f"{model.id} was retired{since} and its maker names no replacement"
