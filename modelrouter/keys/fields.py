"""Turning what an operator typed (CLI flags, admin API JSON) into a `KeySpec`, and back."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from modelrouter.config import Config
from modelrouter.errors import BadRequest
from modelrouter.keys import KeyRecord, KeySpec
from modelrouter.routing.policy import Policy

__all__ = ["describe", "key_spec", "parse_when"]

_RELATIVE = re.compile(r"^(\d+)([dhm])$")
MAX_BUDGET_USD = Decimal(10**12)
"""The largest budget: its micro-USD must fit the stores' 64-bit integers (9.2e18)."""
MAX_COUNT = 10**15
"""The largest rpm or tpm (a 64-bit counter in Redis and the stores, with room to spare)."""


def parse_when(text: str | None, *, now: datetime | None = None) -> datetime | None:
    """An ISO date or time (UTC unless it says otherwise), or a span from now like `30d`, `12h`, `45m`."""
    if text is None or text == "":
        return None
    now = now or datetime.now(UTC)
    relative = _RELATIVE.match(text.strip())
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        try:
            span = {"d": timedelta(days=amount), "h": timedelta(hours=amount), "m": timedelta(minutes=amount)}
            return now + span[unit]
        except OverflowError as exc:  # past year 9999
            raise BadRequest(f"{text!r} reaches past the year 9999") from exc
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise BadRequest(f"{text!r} is neither an ISO date/time nor a span like 30d, 12h or 45m") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _micro_usd(value: Any) -> int | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise BadRequest(f"budget {value!r} is not an amount in USD") from exc
    if amount < 0 or not amount.is_finite():
        raise BadRequest("a budget must be a non-negative amount in USD")
    if amount > MAX_BUDGET_USD:
        raise BadRequest(f"a budget must be at most {MAX_BUDGET_USD:,} USD")
    return int(amount * 1_000_000)


def _policy(config: Config, value: Any) -> str | dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"policy is neither a policy name nor valid JSON: {exc}") from exc
    if isinstance(value, dict):
        Policy.parse(value, name="key")
        return dict(value)
    if not isinstance(value, str) or value not in (config.policies or {}):
        known = ", ".join(sorted(config.policies or {})) or "none defined"
        raise BadRequest(f"unknown policy {value!r} (policies: {known})")
    return value


def _names(values: Iterable[Any] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    items = [values] if isinstance(values, str) else list(values)
    return tuple(v.strip() for item in items for v in str(item).split(",") if v.strip())


def _count(value: Any, label: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_COUNT:
        raise BadRequest(f"{label} must be a whole number from 1 to {MAX_COUNT:,}")
    return value


def key_spec(config: Config, fields: dict[str, Any]) -> KeySpec:
    """A key spec from operator fields; `BadRequest` names the first field that is wrong.

    Fields: name, policy, models, providers, budget_usd, budget_period, rpm, tpm, expires.
    """
    known = {"name", "policy", "models", "providers", "budget_usd", "budget_period", "rpm", "tpm", "expires"}
    unknown = set(fields) - known
    if unknown:
        raise BadRequest(
            f"unknown key field(s) {', '.join(sorted(unknown))}; fields are {', '.join(sorted(known))}"
        )
    if not isinstance(fields.get("name"), str):
        raise BadRequest("a key needs a name")
    budget = _micro_usd(fields.get("budget_usd"))
    expires = parse_when(fields.get("expires"))
    return KeySpec(
        name=fields["name"],
        policy=_policy(config, fields.get("policy")),
        models=_names(fields.get("models")),
        providers=_names(fields.get("providers")),
        budget_micro_usd=budget,
        budget_period=(fields.get("budget_period") or "month") if budget is not None else None,
        rpm=_count(fields.get("rpm"), "rpm"),
        tpm=_count(fields.get("tpm"), "tpm"),
        expires_at=expires.isoformat() if expires else None,
    )


def describe(record: KeyRecord, spent_micro_usd: int, now: datetime) -> dict[str, Any]:
    """A key for lists: its public fields, status and spend in the current budget period."""
    data = record.to_json()
    data["spent_usd"] = spent_micro_usd / 1_000_000
    refused = record.refusal(now) is not None
    data["status"] = ("revoked" if record.revoked_at else "expired") if refused else "active"
    return data
