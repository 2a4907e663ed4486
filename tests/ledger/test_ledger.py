"""The ledger on SQLite and on the real PostgreSQL: exactly once, replay-safe, forward-only."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelrouter.ledger import Ledger, attempt_row, now_iso, request_row
from modelrouter.ledger.journal import Journal, JournalReader
from modelrouter.ledger.stores import migrations, open_store


def started(request_id: str, **extra: object) -> dict[str, object]:
    at = now_iso()
    return request_row(
        request_id=request_id,
        created_at=at,
        updated_at=at,
        state="started",
        version=1,
        requested_model="m",
        **extra,
    )


def finished(request_id: str, **extra: object) -> dict[str, object]:
    at = now_iso()
    values: dict[str, object] = {
        "request_id": request_id,
        "created_at": at,
        "updated_at": at,
        "state": "ok",
        "version": 2,
        "model": "gpt-5.2",
        "provider": "openai",
        "input_tokens": 100,
        "output_tokens": 20,
        "cost_micro_usd": 455,
        "usage_source": "reported",
        "attempts": 1,
        "policy": {"residency": ["EU"]},
    }
    values.update(extra)
    return request_row(**values)


def attempt(request_id: str, number: int, state: str, version: int, **extra: object) -> dict[str, object]:
    return attempt_row(
        request_id=request_id,
        attempt_no=number,
        provider="openai",
        offering="gpt-5.2@openai",
        state=state,
        started_at=now_iso(),
        version=version,
        **extra,
    )


def rows(ledger: Ledger, sql: str) -> list[tuple[object, ...]]:
    assert ledger.flush(10)
    return ledger.query(sql)


def test_a_request_and_its_attempts_are_recorded_once(store_url: str, tmp_path: Path) -> None:
    ledger = Ledger(store_url, journal_root=tmp_path / "journal")
    try:
        ledger.record_request(started("r1"))
        ledger.record_attempt(attempt("r1", 1, "started", 1))
        ledger.record_attempt(attempt("r1", 1, "upstream_error", 2, http_status=503))
        ledger.record_attempt(attempt("r1", 2, "started", 1))
        ledger.record_attempt(
            attempt("r1", 2, "ok", 2, input_tokens=100, output_tokens=20, cost_micro_usd=455)
        )
        ledger.record_request(finished("r1", attempts=2))
        assert rows(ledger, "SELECT state, attempts, cost_micro_usd, input_tokens FROM requests") == [
            ("ok", 2, 455, 100)
        ]
        assert rows(ledger, "SELECT attempt_no, state, http_status FROM attempts ORDER BY attempt_no") == [
            (1, "upstream_error", 503),
            (2, "ok", None),
        ]
    finally:
        ledger.close()


def test_rows_only_move_forward_and_replays_change_nothing(store_url: str, tmp_path: Path) -> None:
    ledger = Ledger(store_url, journal_root=tmp_path / "journal")
    try:
        ledger.record_request(finished("r2", cost_micro_usd=900))
        ledger.record_request(started("r2"))  # a late, older version: ignored
        ledger.record_request(finished("r2", cost_micro_usd=900))  # a replay: no change
        assert rows(ledger, "SELECT state, cost_micro_usd, version FROM requests") == [("ok", 900, 2)]
        assert rows(ledger, "SELECT count(*) FROM requests") == [(1,)]
    finally:
        ledger.close()
    store = open_store(store_url)
    try:
        store.apply([finished("r2", cost_micro_usd=900)], [])
        assert store.query("SELECT count(*), sum(cost_micro_usd) FROM requests") == [(1, 900)]
    finally:
        store.close()


def test_migrations_are_numbered_and_recorded(store_url: str) -> None:
    dialect = "sqlite" if store_url.startswith("sqlite") else "postgres"
    numbers = [number for number, _, _ in migrations(dialect)]
    assert numbers == sorted(numbers) and numbers[0] == 1
    store = open_store(store_url)
    try:
        assert store.migrate() == []  # already applied when the store opened
        applied = store.query("SELECT version, name FROM modelrouter_migrations ORDER BY version")
        assert [v for v, _ in applied] == numbers
    finally:
        store.close()


def test_the_reconciler_marks_requests_a_dead_gateway_left_started(store_url: str, tmp_path: Path) -> None:
    ledger = Ledger(store_url, journal_root=tmp_path / "journal", total_deadline_s=0)
    try:
        old = "2026-01-01T00:00:00.000000+00:00"
        ledger.record_request(
            request_row(request_id="old", created_at=old, updated_at=old, state="started", version=1)
        )
        ledger.record_request(started("young-but-finished"))
        ledger.record_request(finished("young-but-finished"))
        assert ledger.reconcile() == 1
        states = rows(ledger, "SELECT request_id, state, version FROM requests ORDER BY request_id")
        assert states == [("old", "interrupted", 2), ("young-but-finished", "ok", 2)]
    finally:
        ledger.close()


def test_a_killed_gateways_journal_is_ingested_by_the_next_one(sqlite_url: str, tmp_path: Path) -> None:
    root = tmp_path / "journal"
    script = textwrap.dedent(
        f"""
        import os, signal
        from modelrouter.ledger.journal import Journal
        from modelrouter.ledger import request_row, now_iso
        journal = Journal(__import__("pathlib").Path({str(root)!r}))
        for i in range(500):
            at = now_iso()
            journal.append("requests", request_row(request_id=f"k{{i}}", created_at=at, updated_at=at,
                                                   state="ok", version=2, cost_micro_usd=i))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert result.returncode == -signal.SIGKILL
    ledger = Ledger(sqlite_url, journal_root=root)
    try:
        assert rows(ledger, "SELECT count(*), sum(cost_micro_usd) FROM requests") == [(500, sum(range(500)))]
        assert [p.name for p in root.iterdir()] == [ledger.journal.directory.name]
    finally:
        ledger.close()


