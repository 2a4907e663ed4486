"""The worker's app factory keeps the garbage collector off the request path."""

from __future__ import annotations

import gc

from modelrouter.gateway.server import GC_YOUNG_THRESHOLD, tune_gc


def test_tune_gc_freezes_what_start_up_built_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    built_at_start = [object() for _ in range(10)], {"catalog": [1, 2, 3]}
    try:
        tune_gc()
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, before[1], before[2])
        assert gc.get_freeze_count() > 0
        assert not any(o is built_at_start[1] for o in gc.get_objects())  # frozen: no collection walks it
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # garbage made after start-up is still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
