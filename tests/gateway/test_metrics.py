"""The gateway's lock-free metric series expose what prometheus_client's own metrics would."""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from typing_extensions import override

from modelrouter.gateway.metrics import CounterSeries, HistogramSeries, Metrics

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


def _exposition(registry: CollectorRegistry) -> list[str]:
    """The text exposition without `_created` samples (the gateway's series have none)."""
    lines = generate_latest(registry).decode().splitlines()
    return [line for line in lines if "_created" not in line]


class _Families(Collector):
    def __init__(self, *series: CounterSeries | HistogramSeries) -> None:
        self.series = series

    @override
    def collect(self) -> Iterator[Metric]:
        return (s.collect() for s in self.series)


def _registry_of(*series: CounterSeries | HistogramSeries) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(_Families(*series))
    return registry


amounts = st.floats(min_value=0, max_value=1000, allow_nan=False) | st.sampled_from(BUCKETS)


@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), amounts), max_size=40))
def test_histogram_matches_prometheus_client(observations: list[tuple[str, float]]) -> None:
    reference = CollectorRegistry()
    histogram = Histogram("x_seconds", "doc", ["model"], buckets=BUCKETS, registry=reference)
    ours = HistogramSeries("x_seconds", "doc", ["model"], BUCKETS)
    for model, amount in observations:  # an amount equal to a bound counts in that bound's bucket
        histogram.labels(model).observe(amount)
        ours.observe((model,), amount)
    assert _exposition(_registry_of(ours)) == _exposition(reference)


@given(st.lists(st.tuples(st.sampled_from(["x", "y"]), st.integers(0, 10**6)), max_size=40))
def test_counter_matches_prometheus_client(increments: list[tuple[str, int]]) -> None:
    reference = CollectorRegistry()
    counter = Counter("x_tokens", "doc", ["kind"], registry=reference)
    ours = CounterSeries("x_tokens", "doc", ["kind"])
    for kind, amount in increments:
        counter.labels(kind).inc(amount)
        ours.inc((kind,), amount)
    assert _exposition(_registry_of(ours)) == _exposition(reference)


def test_render_reports_current_breaker_states() -> None:
    metrics = Metrics()
    metrics.requests.inc(("openai_chat", "gpt-5.2", "openai", "200"))
    metrics.fallbacks.inc()
    first = metrics.render({"gpt-5.2@openai": "open", "gpt-5.2@azure": "half_open"}).decode()
    labels = 'model="gpt-5.2",protocol="openai_chat",provider="openai",status="200"'
    assert f"modelrouter_requests_total{{{labels}}} 1.0" in first
    assert "modelrouter_fallbacks_total 1.0" in first
    assert 'modelrouter_breaker_state{offering="gpt-5.2@openai"} 2.0' in first
    assert 'modelrouter_breaker_state{offering="gpt-5.2@azure"} 1.0' in first
    later = metrics.render({"gpt-5.2@openai": "closed"}).decode()
    assert 'modelrouter_breaker_state{offering="gpt-5.2@openai"} 0.0' in later