def test_a_torn_last_line_waits_and_a_garbled_one_is_skipped(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append("requests", {"request_id": "a"})
    segment = next(journal.directory.glob("*.jsonl"))
    with segment.open("ab") as handle:
        handle.write(b'{"t":"requests","r":{"requ')  # a write cut by a crash
    reader = JournalReader(journal.directory)
    records, position = reader.read()
    assert records == [("requests", {"request_id": "a"})]
    assert position[1] < segment.stat().st_size
    with segment.open("ab") as handle:
        handle.write(b'est_id":"b"}}\n\x00garbage\n')
    records, _ = reader.read()
    assert [r["request_id"] for _, r in records] == ["a", "b"]
    journal.close()


def test_segments_rotate_and_consumed_ones_are_removed(sqlite_url: str, tmp_path: Path) -> None:
    ledger = Ledger(sqlite_url, journal_root=tmp_path / "journal")
    ledger.journal._segment_bytes = 4096
    try:
        for i in range(200):
            ledger.record_request(finished(f"s{i}"))
        assert rows(ledger, "SELECT count(*) FROM requests") == [(200,)]
        assert len(list(ledger.journal.directory.glob("*.jsonl"))) == 1
    finally:
        ledger.close()


def test_a_journal_that_cannot_be_written_fails_closed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import resource, signal
        from pathlib import Path
        from modelrouter.ledger.journal import Journal, LedgerUnavailable
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
        journal = Journal(Path({str(tmp_path)!r}))
        try:
            for i in range(100):
                journal.append("requests", {{"request_id": "x" * 100}})
        except LedgerUnavailable as exc:
            print("unavailable", exc.status, exc.kind)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.stdout.strip() == "unavailable 503 ledger_unavailable", result.stderr


def in_a_process(script: str) -> list[str]:
    """Run `script` in a Python of its own (its file-size limit is its own); its output lines."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_a_torn_journal_write_never_costs_the_next_row(tmp_path: Path) -> None:
    """A full disk can take part of a line; the next write ends it first, so no row is glued to it."""
    printed = in_a_process(
        f"""
        import resource
        from pathlib import Path
        from modelrouter.ledger.journal import Journal, JournalReader, LedgerUnavailable
        journal = Journal(Path({str(tmp_path)!r}))
        journal.append("requests", {{"request_id": "a"}})
        (segment,) = journal.directory.glob("*.jsonl")
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (segment.stat().st_size + 10, hard))
        for name in "bc":
            try:
                journal.append("requests", {{"request_id": name}})
            except LedgerUnavailable:
                print("refused", name)
        print("probe", journal.probe(), journal.error is not None)
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        print("probe", journal.probe(), journal.error)
        journal.append("requests", {{"request_id": "d"}})
        records, _ = JournalReader(journal.directory).read()
        print("read", *[row["request_id"] for _, row in records])
        """
    )
    assert " ".join(printed) == "refused b refused c probe False True probe True None read a d"


def test_rows_of_a_request_under_way_wait_for_the_disk(tmp_path: Path) -> None:
    """Starts are refused while the journal cannot grow; later rows wait in memory, then go in."""
    store = tmp_path / "ledger.db"
    printed = in_a_process(
        f"""
        import resource
        from pathlib import Path
        from modelrouter.ledger import Ledger, LedgerUnavailable, request_row, now_iso
        def row(request_id, state, version):
            at = now_iso()
            return request_row(request_id=request_id, created_at=at, updated_at=at, state=state,
                               version=version)
        ledger = Ledger("sqlite:///{store}", journal_root=Path({str(tmp_path / "journal")!r}))
        ledger.record([("requests", row("under-way", "started", 1))])
        assert ledger.flush(10)
        (segment,) = ledger.journal.directory.glob("*.jsonl")
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (segment.stat().st_size, hard))
        ledger.record([("requests", row("under-way", "ok", 2))], wait=True)
        try:
            ledger.record([("requests", row("new", "started", 1))])
        except LedgerUnavailable:
            print("refused")
        ledger.retry()
        print("waiting", ledger.waiting, ledger.journal_error is not None)
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        ledger.retry()
        print("waiting", ledger.waiting, ledger.journal_error)
        assert ledger.flush(10)
        print(*ledger.query("SELECT request_id, state FROM requests"))
        print(*ledger.query("PRAGMA integrity_check"))
        ledger.close()
        """
    )
    assert " ".join(printed) == "refused waiting 1 True waiting 0 None ('under-way', 'ok') ('ok',)"


def test_a_full_disk_reports_the_sqlite_error_not_a_failed_rollback(tmp_path: Path) -> None:
    """SQLite rolls back by itself on a full disk; the store must not then mask the cause."""
    store = tmp_path / "ledger.db"
    printed = in_a_process(
        f"""
        import resource
        from pathlib import Path
        from modelrouter.ledger.rows import request_row
        from modelrouter.ledger.stores import SQLiteStore
        store = SQLiteStore(Path({str(store)!r}))
        rows = [request_row(request_id=f"r{{i}}", created_at="t", updated_at="t", state="ok", version=2,
                            error="x" * 500) for i in range(2000)]
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (store.path.stat().st_size, hard))
        try:
            store.apply(rows, [])
        except Exception as exc:
            print(type(exc).__name__, "rollback" in str(exc))
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        store.apply(rows, [])
        print(*store.query("SELECT count(*) FROM requests"), *store.query("PRAGMA integrity_check"))
        """
    )
    assert printed == ["OperationalError", "False", "(2000,)", "('ok',)"]


def test_postgres_down_at_start_loses_nothing(tmp_path: Path, postgres_url: str) -> None:
    dead = "postgresql://postgres@127.0.0.1:1/nowhere"
    ledger = Ledger(dead, journal_root=tmp_path / "journal")
    ledger.record_request(finished("while-down"))
    assert not ledger.flush(0.5)
    assert ledger.error is not None
    ledger.close(timeout=0.1)
    # The next gateway, with the database back, ingests the dead instance's journal.
    again = Ledger(postgres_url, journal_root=tmp_path / "journal")
    try:
        assert rows(again, "SELECT request_id, state FROM requests") == [("while-down", "ok")]
    finally:
        again.close()
    assert os.listdir(tmp_path / "journal") == []


def test_a_locked_database_never_blocks_recording(sqlite_url: str, tmp_path: Path) -> None:
    ledger = Ledger(sqlite_url, journal_root=tmp_path / "journal")
    blocker = sqlite3.connect(sqlite_url[len("sqlite:///") :], isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # the database is busy (F15c: a lock held on the ledger)
        for i in range(50):
            ledger.record_request(finished(f"busy{i}"))
        assert ledger.depth > 0
        assert not ledger.flush(0.3)
        blocker.execute("COMMIT")
        assert rows(ledger, "SELECT count(*) FROM requests") == [(50,)]
        with pytest.raises(KeyError, match="unknown ledger column"):
            request_row(request_id="x", colour="blue")
    finally:
        blocker.close()
        ledger.close()


def test_a_dead_processs_unfinished_requests_are_interrupted_at_once(store_url: str, tmp_path: Path) -> None:
    root = tmp_path / "journal"
    script = textwrap.dedent(
        f"""
        import os, signal, time
        from modelrouter.ledger import Ledger, request_row, now_iso
        ledger = Ledger({store_url!r}, journal_root=__import__("pathlib").Path({str(root)!r}))
        for i in range(6):
            at = now_iso()
            ledger.record_request(request_row(request_id=f"d{{i}}", created_at=at, updated_at=at,
                                              state="started", version=1))
            if i % 2 == 0:
                ledger.record_request(request_row(request_id=f"d{{i}}", created_at=at, updated_at=at,
                                                  state="ok", version=2))
        ledger.flush(10)
        ledger.record_request(request_row(request_id="late", created_at=now_iso(), updated_at=now_iso(),
                                          state="started", version=1))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert result.returncode == -signal.SIGKILL
    ledger = Ledger(store_url, journal_root=root)
    try:
        states = {str(r[0]): str(r[1]) for r in rows(ledger, "SELECT request_id, state FROM requests")}
        assert states == {
            "d0": "ok",
            "d1": "interrupted",
            "d2": "ok",
            "d3": "interrupted",
            "d4": "ok",
            "d5": "interrupted",
            "late": "interrupted",
        }, "both the ingested and the still-journaled unfinished requests, without waiting for a deadline"
    finally:
        ledger.close()


