"""Shared fixtures: a catalog and engine pinned to one instant and an empty environment."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings

from modelrouter.config import Config, parse_config
from modelrouter.engine import Engine
from tests.fakes import FakeUpstream

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
"""CI explores the same examples on every run (a landing never hangs on a lucky draw); local runs
keep exploring new ones, and print how to replay what they find."""

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


PG_ADMIN = os.environ.get("MODELROUTER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/ledger.db"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database created for one test and dropped after it (real server, trust auth)."""
    psycopg = pytest.importorskip("psycopg")
    name = f"mr_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not answering at {PG_ADMIN} ({exc}); .ci/run starts it")
    admin.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
        admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url
