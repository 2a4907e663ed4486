"""Virtual keys and usage reports on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import dataclasses
import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modelrouter.errors import BadRequest
from modelrouter.keys import KeySpec, KeyStore, period_end, period_start
from modelrouter.ledger import Ledger, request_row
from modelrouter.ledger.usage import usage_report

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_a_key_is_shown_once_and_stored_only_as_a_keyed_hash(store_url: str) -> None:
    store = KeyStore(store_url)
    try:
        key, record = store.create(
            KeySpec(name="ci", models=("gpt-5.2",), rpm=60, budget_micro_usd=2_000_000, budget_period="day")
        )
        assert key.startswith("mr-") and len(key) == 35 and record.prefix == key[:10]
        stored = store.db.query("SELECT key_hash FROM api_keys")
        assert stored == [(store.hash(key),)] and key not in str(stored)
        found = store.lookup(key)
        assert found is not None and (found.name, found.models, found.rpm) == ("ci", ("gpt-5.2",), 60)
        assert store.lookup(key + "x") is None
        other = KeyStore(store_url)  # another instance on the same store shares the hashing secret
        assert other.lookup(key) == found
        other.close()
    finally:
        store.close()


def _whole_store(store_url: str) -> bytes:
    """Every byte the store holds: the SQLite file and its WAL, or a `pg_dump` of the database."""
    if store_url.startswith("sqlite:///"):
        path = Path(store_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())
    dump = subprocess.run(["pg_dump", "--no-owner", store_url], capture_output=True, check=True, timeout=60)
    return dump.stdout


def test_no_dump_of_the_store_holds_a_key_or_any_run_of_it(store_url: str) -> None:
    """Keys live as keyed hashes only: not whole, not in pieces, in the file or a database dump."""
    store = KeyStore(store_url)
    try:
        keys = [store.create(KeySpec(name=f"dump-{i}"))[0] for i in range(3)]
        dump = _whole_store(store_url)
        assert b"dump-0" in dump, "the dump is real: it holds the keys' names"
        for key in keys:
            secret = key[10:]  # past the prefix shown in listings
            runs = {secret[i : i + 8] for i in range(len(secret) - 7)}
            assert not [r for r in runs if r.encode() in dump], key
    finally:
        store.close()


def test_a_configured_secret_changes_every_hash(store_url: str) -> None:
    store = KeyStore(store_url, secret="operator-secret")
    key, _ = store.create(KeySpec(name="a"))
    assert store.lookup(key) is not None
    default = KeyStore(store_url)
    assert default.lookup(key) is None, "the generated secret is a different one"
    default.close()
    store.close()


def test_revoke_expire_and_find_by_name_or_prefix(store_url: str) -> None:
    store = KeyStore(store_url)
    key, record = store.create(KeySpec(name="temp", expires_at=(NOW + timedelta(days=1)).isoformat()))
    assert record.refusal(NOW) is None
    assert "expired" in (record.refusal(NOW + timedelta(days=2)) or "")
    past = dataclasses.replace(record, expires_at=(datetime.now(UTC) - timedelta(seconds=1)).isoformat())
    future = dataclasses.replace(record, expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    assert "expired" in (past.refusal() or "") and future.refusal() is None, "without `now`: the clock"
    assert store.find(record.prefix).key_id == record.key_id
    revoked = store.revoke("temp")
    assert revoked.revoked_at is not None and "revoked" in (revoked.refusal(NOW) or "")
    assert store.revoke(record.key_id).revoked_at == revoked.revoked_at, "revoking twice changes nothing"
    found = store.lookup(key)
    assert found is not None and found.refusal(NOW) is not None
    store.create(KeySpec(name="dup"))
    store.create(KeySpec(name="dup"))
    with pytest.raises(BadRequest, match="2 keys"):
        store.find("dup")
    assert store.count_usable() == 2
    store.close()


def test_budget_periods() -> None:
    wednesday = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    assert period_start("day", wednesday) == datetime(2026, 11, 25, tzinfo=UTC)
    assert period_start("week", wednesday) == datetime(2026, 11, 23, tzinfo=UTC)
    assert period_start("month", wednesday) == datetime(2026, 11, 1, tzinfo=UTC)
    assert period_end("month", wednesday) == datetime(2026, 12, 1, tzinfo=UTC)
    assert period_end("total", wednesday) is None
    with pytest.raises(BadRequest):
        KeySpec(name="x", budget_period="fortnight")


def _request(
    i: int, key_id: str | None, model: str, provider: str, created: datetime, cost: int
) -> dict[str, object]:
    return request_row(
        request_id=f"r{i:04d}",
        created_at=created.isoformat(timespec="microseconds"),
        updated_at=created.isoformat(timespec="microseconds"),
        key_id=key_id,
        requested_model=model,
        model=model,
        provider=provider,
        state="ok",
        input_tokens=100 + i,
        output_tokens=10 + i,
        cost_micro_usd=cost,
        version=2,
    )


def test_usage_totals_equal_the_records_to_the_micro_dollar(store_url: str, tmp_path: Path) -> None:
    rng = random.Random(7)
    ledger = Ledger(store_url, journal_root=tmp_path / "journal")
    keys = KeyStore(store_url)
    _, alice = keys.create(KeySpec(name="alice"))
    rows = []
    for i in range(300):
        created = NOW - timedelta(days=rng.randrange(0, 10), seconds=rng.randrange(0, 86_400))
        key_id = rng.choice([alice.key_id, None])
        rows.append(
            _request(
                i,
                key_id,
                rng.choice(["gpt-5.2", "claude-sonnet-5.5"]),
                rng.choice(["openai", "anthropic"]),
                created,
                rng.randrange(0, 10**7),
            )
        )
    try:
        for row in rows:
            ledger.record_request(row)
        assert ledger.flush(10)
        since = NOW - timedelta(days=5)
        report = usage_report(
            keys.db, since=since, until=NOW + timedelta(days=1), group_by="model", records=True
        )
        expected = [r for r in rows if str(r["created_at"]) >= since.isoformat(timespec="microseconds")]
        assert report["totals"]["requests"] == len(expected) == len(report["records"])
        assert report["totals"]["cost_micro_usd"] == sum(int(r["cost_micro_usd"]) for r in expected)  # type: ignore[call-overload]
        assert sum(g["cost_micro_usd"] for g in report["groups"]) == report["totals"]["cost_micro_usd"]
        assert report["totals"]["input_tokens"] == sum(int(r["input_tokens"]) for r in expected)  # type: ignore[call-overload]
        by_key = usage_report(keys.db, group_by="key", key_names={alice.key_id: "alice"})
        assert {g["key_name"] for g in by_key["groups"]} == {"alice", None}
        days = usage_report(keys.db, group_by="day")["groups"]
        assert all(len(g["day"]) == 10 for g in days) and sum(g["requests"] for g in days) == 300
        spent = keys.spent_micro_usd(alice.key_id, since)
        assert spent == sum(int(r["cost_micro_usd"]) for r in expected if r["key_id"] == alice.key_id)  # type: ignore[call-overload]
    finally:
        ledger.close()
        keys.close()