def test_a_nul_in_a_callers_text_never_blocks_the_ledger(store_url: str, tmp_path: Path) -> None:
    ledger = Ledger(store_url, journal_root=tmp_path / "journal")
    try:
        ledger.record_request(
            finished("nul", error="unknown model 'gpt\x00x'", policy={"residency": ["E\x00U"]})
        )
        ledger.record_request(finished("after"))
        stored = {str(r[0]): r[1] for r in rows(ledger, "SELECT request_id, error FROM requests")}
        assert stored["after"] is None and "gpt" in str(stored["nul"]) and "x'" in str(stored["nul"])
    finally:
        ledger.close()


def test_only_numbered_segments_are_read_in_numeric_order(tmp_path: Path) -> None:
    from modelrouter.ledger.journal import _segments

    for name in ("10.jsonl", "2.jsonl", "notes.jsonl", "\u00b23.jsonl", ".jsonl", "4.json", "5.jsonl.tmp"):
        (tmp_path / name).write_bytes(b"")
    assert [(n, p.name) for n, p in _segments(tmp_path)] == [(2, "2.jsonl"), (10, "10.jsonl")]


OPTIONAL_REQUEST_COLUMNS = {
    "key_id": "k1",
    "client_request_id": "c1",
    "stream": True,
    "substituted_from": "old-model",
    "policy": {"name": "eu", "residency": ["EU"]},
    "provider": "openai",
    "http_status": 200,
    "input_tokens": 12,
    "cost_micro_usd": 7,
    "usage_source": "reported",
    "latency_ms": 2.5,
    "error": "boom",
    "affinity": "kept",
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.sets(st.sampled_from(sorted(OPTIONAL_REQUEST_COLUMNS))),
    second=st.sets(st.sampled_from(sorted(OPTIONAL_REQUEST_COLUMNS))),
)
def test_sparse_rows_of_any_shape_store_what_complete_rows_store(
    first: set[str], second: set[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A sparse row stores what the same row completed with every default stores.

    The gateway journals rows without their None and default values, and each shape has a
    statement of its own; a later version holding fewer columns resets the others (whole-row
    upserts).
    """
    folder = tmp_path_factory.mktemp("shapes")
    sparse, complete = open_store(f"sqlite:///{folder}/a.db"), open_store(f"sqlite:///{folder}/b.db")
    try:
        for version, chosen in ((1, first), (2, second)):
            row: dict[str, object] = {"request_id": "r1", "created_at": "t0", "state": "ok"}
            row["updated_at"] = f"t{version}"
            row |= {name: OPTIONAL_REQUEST_COLUMNS[name] for name in sorted(chosen)} | {"version": version}
            sparse.apply(
                [row],
                [
                    {
                        "request_id": "r1",
                        "attempt_no": 1,
                        "provider": "p",
                        "offering": "o",
                        "state": "ok",
                        "started_at": "t0",
                        "version": version,
                    }
                ],
            )
            complete.apply(
                [request_row(**row)],
                [
                    attempt_row(
                        request_id="r1",
                        attempt_no=1,
                        provider="p",
                        offering="o",
                        state="ok",
                        started_at="t0",
                        version=version,
                    )
                ],
            )
        for table in ("requests", "attempts"):
            assert sparse.query(f"SELECT * FROM {table}") == complete.query(f"SELECT * FROM {table}")
        stream, affinity = sparse.query("SELECT stream, affinity FROM requests")[0]
        assert stream == (1 if "stream" in second else 0)
        assert affinity == ("kept" if "affinity" in second else None)
    finally:
        sparse.close()
        complete.close()


def test_sparse_rows_reach_both_stores_whole(store_url: str) -> None:
    store = open_store(store_url)
    try:
        store.apply(
            [
                {
                    "request_id": "r9",
                    "created_at": now_iso(),
                    "updated_at": now_iso(),
                    "state": "ok",
                    "stream": True,
                    "policy": {"name": "eu"},
                    "version": 2,
                }
            ],
            [],
        )
        assert store.query("SELECT stream, policy, attempts, usage_source, error FROM requests") in (
            [(1, '{"name":"eu"}', 0, "none", None)],  # SQLite: 0/1, JSON text
            [(True, {"name": "eu"}, 0, "none", None)],  # PostgreSQL: boolean, JSONB
        )
    finally:
        store.close()


@given(st.lists(st.integers(min_value=0, max_value=4_102_444_800 * 10**9), min_size=1, max_size=20))
def test_now_iso_is_the_utc_time_in_microseconds_however_the_clock_moves(clock: list[int]) -> None:
    """The per-second prefix is cached: moving forward, back or within a second must not reuse a stale one."""
    from datetime import UTC, datetime, timedelta
    from unittest import mock

    for nanoseconds in clock:
        with mock.patch("time.time_ns", return_value=nanoseconds):
            stamped = now_iso()
        expected = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=nanoseconds // 1000)
        assert stamped == expected.isoformat(timespec="microseconds")
