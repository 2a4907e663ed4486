"""Costs are exact Decimals, with genai-prices' tiers and the catalog's sourced overrides."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import genai_prices
import pytest
from genai_prices.types import ModelPrice
from hypothesis import given, settings
from hypothesis import strategies as st

from modelrouter.catalog import micro_usd
from modelrouter.catalog.catalog import Entry
from modelrouter.catalog.prices import Price
from modelrouter.engine import Engine
from modelrouter.ir import BILLED_COUNTS, Usage


def entry(engine: Engine, offering: str) -> Entry:
    return next(e for e in engine.catalog.entries if e.id == offering)


def cost(engine: Engine, offering: str, usage: Usage, at: datetime | None = None) -> Decimal:
    price = entry(engine, offering).price
    assert price is not None
    return price.cost(usage, at)


def test_plain_input_and_output(engine: Engine) -> None:
    usage = Usage(input_tokens=1000, output_tokens=500)
    assert cost(engine, "claude-sonnet-4.5@anthropic", usage) == Decimal("0.0105")


def test_cache_reads_and_writes_are_part_of_input_tokens(engine: Engine) -> None:
    # 1,000 uncached at $3, 8,000 read at $0.30, 1,000 written at $3.75 per million.
    usage = Usage(input_tokens=10_000, output_tokens=0, cache_read_tokens=8000, cache_write_tokens=1000)
    assert cost(engine, "claude-sonnet-4.5@anthropic", usage) == Decimal("0.00915")


def test_one_hour_cache_writes_are_priced_apart(engine: Engine) -> None:
    # 600 written for 5 minutes at $3.75, 400 for one hour at $6 per million.
    usage = Usage(input_tokens=1000, cache_write_tokens=1000, cache_write_1h_tokens=400)
    assert cost(engine, "claude-sonnet-4.5@anthropic", usage) == Decimal("0.00465")


def test_reasoning_tokens_are_billed_as_output(engine: Engine) -> None:
    with_reasoning = Usage(input_tokens=100, output_tokens=1000, reasoning_tokens=900)
    assert cost(engine, "gpt-5.2@openai", with_reasoning) == Decimal("0.014175")


def test_long_context_tier_applies_to_the_whole_request(engine: Engine) -> None:
    usage = Usage(input_tokens=250_000, output_tokens=1000)
    # Above 200k prompt tokens Sonnet 4.5 costs $6 in / $22.50 out for every token.
    assert cost(engine, "claude-sonnet-4.5@anthropic", usage) == Decimal("1.5225")
    price = entry(engine, "claude-sonnet-4.5@anthropic").price
    assert price is not None
    assert price.per_million("input", 250_000) == Decimal(6)
    assert price.per_million("input", 200_000) == Decimal(3)


def test_regional_factor_scales_tiers_and_cache_prices(engine: Engine) -> None:
    regional = entry(engine, "claude-sonnet-4.5@vertex:europe-west1").price
    assert regional is not None
    assert regional.origin == "catalog"
    assert regional.source.startswith("https://platform.claude.com")
    assert regional.per_million("input", 250_000) == Decimal("6.6")
    assert regional.per_million("cache_read") == Decimal("0.33")
    usage = Usage(input_tokens=250_000, output_tokens=1000)
    assert cost(engine, "claude-sonnet-4.5@vertex:europe-west1", usage) == Decimal("1.5225") * Decimal("1.1")


def test_explicit_override_replaces_a_stale_genai_prices_entry(engine: Engine) -> None:
    price = entry(engine, "deepseek-v3.2@deepseek:cn").price
    assert price is not None
    assert (price.per_million("input"), price.per_million("output")) == (Decimal("0.28"), Decimal("0.42"))
    assert price.origin == "catalog"
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=500_000)
    assert price.cost(usage) == Decimal("0.14") + Decimal("0.014") + Decimal("0.42")


def test_same_as_passes_an_upstream_price_through(engine: Engine) -> None:
    price = entry(engine, "grok-4.1@openrouter").price
    assert price is not None
    assert (price.per_million("input"), price.per_million("output")) == (Decimal("0.2"), Decimal("0.5"))


@pytest.mark.parametrize(
    ("hour", "expected"),
    [(2, Decimal("0.3") + Decimal("1.2")), (12, Decimal("0.15") + Decimal("0.6"))],
)
def test_cost_uses_the_rate_in_force_when_the_request_was_made(
    engine: Engine, hour: int, expected: Decimal
) -> None:
    # DeepSeek prices by time of day (peak 01:00-04:00 and 06:00-10:00 UTC), per genai-prices.
    when = datetime(2026, 11, 24, hour, 30, tzinfo=UTC)
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert cost(engine, "deepseek-v4-flash@deepseek:cn", usage, at=when) == expected


def test_micro_usd_rounds_half_up_to_integer_micro_dollars() -> None:
    assert micro_usd(Decimal("0.0105")) == 10_500
    assert micro_usd(Decimal("0.0000005")) == 1
    assert micro_usd(Decimal("0.00000049")) == 0
    assert micro_usd(Decimal("1.5225") * Decimal("1.1")) == 1_674_750


_COUNT = st.integers(min_value=0, max_value=3_000_000)


@functools.cache
def _all_rates() -> list[Any]:
    """Every distinct set of rates in the bundled catalog, plus shapes it may not hold."""
    catalog = Engine.load(None).catalog
    found = {id(e.price.rates): e.price.rates for e in catalog.entries if e.price is not None}
    synthetic = [
        ModelPrice(input_mtok=Decimal("0.15"), output_mtok=Decimal("0.6")),  # no cache prices at all
        ModelPrice(input_mtok=Decimal(3), output_mtok=Decimal(15), cache_write_mtok=Decimal("3.75")),
        ModelPrice(input_mtok=Decimal("1.1"), output_mtok=Decimal("4.4"), requests_kcount=Decimal(5)),
    ]
    return [*found.values(), *synthetic]


_RATES = st.deferred(lambda: st.sampled_from(_all_rates()))  # the catalog loads when first drawn


@settings(max_examples=300)
@given(
    rates=_RATES,
    counts=st.tuples(_COUNT, _COUNT, _COUNT, _COUNT, _COUNT),
)
def test_the_fast_cost_is_genai_prices_own(rates: Any, counts: tuple[int, ...]) -> None:
    """Every answer is priced through the affine fast path; it must say what calc_price says.

    Counts are drawn independently, so most are not well-formed (reads past the prompt): those
    go to calc_price as before, errors included.
    """
    usage = Usage(**dict(zip(BILLED_COUNTS, counts, strict=True)))
    price = Price(rates, "test", None, None, "catalog")
    try:
        expected: Decimal | str = rates.calc_price(
            genai_prices.Usage(**dict(zip(BILLED_COUNTS, counts, strict=True)))
        )["total_price"]
    except ValueError as exc:
        expected = f"ValueError: {exc}"
    try:
        got: Decimal | str = price.cost(usage)
    except ValueError as exc:
        got = f"ValueError: {exc}"
    assert got == expected


@given(rates=_RATES, prompt=_COUNT, output=_COUNT, data=st.data())
def test_the_fast_cost_on_well_formed_usage(
    rates: Any, prompt: int, output: int, data: st.DataObject
) -> None:
    """The same, with usage as providers report it (reads and writes within the prompt)."""
    read = data.draw(st.integers(min_value=0, max_value=prompt))
    write = data.draw(st.integers(min_value=0, max_value=prompt - read))
    write_1h = data.draw(st.integers(min_value=0, max_value=write))
    usage = Usage(
        input_tokens=prompt,
        output_tokens=output,
        cache_read_tokens=read,
        cache_write_tokens=write,
        cache_write_1h_tokens=write_1h,
    )
    expected = rates.calc_price(
        genai_prices.Usage(
            input_tokens=prompt,
            output_tokens=output,
            cache_read_tokens=read,
            cache_write_tokens=write,
            cache_write_1h_tokens=write_1h,
        )
    )["total_price"]
    assert Price(rates, "test", None, None, "catalog").cost(usage) == expected
