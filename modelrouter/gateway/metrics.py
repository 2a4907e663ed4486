"""Prometheus metrics for /metrics.

The request path only adds to plain dicts: one event loop thread updates them, so no lock
is needed, and label values are a tuple the caller already has. The text exposition is
prometheus_client's (the reference library), from a collector that reads the dicts at
scrape time. prometheus_client's own Counter and Histogram validate labels and take a lock
on every update; with the eight updates of a request that was about 3% of its instructions
(bench/instructions.py).

Each gateway has its own registry, so several gateways in one process (tests) do not mix.
Labels are bounded sets (model, provider, offering, status), never request ids or keys.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from typing import cast

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from typing_extensions import override

__all__ = ["CounterSeries", "HistogramSeries", "Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}

Labels = tuple[str, ...]
_go_float = cast(Callable[[float], str], floatToGoString)
"""A bucket bound as Prometheus writes it in `le` (1.0, 0.005, +Inf)."""


class CounterSeries:
    """A counter family: one running total per tuple of label values."""

    __slots__ = ("doc", "labels", "name", "values")

    def __init__(self, name: str, doc: str, labels: Sequence[str] = ()) -> None:
        self.name, self.doc, self.labels = name, doc, tuple(labels)
        self.values: dict[Labels, float] = {}

    def inc(self, labels: Labels = (), amount: float = 1) -> None:
        """Add `amount` to the series of `labels` (values in the order of `self.labels`)."""
        values = self.values
        values[labels] = values.get(labels, 0) + amount

    def collect(self) -> Metric:
        """The family as prometheus_client exposes it (`_total` per series)."""
        family = CounterMetricFamily(self.name, self.doc, labels=self.labels)
        for labels, value in list(self.values.items()):
            family.add_metric(labels, value)
        return family


class HistogramSeries:
    """A histogram family: per tuple of label values, counts per bucket and the sum."""

    __slots__ = ("bounds", "doc", "labels", "name", "values")

    def __init__(self, name: str, doc: str, labels: Sequence[str], buckets: Sequence[float]) -> None:
        self.name, self.doc, self.labels = name, doc, tuple(labels)
        self.bounds = tuple(float(b) for b in buckets)
        self.values: dict[Labels, list[float]] = {}
        """Per series: the count of each bucket (non-cumulative, +Inf last), then the sum."""

    def observe(self, labels: Labels, amount: float) -> None:
        """Count `amount` in the first bucket whose upper bound is at least it."""
        counts = self.values.get(labels)
        if counts is None:
            counts = self.values[labels] = [0.0] * (len(self.bounds) + 2)
        counts[bisect_left(self.bounds, amount)] += 1
        counts[-1] += amount

    def collect(self) -> Metric:
        """The family as prometheus_client exposes it (cumulative `_bucket`s, `_count`, `_sum`)."""
        family = HistogramMetricFamily(self.name, self.doc, labels=self.labels)
        edges = [_go_float(b) for b in (*self.bounds, math.inf)]
        for labels, counts in list(self.values.items()):
            cumulative, buckets = 0.0, []
            for edge, count in zip(edges, counts, strict=False):
                cumulative += count
                buckets.append((edge, cumulative))
            family.add_metric(labels, buckets, counts[-1])
        return family


class Metrics(Collector):
    """The gateway's counters and histograms, and the collector that hands them to its registry."""

    def __init__(self) -> None:
        self.requests = CounterSeries(
            "modelrouter_requests", "Requests by outcome", ["protocol", "model", "provider", "status"]
        )
        self.attempts = CounterSeries(
            "modelrouter_attempts", "Upstream attempts by outcome", ["provider", "offering", "outcome"]
        )
        self.fallbacks = CounterSeries("modelrouter_fallbacks", "Requests answered after a first failure")
        self.latency = HistogramSeries(
            "modelrouter_request_seconds", "Time to the complete answer", ["model"], _LATENCY_BUCKETS
        )
        self.ttft = HistogramSeries(
            "modelrouter_time_to_first_token_seconds",
            "Time to the first meaningful stream event",
            ["model"],
            _LATENCY_BUCKETS,
        )
        self.tokens = CounterSeries("modelrouter_tokens", "Tokens by kind", ["model", "provider", "kind"])
        self.cost = CounterSeries("modelrouter_cost_usd", "Spend in USD", ["model", "provider"])
        self._breaker_states: dict[str, str] = {}
        self.registry = CollectorRegistry()
        self.registry.register(self)

    @override
    def collect(self) -> Iterator[Metric]:
        """Every family, read at scrape time."""
        series = (
            self.requests,
            self.attempts,
            self.fallbacks,
            self.latency,
            self.ttft,
            self.tokens,
            self.cost,
        )
        for family in series:
            yield family.collect()
        breakers = GaugeMetricFamily(
            "modelrouter_breaker_state", "Circuit breaker: 0 closed, 1 half open, 2 open", labels=["offering"]
        )
        for offering, state in self._breaker_states.items():
            breakers.add_metric([offering], _BREAKER_STATES.get(state, 0))
        yield breakers

    def render(self, breaker_states: dict[str, str]) -> bytes:
        """The Prometheus text exposition, with the breakers' current states."""
        self._breaker_states = dict(breaker_states)
        return generate_latest(self.registry)
