"""The ledger rows of one chat request and its attempts, and what they cost.

Rows are sparse: values that are not known are left out and the store fills in defaults.
"""

from __future__ import annotations

from typing import Any

from modelrouter import ir
from modelrouter.catalog.catalog import Entry
from modelrouter.catalog.prices import micro_usd
from modelrouter.ledger import now_iso
from modelrouter.routing.attempt import Attempt

__all__ = ["USAGE_COLUMNS", "attempt_row", "cost_of", "final_request_row", "usd"]

USAGE_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


def attempt_row(
    request_id: str,
    started_at: str,
    attempt: Attempt,
    state: str,
    version: int,
    usage: ir.Usage | None = None,
    cost: int = 0,
    ended_at: str | None = None,
) -> dict[str, Any]:
    """An attempt's ledger row, sparse (the store fills in what is left out).

    A final row (version 2) ends `ended_at`, or now.
    """
    offering = attempt.entry.offering
    row: dict[str, Any] = {
        "request_id": request_id,
        "attempt_no": attempt.number,
        "provider": attempt.entry.provider.id,
        "offering": attempt.entry.id,
        "provider_model": offering.provider_model,
        "state": state,
        "started_at": started_at,
        "version": version,
    }
    if offering.region is not None:
        row["region"] = offering.region
    if attempt.status is not None:
        row["http_status"] = attempt.status
    if attempt.error is not None:
        row["error"] = attempt.error
    if version > 1:
        row["ended_at"] = ended_at or now_iso()
    if usage is not None:
        for name in USAGE_COLUMNS:
            value = getattr(usage, name)
            if value:
                row[name] = value
        if usage.input_tokens or usage.output_tokens:
            row["usage_source"] = "reported"
    if cost:
        row["cost_micro_usd"] = cost
    return row


def final_request_row(
    base: dict[str, Any],
    *,
    updated_at: str,
    state: str,
    status: int,
    attempts: int,
    usage: ir.Usage,
    source: str,
    cost: int,
    latency_ms: float,
    error: str | None,
    entry: Entry | None,
    affinity: str,
) -> dict[str, Any]:
    """A request's final row (version 2): `base` (what routing fixed) and how the request ended.

    Built as one dict display (it runs once per request); sparse like every row.
    """
    row = {
        **base,
        "updated_at": updated_at,
        "state": state,
        "version": 2,
        "http_status": status,
        "attempts": attempts,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "cost_micro_usd": cost,
        "usage_source": source,
        "latency_ms": latency_ms,
    }
    if error is not None:
        row["error"] = error
    if entry is not None:  # which offering answered
        offering = entry.offering
        row["provider"], row["offering"] = entry.provider.id, entry.id
        row["provider_model"] = offering.provider_model
        if offering.region is not None:
            row["region"] = offering.region
    if affinity:  # it can change on the way (a failed offering moves the conversation)
        row["affinity"] = affinity
    return row


def cost_of(entry: Entry, usage: ir.Usage) -> int:
    """What `usage` costs at `entry`'s price, in micro-USD (0 when the catalog has no price)."""
    if entry.price is None:
        return 0
    return micro_usd(entry.price.cost(usage))


def usd(micro: int) -> str:
    """Micro-USD as an exact decimal string, for the cost header and logs ("0.0105", "1", "0").

    Integer arithmetic: the same text as `Decimal(micro) / 1_000_000` (a test holds them
    equal), at a fifth of the cost on every answer.
    """
    whole, fraction = divmod(abs(micro), 1_000_000)
    text = f"{whole}.{fraction:06d}".rstrip("0").rstrip(".") if fraction else str(whole)
    return f"-{text}" if micro < 0 else text
