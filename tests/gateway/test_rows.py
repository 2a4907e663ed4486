"""Rows and text built on every request: the final ledger row, the cost header.

The cost header uses integer formatting that must say what exact decimal division says.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from modelrouter import ir
from modelrouter.gateway.rows import final_request_row, usd
from modelrouter.ledger.rows import REQUEST_COLUMNS


@given(st.integers(min_value=-(10**15), max_value=10**15))
@example(0)
@example(1)
@example(10)
@example(1_000_000)
@example(1_500_000)
@example(-5)
def test_usd_is_the_exact_decimal_of_micro_usd(micro: int) -> None:
    assert usd(micro) == f"{Decimal(micro) / 1_000_000:f}"


def _entry(region: str | None) -> Any:
    offering = SimpleNamespace(provider_model="claude-sonnet-4-5@20250929", region=region)
    return SimpleNamespace(
        id="claude-sonnet-4.5@vertex:europe-west1", provider=SimpleNamespace(id="vertex"), offering=offering
    )


BASE = {"request_id": "r1", "created_at": "2026-12-07T09:00:00.000000+00:00", "requested_model": "m"}


def test_a_final_row_holds_the_outcome_in_ledger_columns_only() -> None:
    usage = ir.Usage(input_tokens=12, output_tokens=7, cache_read_tokens=3, reasoning_tokens=2)
    row = final_request_row(
        BASE,
        updated_at="2026-12-07T09:00:00.250000+00:00",
        state="ok",
        status=200,
        attempts=2,
        usage=usage,
        source="reported",
        cost=1500,
        latency_ms=2.5,
        error=None,
        entry=_entry("europe-west1"),
        affinity="kept",
    )
    assert set(row) <= set(REQUEST_COLUMNS)
    assert row == {
        **BASE,
        "updated_at": "2026-12-07T09:00:00.250000+00:00",
        "state": "ok",
        "version": 2,
        "http_status": 200,
        "attempts": 2,
        "input_tokens": 12,
        "output_tokens": 7,
        "cache_read_tokens": 3,
        "cache_write_tokens": 0,
        "reasoning_tokens": 2,
        "cost_micro_usd": 1500,
        "usage_source": "reported",
        "latency_ms": 2.5,
        "provider": "vertex",
        "offering": "claude-sonnet-4.5@vertex:europe-west1",
        "provider_model": "claude-sonnet-4-5@20250929",
        "region": "europe-west1",
        "affinity": "kept",
    }


def _plain_row(**changes: Any) -> dict[str, Any]:
    """A final row with no usage, cost or affinity; `changes` override the outcome."""
    arguments: dict[str, Any] = {"state": "ok", "status": 200, "attempts": 1, "usage": ir.Usage()}
    arguments["updated_at"] = BASE["created_at"]
    arguments |= {"source": "none", "cost": 0, "latency_ms": 1.0, "error": None, "entry": None}
    return final_request_row(BASE, affinity="", **(arguments | changes))


def test_a_failed_request_row_is_sparse_and_names_no_offering() -> None:
    row = _plain_row(state="upstream_error", status=502, error="the provider failed")
    assert set(row) <= set(REQUEST_COLUMNS) and None not in row.values()
    assert row["error"] == "the provider failed" and row["state"] == "upstream_error"
    assert not {"provider", "offering", "provider_model", "region", "affinity"} & set(row)
    assert "region" not in _plain_row(entry=_entry(None))
