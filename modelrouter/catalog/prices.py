"""Offering prices from genai-prices, with the catalog's sourced overrides, and exact costs.

genai-prices (pydantic's maintained price data) knows most offerings, including Bedrock's
regional vs global profiles, tiers above 200k prompt tokens and cache prices. The catalog
overrides it only where it is wrong or silent, always with a source: explicit figures, a
factor (regional premiums, which scale tiers and cache prices too), or `same_as` another
genai-prices entry (aggregators passing an upstream price through). Money is `Decimal`,
never float; `micro_usd` rounds a total to integer micro-dollars for storage.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

import genai_prices
from genai_prices import data_snapshot
from genai_prices.types import ModelInfo, ModelPrice, Tier, TieredPrices

from modelrouter.catalog.records import Confidence, Offering, PriceOverride, Provider
from modelrouter.ir import BILLED_COUNTS, Usage

__all__ = ["Price", "micro_usd", "offering_price"]

GENAI_PRICES_SOURCE = f"genai-prices {genai_prices.__version__}"
_MILLION = Decimal(1_000_000)
_FIELDS = {
    "input": "input_mtok",
    "output": "output_mtok",
    "cache_read": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "cache_write_1h": "cache_write_1h_mtok",
}


def micro_usd(usd: Decimal) -> int:
    """USD as integer micro-dollars, rounded half up (the unit the ledger stores)."""
    return int((usd * _MILLION).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens for one offering, with where the figures come from.

    Some providers price by date and even by hour (DeepSeek's peak and off-peak windows), so
    `rates` is the price when the catalog was built, for listings and ranking, while
    `cost(usage, at=...)` prices a request at the moment it was made.
    """

    rates: ModelPrice
    source: str
    as_of: date | None
    confidence: Confidence | None
    origin: str
    """"genai-prices", "catalog" (a sourced override) or "operator" (the config)."""
    note: str | None = None
    info: ModelInfo | None = None
    """The genai-prices entry, when the price follows it over time."""
    factor: Decimal | None = None

    def per_million(self, kind: str, input_tokens: int = 0) -> Decimal | None:
        """The rate for `kind` (input, output, cache_read, cache_write, cache_write_1h).

        With `input_tokens`, tiered prices resolve the way providers bill them: the whole
        request pays the rate of the highest tier its prompt crosses.
        """
        value = getattr(self.rates, _FIELDS[kind], None)
        if isinstance(value, TieredPrices):
            rate = value.base
            for tier in value.tiers:
                if input_tokens > tier.start:
                    rate = tier.price
            return rate
        return value

    @property
    def tiered(self) -> bool:
        """Whether any rate changes with the prompt's size (long-context tiers)."""
        return self.tier_start is not None

    @property
    def tier_start(self) -> int | None:
        """The smallest prompt size above which some rate changes, or None without tiers."""
        starts = [
            t.start for v in self.rates.__dict__.values() if isinstance(v, TieredPrices) for t in v.tiers
        ]
        return min(starts, default=None)

    def at(self, when: datetime) -> ModelPrice:
        """The rates in force at `when`."""
        if self.info is None:
            return self.rates
        rates = self.info.get_prices(when)
        return _scaled(rates, self.factor) if self.factor is not None else rates

    def cost(self, usage: Usage, at: datetime | None = None) -> Decimal:
        """The exact cost of `usage` in USD (input, output, cache reads and writes).

        genai-prices' `calc_price` takes about 70 us (it decomposes the usage into a tree on
        every call), more than the rest of a request's routing; every answer is priced. For
        rates without tiers the cost is affine in the five counts, so `_Affine` asks
        `calc_price` once per rates for the coefficients and prices well-formed usage with five
        Decimal products; anything else (tiers, a usage genai-prices would refuse, a past
        date) goes to `calc_price` itself. A test holds the two equal over the whole catalog.
        """
        counts: tuple[int, ...] = _billed_counts(usage)
        if at is None:
            affine = _affine(self.rates)
            if affine is not None and affine.applies(counts):
                return affine.cost(counts)
        rates = self.rates if at is None else self.at(at)
        return _calc(rates, counts)


_billed_counts = operator.attrgetter(*BILLED_COUNTS)
"""A usage's counts in BILLED_COUNTS order, read in one C-level call (every answer is priced)."""
_PROBE = 1_000_000
_AFFINE: dict[int, tuple[ModelPrice, _Affine | None]] = {}
"""Coefficients by rates object (held, so its id cannot be reused while cached)."""


