"""Limit counters: in-process, and in the real Redis (shared, atomic, degrading when it is gone)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from modelrouter.limits.state import Check, MemoryState, RedisState

REDIS = os.environ.get("MODELROUTER_TEST_REDIS", "redis://127.0.0.1:6379/0")


def unique(name: str) -> str:
    return f"mr:test:{uuid.uuid4().hex}:{name}"


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[MemoryState | RedisState]:
    backend: MemoryState | RedisState = (
        MemoryState() if request.param == "memory" else RedisState(REDIS, timeout_s=5)
    )
    if isinstance(backend, RedisState):
        try:
            await backend._redis.ping()
        except Exception as exc:
            pytest.fail(f"Redis is not answering at {REDIS} ({exc}); .ci/run starts it")
    yield backend
    await backend.close()


async def test_all_checks_pass_or_none_is_counted(state: MemoryState | RedisState) -> None:
    a, b = unique("a"), unique("b")
    assert await state.admit([Check(a, 3, 1, 60), Check(b, 100, 40, 60)]) is None
    assert await state.admit([Check(a, 3, 1, 60), Check(b, 100, 40, 60)]) is None
    refusal = await state.admit([Check(a, 3, 1, 60), Check(b, 100, 40, 60)])
    assert refusal is not None and refusal.check.counter == b and 0 < refusal.retry_after_s <= 60
    assert await state.admit([Check(a, 3, 1, 60)]) is None, "the refused request counted on neither counter"
    assert (await state.admit([Check(a, 3, 1, 60)])) is not None


async def test_seed_and_settle(state: MemoryState | RedisState) -> None:
    spend = unique("spend")
    assert await state.admit([Check(spend, 1000, 300, 60, seed=600)]) is None  # 600 spent before, +300
    assert await state.admit([Check(spend, 1000, 300, 60, seed=600)]) is not None
    await state.adjust(spend, -250, 60)  # the request cost 50, not its reserved 300
    assert await state.admit([Check(spend, 1000, 300, 60, seed=600)]) is None  # 650 + 300 = 950
    await state.adjust(unique("absent"), 5, 60)  # settling an expired window is a no-op


async def test_concurrent_admissions_never_overdraw(state: MemoryState | RedisState) -> None:
    budget = unique("budget")
    results = await asyncio.gather(*(state.admit([Check(budget, 5, 1, 60)]) for _ in range(50)))
    assert sum(r is None for r in results) == 5


async def test_two_clients_of_one_redis_share_a_limit() -> None:
    first, second = RedisState(REDIS, timeout_s=5), RedisState(REDIS, timeout_s=5)  # CI can be slow
    counter = unique("shared")
    try:
        results = await asyncio.gather(
            *(s.admit([Check(counter, 100, 1, 60)]) for _ in range(100) for s in (first, second))
        )
        assert first.degraded is None and second.degraded is None
        assert sum(r is None for r in results) == 100
    finally:
        await first.close()
        await second.close()


async def test_redis_down_degrades_to_per_instance_limits() -> None:
    state = RedisState("redis://127.0.0.1:1/0", timeout_s=0.05)
    counter = unique("down")
    try:
        assert await state.admit([Check(counter, 2, 1, 60)]) is None
        assert state.degraded is not None and "per instance" in state.degraded
        assert await state.admit([Check(counter, 2, 1, 60)]) is None
        assert await state.admit([Check(counter, 2, 1, 60)]) is not None, "the local fallback still limits"
    finally:
        await state.close()
