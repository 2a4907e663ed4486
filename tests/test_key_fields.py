"""Operator-typed key fields: every value a store cannot hold is a clear 400, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from modelrouter.config import load_config
from modelrouter.errors import BadRequest
from modelrouter.keys.fields import MAX_BUDGET_USD, MAX_COUNT, key_spec, parse_when


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"budget_usd": 4.6852435200302416e110}, "a budget must be at most"),  # found by schemathesis
        ({"budget_usd": str(MAX_BUDGET_USD + 1)}, "a budget must be at most"),
        ({"budget_usd": "-1"}, "non-negative"),
        ({"budget_usd": "Infinity"}, "non-negative"),
        ({"rpm": MAX_COUNT + 1}, "rpm must be a whole number from 1 to"),
        ({"tpm": 2**70}, "tpm must be a whole number from 1 to"),
        ({"rpm": 0}, "rpm must be a whole number from 1 to"),
        ({"expires": "99999999999d"}, "past the year 9999"),
    ],
)
def test_out_of_range_fields_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        key_spec(load_config(None), {"name": "k", **fields})


def test_the_largest_values_are_kept() -> None:
    spec = key_spec(
        load_config(None), {"name": "k", "budget_usd": str(MAX_BUDGET_USD), "rpm": MAX_COUNT, "tpm": 1}
    )
    assert spec.budget_micro_usd == int(MAX_BUDGET_USD) * 1_000_000 < 2**63
    assert (spec.rpm, spec.tpm) == (MAX_COUNT, 1)


def test_a_relative_expiry_counts_from_now() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    assert parse_when("30d", now=now) == datetime(2027, 1, 6, tzinfo=UTC)