def _calc(rates: ModelPrice, counts: tuple[int, ...]) -> Decimal:
    total: Decimal = rates.calc_price(genai_prices.Usage(**dict(zip(BILLED_COUNTS, counts, strict=True))))[
        "total_price"
    ]
    return total


@dataclass(frozen=True, slots=True)
class _Affine:
    """A cost as a constant plus a rate per token of each count (rates without tiers)."""

    constant: Decimal
    per_token: tuple[Decimal, ...]

    @staticmethod
    def applies(counts: tuple[int, ...]) -> bool:
        """Well-formed usage: cache reads and writes within the input, 1h writes within the writes."""
        prompt, _, read, write, write_1h = counts
        return min(counts) >= 0 and read + write <= prompt and write_1h <= write

    def cost(self, counts: tuple[int, ...]) -> Decimal:
        """The cost of well-formed `counts` (see `applies`)."""
        total = self.constant
        for count, rate in zip(counts, self.per_token, strict=True):
            if count:
                total += count * rate
        return total


def _affine(rates: ModelPrice) -> _Affine | None:
    cached = _AFFINE.get(id(rates))
    if cached is not None and cached[0] is rates:
        return cached[1]
    found = None
    if not any(isinstance(value, TieredPrices) for value in rates.__dict__.values()):
        n = _PROBE
        zero = _calc(rates, (0, 0, 0, 0, 0))
        prompt = _calc(rates, (n, 0, 0, 0, 0))
        written = _calc(rates, (n, 0, 0, n, 0))
        per_token = (
            (prompt - zero) / n,
            (_calc(rates, (0, n, 0, 0, 0)) - zero) / n,
            (_calc(rates, (n, 0, n, 0, 0)) - prompt) / n,
            (written - prompt) / n,
            (_calc(rates, (n, 0, 0, n, n)) - written) / n,
        )
        found = _Affine(zero, per_token)
    if len(_AFFINE) >= 4096:
        _AFFINE.clear()
    _AFFINE[id(rates)] = (rates, found)
    return found


def offering_price(provider: Provider, offering: Offering, now: datetime) -> Price | None:
    """The price of an offering as of `now`, or None when nobody knows it."""
    override = offering.price
    if override is not None and override.input is not None:
        return _explicit(override, offering.origin)
    info = _lookup(*_reference(provider, offering, override))
    if info is None:
        return None
    if override is None:
        return Price(info.get_prices(now), GENAI_PRICES_SOURCE, now.date(), None, "genai-prices", info=info)
    origin = "operator" if offering.origin == "operator" else "catalog"
    price = Price(
        info.get_prices(now),
        override.source,
        override.as_of,
        override.confidence,
        origin,
        override.note,
        info=info,
        factor=override.factor,
    )
    return replace(price, rates=price.at(now))


def _reference(provider: Provider, offering: Offering, override: PriceOverride | None) -> tuple[str, str]:
    if override is not None and override.same_as is not None:
        prices_provider, _, ref = override.same_as.partition(":")
        return prices_provider, ref
    return provider.prices_provider or "", offering.price_ref or offering.provider_model


def _explicit(override: PriceOverride, origin: str) -> Price:
    figures = {_FIELDS[k]: getattr(override, k) for k in _FIELDS if getattr(override, k) is not None}
    kind = "operator" if origin == "operator" else "catalog"
    return Price(
        ModelPrice(**figures), override.source, override.as_of, override.confidence, kind, override.note
    )


@cache
def _lookup(prices_provider: str, ref: str) -> ModelInfo | None:
    if not prices_provider:
        return None
    try:
        _, info = data_snapshot.get_snapshot().find_provider_model(ref, None, prices_provider, None)
    except LookupError:
        return None
    return info


def _scaled(price: ModelPrice, factor: Decimal) -> ModelPrice:
    values: dict[str, Decimal | TieredPrices | None] = {}
    for key, value in price.__dict__.items():
        if isinstance(value, TieredPrices):
            values[key] = TieredPrices(
                value.base * factor, [Tier(t.start, t.price * factor) for t in value.tiers]
            )
        elif isinstance(value, Decimal):
            values[key] = value * factor
        else:
            values[key] = value
    return ModelPrice(**values)
