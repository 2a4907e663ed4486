"""Shared fixtures: a catalog and engine pinned to one instant and an empty environment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelrouter.config import Config, parse_config
from modelrouter.engine import Engine

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
