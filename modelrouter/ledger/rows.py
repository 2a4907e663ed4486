"""Ledger rows as plain dicts with a fixed column order, shared by the journal and the stores.

Applying a row is a whole-row upsert (a column the row leaves out takes its default, see
`REQUEST_DEFAULTS`) that only takes effect when its `version` is higher than the stored one:
replays and duplicates change nothing, and a row can only move forward (started -> final,
started -> interrupted). The gateway journals rows sparse (no None values), which keeps the
journal lines short and the ingester's parsing cheap.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "ATTEMPT_COLUMNS",
    "ATTEMPT_DEFAULTS",
    "FINAL_STATES",
    "REQUEST_COLUMNS",
    "REQUEST_DEFAULTS",
    "STARTED",
    "attempt_row",
    "request_row",
]

REQUEST_COLUMNS: Final = (
    "request_id",
    "created_at",
    "updated_at",
    "key_id",
    "client_request_id",
    "client_protocol",
    "stream",
    "requested_model",
    "model",
    "substituted_from",
    "policy",
    "provider",
    "offering",
    "region",
    "provider_model",
    "state",
    "http_status",
    "attempts",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_micro_usd",
    "usage_source",
    "latency_ms",
    "ttft_ms",
    "error",
    "instance_id",
    "affinity",
    "version",
)
ATTEMPT_COLUMNS: Final = (
    "request_id",
    "attempt_no",
    "provider",
    "offering",
    "region",
    "provider_model",
    "state",
    "http_status",
    "started_at",
    "ended_at",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_micro_usd",
    "usage_source",
    "error",
    "version",
)
STARTED: Final = "started"
FINAL_STATES: Final = frozenset(
    {
        "ok",
        "upstream_error",
        "upstream_error_midstream",
        "client_disconnected",
        "invalid_response",
        "stalled",
        "rejected",
        "interrupted",
    }
)
"""Where a row ends. `rejected` never reached a provider; `interrupted` is set by the reconciler."""

_ZERO_COLUMNS = frozenset(
    {
        "attempts",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
        "cost_micro_usd",
    }
)


def _default(column: str) -> Any:
    if column in _ZERO_COLUMNS:
        return 0
    return {"usage_source": "none", "stream": False}.get(column)


REQUEST_DEFAULTS: Final = tuple((c, _default(c)) for c in REQUEST_COLUMNS)
"""Each `requests` column with the value a row that leaves it out stands for, in column order."""
ATTEMPT_DEFAULTS: Final = tuple((c, _default(c)) for c in ATTEMPT_COLUMNS)


def _complete(defaults: tuple[tuple[str, Any], ...], values: dict[str, Any]) -> dict[str, Any]:
    row = {column: values.get(column, default) for column, default in defaults}
    unknown = values.keys() - row.keys()
    if unknown:
        raise KeyError(f"unknown ledger column(s): {sorted(unknown)}")
    if row["usage_source"] is None:
        row["usage_source"] = "none"
    return row


def request_row(**values: Any) -> dict[str, Any]:
    """A complete `requests` row (missing counters are 0, other missing columns NULL)."""
    row = _complete(REQUEST_DEFAULTS, values)
    row["stream"] = bool(row["stream"])
    return row


def attempt_row(**values: Any) -> dict[str, Any]:
    """A complete `attempts` row."""
    return _complete(ATTEMPT_DEFAULTS, values)
