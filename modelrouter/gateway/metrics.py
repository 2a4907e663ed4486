"""Prometheus metrics for /metrics (prometheus_client, the reference client library).

Each gateway gets its own registry, so several gateways in one process (tests) do not mix.
Labels are bounded sets (model, provider, offering, status class), never request ids or keys.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics import MetricWrapperBase

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}
_MAX_CHILDREN = 10_000


class Metrics:
    """The gateway's counters and histograms."""

    def __init__(self) -> None:
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "modelrouter_requests",
            "Requests by outcome",
            ["protocol", "model", "provider", "status"],
            registry=r,
        )
        self.attempts = Counter(
            "modelrouter_attempts",
            "Upstream attempts by outcome",
            ["provider", "offering", "outcome"],
            registry=r,
        )
        self.fallbacks = Counter(
            "modelrouter_fallbacks", "Requests answered after a first failure", registry=r
        )
        self.latency = Histogram(
            "modelrouter_request_seconds",
            "Time to the complete answer",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "modelrouter_time_to_first_token_seconds",
            "Time to the first meaningful stream event",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "modelrouter_tokens", "Tokens by kind", ["model", "provider", "kind"], registry=r
        )
        self.cost = Counter("modelrouter_cost_usd", "Spend in USD", ["model", "provider"], registry=r)
        self.breakers = Gauge(
            "modelrouter_breaker_state",
            "Circuit breaker: 0 closed, 1 half open, 2 open",
            ["offering"],
            registry=r,
        )

    def child(self, metric: MetricWrapperBase, *labels: str) -> Any:
        """`metric.labels(*labels)`, kept: prometheus_client validates and locks on every call."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            if len(self._children) >= _MAX_CHILDREN:
                self._children.clear()
            found = self._children[key] = metric.labels(*labels)
        return found

    def render(self, breaker_states: dict[str, str]) -> bytes:
        """The Prometheus text exposition, with breaker states refreshed."""
        for offering, state in breaker_states.items():
            self.breakers.labels(offering).set(_BREAKER_STATES.get(state, 0))
        return generate_latest(self.registry)
