"""The cost header's text: integer formatting that must say what exact decimal division says."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from modelrouter.gateway.rows import usd


@given(st.integers(min_value=-(10**15), max_value=10**15))
@example(0)
@example(1)
@example(10)
@example(1_000_000)
@example(1_500_000)
@example(-5)
def test_usd_is_the_exact_decimal_of_micro_usd(micro: int) -> None:
    assert usd(micro) == f"{Decimal(micro) / 1_000_000:f}"
