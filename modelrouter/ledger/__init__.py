"""The ledger: every request and attempt recorded exactly once, off the request path.

`Ledger.record(...)` appends a whole row to the local journal (durable against a process
kill in one `os.write`); a background thread ingests the journal into SQLite or PostgreSQL
with idempotent, version-guarded upserts and checkpoints its progress. So a database outage
loses nothing (the journal grows until it is back), a replay changes nothing, and a crash at
any point leaves at most rows still `started`, which the reconciler marks `interrupted`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modelrouter.ledger.journal import Journal, JournalReader, LedgerUnavailable, orphaned_journals
from modelrouter.ledger.rows import attempt_row, request_row
from modelrouter.ledger.stores import PostgresStore, SQLiteStore, open_store

__all__ = ["Ledger", "LedgerUnavailable", "attempt_row", "now_iso", "request_row"]

log = logging.getLogger(__name__)

RECONCILE_EVERY_S = 60.0
GROUP_COMMIT_S = 0.005
"""How long the ingester waits after a row arrives, to write a batch in one transaction."""
RECONCILE_GRACE_S = 30.0


_second = -1
_prefix = ""


def now_iso() -> str:
    """The current UTC time as the ledger stores it (ISO 8601, microseconds, +00:00).

    Called several times per request, so the date-and-seconds part is formatted once a second.
    """
    global _second, _prefix
    now = time.time()
    second = int(now)
    if second != _second:
        _prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second = second
    return f"{_prefix}.{int((now - second) * 1_000_000):06d}+00:00"


def default_journal_root(store_url: str) -> Path:
    """Beside the SQLite file, or ./modelrouter-journal for a remote store."""
    if store_url.startswith("sqlite:///"):
        return Path(store_url[len("sqlite:///") :] + ".journal")
    return Path("modelrouter-journal")


def _latest(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key, its highest version: what the version-guarded upserts would leave anyway."""
    best: dict[tuple[Any, Any], dict[str, Any]] = {}
    for row in rows:
        key = (row["request_id"], row.get("attempt_no"))
        kept = best.get(key)
        if kept is None or row["version"] >= kept["version"]:
            best[key] = row
    return list(best.values())


