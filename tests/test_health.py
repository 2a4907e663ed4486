"""Circuit breakers: ejection after consecutive failures, growing ejections, one probe, cool-downs."""

from __future__ import annotations

from modelrouter.health import HealthBoard


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_consecutive_failures_eject_for_30s_then_one_probe() -> None:
    clock = Clock()
    board = HealthBoard(clock=clock)
    for _ in range(4):
        board.failure("a")
    assert board.available("a")
    board.failure("a")
    assert board.states() == {"a": "open"}
    assert not board.available("a")
    assert board.wait_s("a") == 30.0
    clock.now += 30
    assert board.states() == {"a": "half_open"}
    assert board.available("a")  # the probe
    assert not board.available("a")  # only one at a time
    board.success("a")
    assert board.states() == {"a": "closed"}
    assert board.available("a")


def test_a_failed_probe_ejects_again_for_longer_up_to_the_cap() -> None:
    clock = Clock()
    board = HealthBoard(clock=clock, max_ejection_s=75)
    for _ in range(5):
        board.failure("a")
    durations = []
    for _ in range(3):
        durations.append(board.wait_s("a"))
        clock.now += board.wait_s("a")
        assert board.available("a")
        board.failure("a")
    assert durations == [30.0, 60.0, 75.0]


def test_a_success_resets_the_consecutive_count() -> None:
    board = HealthBoard(clock=Clock())
    for _ in range(10):
        board.failure("a")
        board.failure("a")
        board.success("a")
    assert board.states() == {"a": "closed"}


def test_retry_after_cools_the_offering_without_ejecting_it() -> None:
    clock = Clock()
    board = HealthBoard(clock=clock)
    board.failure("a", retry_after_s=3)
    assert not board.available("a")
    assert board.wait_s("a") == 3.0
    clock.now += 3
    assert board.available("a")
    assert board.states() == {"a": "closed"}


def test_latency_and_throughput_estimates_feed_the_sorts() -> None:
    board = HealthBoard(clock=Clock())
    assert board.latency_ms("a") is None
    board.success("a", ttfb_ms=100, tokens_per_s=50)
    board.success("a", ttfb_ms=200, tokens_per_s=100)
    assert board.latency_ms("a") == 120.0
    assert board.throughput("a") == 60.0
