"""A real `modelrouter serve` aimed at the fake upstreams, shared by the end-to-end tests."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeUpstream
from tests.gateway.harness import RunningGateway, start_gateway

SECRETS = {
    "openai": "sk-test-openai-SECRET-1",
    "azure": "az-test-SECRET-2",
    "anthropic": "sk-ant-test-SECRET-3",
    "vertex": "ya29.test-SECRET-4",
    "xai": "xai-test-SECRET-5",
    "openrouter": "sk-or-test-SECRET-6",
    "google": "AIza-test-SECRET-7",
    "bedrock": "aws-secret-test-SECRET-8",
}
"""Credentials the gateway is given; none of them may show in answers, errors or logs."""


def providers_config(fake_url: str) -> dict[str, Any]:
    """Every provider aimed at the fake, each under its own label (the first path segment)."""
    return {
        "openai": {"api_key": SECRETS["openai"], "base_url": f"{fake_url}/openai/v1"},
        "azure": {
            "api_key": SECRETS["azure"],
            "endpoint": f"{fake_url}/azure",
            "api_version": "2024-10-21",
            "deployments": {"gpt-5.2": "gpt52-deployment"},
        },
        "anthropic": {"api_key": SECRETS["anthropic"], "base_url": f"{fake_url}/anthropic"},
        "vertex": {
            "project": "test-project",
            "access_token": SECRETS["vertex"],
            "base_url": f"{fake_url}/vertex",
            "regions": ["global", "europe-west1", "us-east5", "eu"],
        },
        "xai": {"api_key": SECRETS["xai"], "base_url": f"{fake_url}/xai/v1"},
        "openrouter": {"api_key": SECRETS["openrouter"], "base_url": f"{fake_url}/openrouter/v1"},
        "google": {"api_key": SECRETS["google"], "base_url": f"{fake_url}/google"},
        "bedrock": {
            "access_key_id": "AKIDTEST",
            "secret_access_key": SECRETS["bedrock"],
            "regions": ["eu-central-1", "us-east-1"],
            "base_url": fake_url + "/bedrock-{region}",
        },
    }


def gateway_config(fake_url: str, **extra: Any) -> dict[str, Any]:
    """A config like a user's: ledger in the working directory, providers at the fake."""
    return {
        "store": "sqlite:///./ledger.db",
        "providers": providers_config(fake_url),
        "timeouts": {"connect": 2, "first_byte": 2, "idle": 2, "total": 20},
        "policies": {"eu-only": {"residency": ["EU"]}},
        **extra,
    }


MASTER = "mk-test-master-key"


@pytest.fixture(scope="module")
def keyed(fake_server: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """One gateway with a master key for a test module (admin API, virtual keys)."""
    config = gateway_config(fake_server.url, server={"master_key": MASTER})
    running = start_gateway(tmp_path_factory.mktemp("keyed"), config)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def gateway(fake_server: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """One gateway process for a test module."""
    running = start_gateway(tmp_path_factory.mktemp("gateway"), gateway_config(fake_server.url))
    yield running
    running.stop()


def ledger_rows(gateway: RunningGateway, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of the gateway's SQLite ledger (read while it runs: WAL lets readers in)."""
    with sqlite3.connect(Path(gateway.directory, "ledger.db")) as db:
        return db.execute(sql, params).fetchall()


def final_request_row(
    gateway: RunningGateway, request_id: str, columns: str, timeout: float = 5
) -> tuple[Any, ...]:
    """The request's ledger row once it left the `started` state (the ledger trails by milliseconds)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = ledger_rows(
            gateway, f"SELECT state, {columns} FROM requests WHERE request_id = ?", (request_id,)
        )
        if rows and rows[0][0] != "started":
            return rows[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"request {request_id} has no final ledger row: {rows}")
        time.sleep(0.02)