class Ledger:
    """Journal in front, database behind, one ingester thread in between."""

    def __init__(
        self,
        store_url: str,
        *,
        journal_root: Path | None = None,
        fsync: bool = False,
        total_deadline_s: float = 600,
    ) -> None:
        self.store_url = store_url
        self.journal_root = journal_root or default_journal_root(store_url)
        self._stale_after = timedelta(seconds=total_deadline_s + RECONCILE_GRACE_S)
        self.error: str | None = None
        """The last ingestion failure while it lasts (the database is down): health reports it."""
        self.store: SQLiteStore | PostgresStore | None = None
        if store_url.startswith("sqlite"):
            self.store = open_store(store_url)  # a local file: problems are config errors, now
        self._orphans_done = False
        self.journal = Journal(self.journal_root, fsync=fsync)
        self.instance_id = self.journal.directory.name
        """This process's journal name, written on its request rows (see `_recover_orphans`)."""
        self._reader = JournalReader(self.journal.directory)
        self._stop = threading.Event()
        self._last_reconcile = time.monotonic()
        self._reconcile_now = threading.Event()
        self._reconciled: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="modelrouter-ledger", daemon=True)
        self._thread.start()

    # --- the request path --------------------------------------------------------------

    def record_request(self, row: dict[str, Any]) -> None:
        """Make a `requests` row durable (see `request_row`). Raises `LedgerUnavailable`."""
        row["instance_id"] = self.instance_id
        self.journal.append("requests", row)

    def record_attempt(self, row: dict[str, Any]) -> None:
        """Make an `attempts` row durable (see `attempt_row`). Raises `LedgerUnavailable`."""
        self.journal.append("attempts", row)

    # --- behind it ----------------------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.05
        while not self._stop.is_set():
            try:
                self._ingest_all()
                self.error, backoff = None, 0.05
            except Exception as exc:  # the database is down or refused: keep the journal, retry later
                self.error = f"{type(exc).__name__}: {exc}"
                log.warning("ledger ingestion failed, retrying in %.1fs: %s", backoff, self.error)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                self._reconnect()
                continue
            if self.journal.wake.wait(0.05) and not self._stop.is_set():
                self._stop.wait(GROUP_COMMIT_S)  # let a few more rows arrive: one transaction for all
            self.journal.wake.clear()

    def _ingest_all(self) -> None:
        if self.store is None:
            self.store = open_store(self.store_url)
        if not self._orphans_done:
            self._recover_orphans()
            self._maybe_reconcile(force=True)
            self._orphans_done = True
        while self._ingest_once(self._reader):
            pass
        if self._reconcile_now.is_set():
            self._reconcile_now.clear()
            self._reconciled.put(self._maybe_reconcile(force=True))
        else:
            self._maybe_reconcile()

    def _ingest_once(self, reader: JournalReader) -> bool:
        records, position = reader.read()
        if not records:
            if position != (reader.segment, reader.offset):
                reader.commit(position)
                return True
            return False
        requests = _latest(row for table, row in records if table == "requests")
        attempts = _latest(row for table, row in records if table == "attempts")
        assert self.store is not None
        self.store.apply(requests, attempts)
        reader.commit(position)
        return True

    def _maybe_reconcile(self, force: bool = False) -> int:
        now = time.monotonic()
        if not force and now - self._last_reconcile < RECONCILE_EVERY_S:
            return 0
        self._last_reconcile = now
        current = datetime.now(UTC)
        cutoff = (current - self._stale_after).isoformat(timespec="microseconds")
        assert self.store is not None
        return self.store.reconcile(cutoff, current.isoformat(timespec="microseconds"))

    def _reconnect(self) -> None:
        if isinstance(self.store, PostgresStore):
            with contextlib.suppress(Exception):
                self.store.close()
            self.store = None  # reopened by the next ingestion attempt

    def _recover_orphans(self) -> None:
        """Ingest the journals of gateway processes that died, then remove them."""
        for directory, lock_fd in orphaned_journals(self.journal_root, skip=self.journal.directory):
            try:
                reader = JournalReader(directory)
                while self._ingest_once(reader):
                    pass
                assert self.store is not None
                self.store.interrupt_instance(
                    directory.name, datetime.now(UTC).isoformat(timespec="microseconds")
                )
                shutil.rmtree(directory)
            finally:
                os.close(lock_fd)

    @property
    def depth(self) -> int:
        """Journal bytes not yet in the database (0 when caught up)."""
        total = 0
        for path in sorted(self.journal.directory.glob("*.jsonl")):
            number = int(path.stem)
            try:
                size = path.stat().st_size
            except FileNotFoundError:  # the ingester just removed a consumed segment
                continue
            if number > self._reader.segment:
                total += size
            elif number == self._reader.segment:
                total += max(0, size - self._reader.offset)
        return total

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every journaled row is in the database; False if it did not happen in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.caught_up:
                return True
            self.journal.wake.set()
            time.sleep(0.005)
        return self.caught_up

    @property
    def caught_up(self) -> bool:
        """Whether dead gateways' journals and this one's are all in the database."""
        return self._orphans_done and self.depth == 0

    def reconcile(self, timeout: float = 10.0) -> int:
        """Mark stale `started` requests `interrupted` now (normally every 60 s); how many."""
        self.flush(timeout)
        self._reconcile_now.set()
        self.journal.wake.set()
        return self._reconciled.get(timeout=timeout)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read-only query against the store (call `flush` first to see every recorded row)."""
        store = self.store or open_store(self.store_url)
        return store.query(sql, params)

    def close(self, timeout: float = 10.0) -> bool:
        """Flush what is journaled, stop the ingester, close. True when nothing was left behind."""
        flushed = self.flush(timeout)
        self._stop.set()
        self.journal.wake.set()
        self._thread.join(timeout=5)
        self._reader.save()
        self.journal.close()
        if flushed:
            shutil.rmtree(self.journal.directory, ignore_errors=True)
        if self.store is not None:
            self.store.close()
        return flushed
