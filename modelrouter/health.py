"""Passive health per offering: circuit breakers, Retry-After cool-downs, latency estimates.

Envoy-style outlier ejection (reference/reliability.md section 2): after `threshold`
consecutive failures an offering is ejected for 30 s x the number of ejections so far,
capped at 300 s; when the time is up one probe request is let through (half-open) and a
success closes the breaker. A provider's Retry-After cools the offering until then. If every
offering a request may use is ejected, the router tries them anyway ("panic mode") rather
than failing closed on health alone. The state is per process (in memory); shared state
across instances comes with the Redis backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Breaker", "HealthBoard"]

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(slots=True)
class Breaker:
    """The health of one offering."""

    failures: int = 0
    """Consecutive failures since the last success."""
    ejections: int = 0
    """How many times it was ejected recently (each ejection lasts longer; successes decay it)."""
    ejected: bool = False
    open_until: float = 0.0
    cool_until: float = 0.0
    """Not before this time (the provider's Retry-After)."""
    probing: bool = False
    latency_ms: float | None = None
    """Exponentially weighted time to first byte."""
    throughput: float | None = None
    """Exponentially weighted output tokens per second."""

    def state(self, now: float) -> str:
        """closed, open (ejected), or half_open (ejection over: one probe may go)."""
        if not self.ejected:
            return CLOSED
        return OPEN if now < self.open_until else HALF_OPEN


class HealthBoard:
    """Breakers for every offering, keyed by offering id."""

    def __init__(
        self,
        *,
        threshold: int = 5,
        base_ejection_s: float = 30.0,
        max_ejection_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.base_ejection_s = base_ejection_s
        self.max_ejection_s = max_ejection_s
        self.clock = clock
        self._breakers: dict[str, Breaker] = {}

    def breaker(self, offering: str) -> Breaker:
        """The breaker of an offering (created closed on first use)."""
        found = self._breakers.get(offering)
        if found is None:
            found = self._breakers[offering] = Breaker()
        return found

    def available(self, offering: str) -> bool:
        """Whether a request may go to this offering now; a half-open breaker admits one probe."""
        breaker = self._breakers.get(offering)
        if breaker is None:
            return True
        now = self.clock()
        if now < breaker.cool_until:
            return False
        state = breaker.state(now)
        if state == OPEN or (state == HALF_OPEN and breaker.probing):
            return False
        if state == HALF_OPEN:
            breaker.probing = True
        return True

    def wait_s(self, offering: str) -> float:
        """Seconds until the offering may be tried again (0 when it may be now)."""
        breaker = self._breakers.get(offering)
        if breaker is None:
            return 0.0
        now = self.clock()
        ejected = breaker.open_until - now if breaker.ejected else 0.0
        return max(0.0, breaker.cool_until - now, ejected)

    def success(
        self, offering: str, *, ttfb_ms: float | None = None, tokens_per_s: float | None = None
    ) -> None:
        """A request succeeded: the breaker closes; latency and throughput estimates move."""
        breaker = self.breaker(offering)
        breaker.failures = 0
        breaker.probing = False
        if breaker.ejected:
            breaker.ejected = False
        elif breaker.ejections:
            breaker.ejections -= 1
        if ttfb_ms is not None:
            breaker.latency_ms = _ewma(breaker.latency_ms, ttfb_ms)
        if tokens_per_s is not None:
            breaker.throughput = _ewma(breaker.throughput, tokens_per_s)

    def failure(self, offering: str, *, retry_after_s: float | None = None) -> None:
        """A failure that says something about the offering's health (not the caller's fault)."""
        breaker = self.breaker(offering)
        now = self.clock()
        if retry_after_s is not None and retry_after_s > 0:
            breaker.cool_until = max(breaker.cool_until, now + retry_after_s)
        breaker.failures += 1
        probe_failed = breaker.probing
        breaker.probing = False
        if probe_failed or breaker.failures >= self.threshold:
            breaker.ejections += 1
            breaker.ejected = True
            breaker.failures = 0
            breaker.open_until = now + min(self.base_ejection_s * breaker.ejections, self.max_ejection_s)

    def reset(self) -> None:
        """Forget every breaker and measurement, as a fresh process would start.

        For cases that must not inherit each other's cool-downs (property tests that drive one
        gateway through thousands of independent failure plans).
        """
        self._breakers.clear()

    def states(self) -> dict[str, str]:
        """Every known breaker's state, for /metrics and /healthz."""
        now = self.clock()
        return {offering: b.state(now) for offering, b in self._breakers.items()}

    def latency_ms(self, offering: str) -> float | None:
        """The offering's typical time to first byte, for the latency sort."""
        breaker = self._breakers.get(offering)
        return breaker.latency_ms if breaker else None

    def throughput(self, offering: str) -> float | None:
        """The offering's typical output tokens per second, for the throughput sort."""
        breaker = self._breakers.get(offering)
        return breaker.throughput if breaker else None


def _ewma(previous: float | None, sample: float, weight: float = 0.2) -> float:
    return sample if previous is None else previous + weight * (sample - previous)
