"""Shared fixtures: a catalog and engine pinned to one instant and an empty environment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from modelrouter.config import Config, parse_config
from modelrouter.engine import Engine
from tests.fakes import FakeUpstream

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
"""The instant the bundled catalog was last reviewed; tests route 'as of' it."""


def make_engine(
    config: Config | str | None = None, *, env: dict[str, str] | None = None, now: datetime = NOW
) -> Engine:
    """An engine whose readiness reads `env` (default: no credentials) instead of os.environ."""
    parsed = parse_config(config) if isinstance(config, str) else config
    return Engine(parsed, now=now, env=env or {})


@pytest.fixture(scope="session")
def engine() -> Engine:
    return make_engine()


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeUpstream]:
    """One fake upstream for the whole run (it speaks every protocol, labels tell providers apart)."""
    with FakeUpstream() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeUpstream) -> FakeUpstream:
    """The shared fake upstream with no faults pending and an empty request log."""
    fake_server.reset()
    return fake_server
