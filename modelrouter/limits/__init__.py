"""Per-key rate limits and budgets: reserved at admission, settled with the real figures.

At admission a request reserves 1 request and its worst-case tokens in the key's current
minute (rpm, tpm) and its worst-case cost in the key's budget period; all or nothing, so
concurrent requests cannot overdraw. Worst case: the estimated prompt plus `max_tokens`
(4,096 output tokens when the request sets none) at the dearest candidate's prices. When the
answer is done, the reservation is replaced by what was used. Budget counters start from the
ledger's spend for the period. A refusal is a `RateLimited` (429) with a Retry-After.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from modelrouter import ir
from modelrouter.catalog.catalog import Entry
from modelrouter.catalog.prices import micro_usd
from modelrouter.errors import RateLimited
from modelrouter.keys import KeyRecord, KeyStore, period_end, period_start
from modelrouter.limits.state import Check, MemoryState, RedisState, State, open_state

__all__ = ["DEFAULT_OUTPUT_RESERVE", "Admission", "Limiter", "MemoryState", "RedisState", "open_state"]

DEFAULT_OUTPUT_RESERVE = 4096
"""Output tokens reserved for a request that sets no `max_tokens`."""
MINUTE_TTL_S = 61
TOTAL_PERIOD_TTL_S = 3600
"""A `total` budget's counter is re-read from the ledger this often."""
SEED_CACHE_S = 5.0


@dataclass(slots=True)
class Admission:
    """What one admitted request reserved, to be settled when it ends."""

    key: KeyRecord
    tokens_counter: str | None
    tokens_reserved: int
    spend_counter: str | None
    spend_reserved: int
    spend_ttl_s: int


def worst_case_micro_usd(entries: Sequence[Entry], input_tokens: int, output_tokens: int) -> int:
    """The dearest candidate's price for this many tokens, in micro-USD."""
    usage = ir.Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    return max((micro_usd(e.price.cost(usage)) for e in entries if e.price is not None), default=0)


class Limiter:
    """Admits and settles requests of virtual keys against their limits."""

    def __init__(self, state: State, keys: KeyStore) -> None:
        self.state = state
        self.keys = keys
        self._seeds: dict[str, tuple[float, int]] = {}

    async def _spent(self, key: KeyRecord, since: datetime) -> int:
        name = f"{key.key_id}:{since.isoformat()}"
        cached = self._seeds.get(name)
        if cached is not None and time.monotonic() - cached[0] < SEED_CACHE_S:
            return cached[1]
        spent = await asyncio.to_thread(self.keys.spent_micro_usd, key.key_id, since)
        self._seeds[name] = (time.monotonic(), spent)
        return spent

    async def admit(
        self, key: KeyRecord, entries: Sequence[Entry], input_tokens: int, max_tokens: int | None
    ) -> Admission | None:
        """Reserve this request's share of the key's limits; `RateLimited` when it does not fit."""
        if key.rpm is None and key.tpm is None and key.budget_micro_usd is None:
            return None
        output = max_tokens or DEFAULT_OUTPUT_RESERVE
        minute = int(time.time() // 60)
        checks: list[Check] = []
        admission = Admission(key, None, 0, None, 0, 0)
        if key.rpm is not None:
            checks.append(Check(f"mr:rpm:{key.key_id}:{minute}", key.rpm, 1, MINUTE_TTL_S))
        if key.tpm is not None:
            admission.tokens_counter = f"mr:tpm:{key.key_id}:{minute}"
            admission.tokens_reserved = input_tokens + output
            checks.append(Check(admission.tokens_counter, key.tpm, admission.tokens_reserved, MINUTE_TTL_S))
        if key.budget_micro_usd is not None:
            now = datetime.now(UTC)
            start, end = period_start(key.budget_period, now), period_end(key.budget_period, now)
            admission.spend_counter = f"mr:spend:{key.key_id}:{start.date().isoformat()}"
            admission.spend_reserved = worst_case_micro_usd(entries, input_tokens, output)
            admission.spend_ttl_s = int((end - now).total_seconds()) + 60 if end else TOTAL_PERIOD_TTL_S
            seed = await self._spent(key, start)
            checks.append(
                Check(
                    admission.spend_counter,
                    key.budget_micro_usd,
                    admission.spend_reserved,
                    admission.spend_ttl_s,
                    seed,
                )
            )
        refusal = await self.state.admit(checks)
        if refusal is None:
            return admission
        raise _refused(key, refusal.check.counter, refusal.retry_after_s)

    async def settle(self, admission: Admission, usage: ir.Usage, cost_micro_usd: int) -> None:
        """Replace the reservation with what the request used."""
        if admission.tokens_counter is not None:
            used = usage.input_tokens + usage.output_tokens
            await self.state.adjust(admission.tokens_counter, used - admission.tokens_reserved, MINUTE_TTL_S)
        if admission.spend_counter is not None:
            delta = cost_micro_usd - admission.spend_reserved
            await self.state.adjust(admission.spend_counter, delta, admission.spend_ttl_s)


def _refused(key: KeyRecord, counter: str, retry_after_s: float) -> RateLimited:
    who = f"key {key.prefix}… ({key.name})"
    retry = max(1.0, retry_after_s)
    if counter.startswith("mr:rpm:"):
        message = f"{who} is over its limit of {key.rpm} requests per minute"
    elif counter.startswith("mr:tpm:"):
        message = f"{who} is over its limit of {key.tpm} tokens per minute (requests reserve max_tokens)"
    else:
        budget = (key.budget_micro_usd or 0) / 1_000_000
        period = key.budget_period or "total"
        message = (
            f"{who} has used its ${budget:g} {period} budget (requests in flight count at their worst case)"
        )
    return RateLimited(f"{message}; retry in {retry:.0f} s", retry_after=retry)
