"""Hard constraints compiled from a policy: one small function per constraint.

Each check takes an `Entry` and returns None when it qualifies, or a reason a person can
act on. A fact the catalog does not know never qualifies ("unknown" is a reason too). Only
the constraints a policy actually sets are compiled, so an empty policy costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from modelrouter.catalog.catalog import Catalog, Entry
from modelrouter.routing.policy import Policy

__all__ = ["Check", "compile_checks"]

Check = Callable[[Entry], str | None]


def compile_checks(
    policy: Policy, needed: frozenset[str], catalog: Catalog, customer: str | None = None
) -> list[Check]:
    """The checks `policy` (plus the request's `needed` capabilities) imposes, in display order."""
    checks: list[Check] = [_lifecycle(policy, catalog.today)]
    if policy.only is not None or policy.ignore:
        checks.append(_providers(policy))
    checks += [_only(names) for names in policy.only_also]
    if policy.residency is not None:
        checks.append(_residency(policy.residency))
    checks += [_residency(names) for names in policy.residency_also]
    if policy.jurisdiction_allow is not None or policy.jurisdiction_deny:
        checks.append(_jurisdiction(policy, customer))
    if policy.max_retention_days is not None:
        checks.append(_retention(policy.max_retention_days))
    if policy.no_training:
        checks.append(_training)
    if policy.private_endpoint:
        checks.append(_private_endpoint)
    if policy.compliance:
        checks.append(_compliance(policy.compliance))
    if policy.max_price_input is not None or policy.max_price_output is not None:
        checks.append(_max_price(policy.max_price_input, policy.max_price_output))
    capabilities = policy.capabilities | needed
    if capabilities:
        checks.append(_capabilities(capabilities))
    return checks


def _note(entry: Entry, term: str) -> str:
    note = entry.terms[term].note
    return f" ({note})" if note else ""


def _lifecycle(policy: Policy, today: date) -> Check:
    allowed = policy.lifecycle

    def check(entry: Entry) -> str | None:
        status = entry.status(today)
        lifecycle = entry.lifecycle
        if status == "retired":
            when = lifecycle.retired_on or lifecycle.retires_on
            since = f" on {when.isoformat()}" if when else ""
            instead = f"; replacement {lifecycle.replacement}" if lifecycle.replacement else ""
            return f"lifecycle: retired at {entry.provider.id}{since}{instead}"
        if allowed is not None and status not in allowed:
            retires = f", retires {lifecycle.retires_on.isoformat()}" if lifecycle.retires_on else ""
            return f"lifecycle: {status}{retires}; policy allows {', '.join(sorted(allowed))}"
        return None

    return check


def _providers(policy: Policy) -> Check:
    def check(entry: Entry) -> str | None:
        names = {entry.provider.id, *entry.provider.openrouter_slugs}
        if policy.only is not None and not names & policy.only:
            return f"provider {entry.provider.id} is not in providers.only ({', '.join(sorted(policy.only))})"
        if names & policy.ignore:
            return f"provider {entry.provider.id} is in providers.ignore"
        return None

    return check


def _only(wanted: frozenset[str]) -> Check:
    """One more `providers.only` list (from another policy tightened with the first)."""

    def check(entry: Entry) -> str | None:
        if {entry.provider.id, *entry.provider.openrouter_slugs} & wanted:
            return None
        return f"provider {entry.provider.id} is not in providers.only ({', '.join(sorted(wanted))})"

    return check


def _residency(wanted: frozenset[str]) -> Check:
    label = ", ".join(sorted(wanted))

    def check(entry: Entry) -> str | None:
        geo = entry.terms["residency"].value
        region = entry.offering.region
        if geo is None:
            return f"residency: {region} gives no residency guarantee; policy requires {label}"
        if geo in wanted or (region in wanted):
            return None
        return f"residency: processed in {geo} ({region}); policy requires {label}"

    return check


def _matches(code: str, wanted: frozenset[str]) -> bool:
    """US matches US and US-CA; US-CA matches only US-CA."""
    return any(code == w or code.startswith(w + "-") for w in wanted)


def _jurisdiction(policy: Policy, customer: str | None) -> Check:
    allow, deny = policy.jurisdiction_allow, policy.jurisdiction_deny

    def check(entry: Entry) -> str | None:
        if entry.jurisdiction is None:
            return f"jurisdiction unknown{_note(entry, 'jurisdiction')}"
        possible = entry.jurisdiction.possible(customer)
        shown = " or ".join(sorted(possible))
        denied = sorted(code for code in possible if _matches(code, deny))
        if denied:
            return f"jurisdiction: {', '.join(denied)} is denied"
        if allow is not None and not all(_matches(code, allow) for code in possible):
            depends = (
                "" if len(possible) == 1 else " (depends on where you contract from: set customer_location)"
            )
            return f"jurisdiction: {shown} is not in the allowed {', '.join(sorted(allow))}{depends}"
        return None

    return check


def _retention(limit: int) -> Check:
    def check(entry: Entry) -> str | None:
        days = entry.retention_days
        if days is None:
            return f"retention unknown{_note(entry, 'retention_days')}; policy allows at most {limit} days"
        if days > limit:
            how = entry.terms["zero_retention"]
            zdr = f"; zero retention: {how.value}" if how.known and how.value != "none" else ""
            return f"retention: {days} days; policy allows at most {limit}{zdr}"
        return None

    return check


def _training(entry: Entry) -> str | None:
    if entry.training is None:
        return f"training on API data unknown{_note(entry, 'training')}"
    return "trains on API data" if entry.training else None


def _private_endpoint(entry: Entry) -> str | None:
    if entry.private_endpoint is None:
        return "private endpoint unknown"
    return None if entry.private_endpoint else "no private endpoint"


def _compliance(required: frozenset[str]) -> Check:
    def check(entry: Entry) -> str | None:
        if entry.compliance is None:
            wanted = ", ".join(sorted(required))
            return f"compliance unknown{_note(entry, 'compliance')}; policy requires {wanted}"
        missing = sorted(required - entry.compliance)
        return f"compliance: lacks {', '.join(missing)}" if missing else None

    return check


def _max_price(max_input: Decimal | None, max_output: Decimal | None) -> Check:
    def check(entry: Entry) -> str | None:
        if entry.price is None:
            return "price unknown; policy sets a max_price"
        reasons = []
        for kind, cap in (("input", max_input), ("output", max_output)):
            if cap is None:
                continue
            rate = entry.price.per_million(kind)
            if rate is None or rate > cap:
                shown = "unknown" if rate is None else f"${rate:f}/M"
                reasons.append(f"{kind} price {shown} above the ${cap:f}/M cap")
        return "; ".join(reasons) or None

    return check


def _capabilities(required: frozenset[str]) -> Check:
    ordered = sorted(required)

    def check(entry: Entry) -> str | None:
        missing = [c for c in ordered if c not in entry.capabilities]
        if not missing:
            return None
        parts = [f"{c} support unknown" if _unknown(entry, c) else f"no {c} support" for c in missing]
        return "capabilities: " + ", ".join(parts)

    return check


def _unknown(entry: Entry, capability: str) -> bool:
    if capability == "vision":
        return False
    return getattr(entry.model, capability, None) is None
