"""The ledger: every request and attempt recorded exactly once, off the request path.

`Ledger.record_*` appends a whole row to the local journal (durable against a process kill
in one `os.write`); an ingester (a thread, or in the gateway a child process, see
`ingest.py`) moves the journal into SQLite or PostgreSQL with idempotent, version-guarded
upserts and checkpoints its progress. So a database outage loses nothing (the journal grows
until it is back), a replay changes nothing, and a crash at any point leaves at most rows
still `started`, which are marked `interrupted` as soon as the crash is noticed.

When the journal itself cannot be written (the disk is full), a request's first rows raise
`LedgerUnavailable`, so nothing is sent to a provider that the ledger could not record. The
rows of requests already under way (their start is on disk) wait in memory and go out first
when the journal takes writes again (`record(..., wait=True)`, `retry`).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from modelrouter.ledger.ingest import Ingester, read_status
from modelrouter.ledger.journal import Journal, JournalReader, LedgerUnavailable
from modelrouter.ledger.rows import attempt_row, request_row
from modelrouter.ledger.stores import PostgresStore, SQLiteStore, open_store

__all__ = ["Ledger", "LedgerUnavailable", "attempt_row", "now_iso", "request_row"]

log = logging.getLogger(__name__)

MAX_WAITING_ROWS = 10_000
"""Rows kept in memory while the journal cannot be written; beyond it they are dropped (and
logged), and the reconciler marks their requests `interrupted` from the rows already on disk."""
STALL_S = 5.0
"""How long journal rows may wait with the ingester's checkpoint standing still before health
calls ingestion stalled (it cannot say so itself when its disk is full: its status file is on it)."""
RECONCILE_GRACE_S = 30.0
"""How long past the total deadline a `started` request is left before it counts as interrupted."""


_second = -1
_prefix = ""


def now_iso() -> str:
    """The current UTC time as the ledger stores it (ISO 8601, microseconds, +00:00).

    Called several times per request, so the date-and-seconds part is formatted once a second.
    """
    global _second, _prefix
    micros = time.time_ns() // 1000
    second, fraction = divmod(micros, 1_000_000)
    if second != _second:
        _prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second = second
    return "%s.%06d+00:00" % (_prefix, fraction)  # noqa: UP031 (%-format: a third cheaper than an f-string spec)


def default_journal_root(store_url: str) -> Path:
    """Beside the SQLite file, or ./modelrouter-journal for a remote store."""
    if store_url.startswith("sqlite:///"):
        return Path(store_url[len("sqlite:///") :] + ".journal")
    return Path("modelrouter-journal")


class Ledger:
    """Journal in front, database behind, an ingester (thread or child process) in between."""

    def __init__(
        self,
        store_url: str,
        *,
        journal_root: Path | None = None,
        fsync: bool = False,
        total_deadline_s: float = 600,
        ingest_in: str = "thread",
    ) -> None:
        self.store_url = store_url
        self.journal_root = journal_root or default_journal_root(store_url)
        stale_after = timedelta(seconds=total_deadline_s + RECONCILE_GRACE_S)
        self.store: SQLiteStore | PostgresStore | None = None
        if store_url.startswith("sqlite"):
            self.store = open_store(store_url)  # a local file: problems are config errors, now
        # an ingester process polls the journal; only a thread in this process waits on `wake`
        self.journal = Journal(self.journal_root, fsync=fsync, notify=ingest_in == "thread")
        self.instance_id = self.journal.directory.name
        """This process's journal name, written on its request rows (a dead one's are interrupted)."""
        self._stop = threading.Event()
        self._waiting: list[tuple[str, dict[str, Any]]] = []
        self._waiting_lock = threading.Lock()
        self._dropped = 0
        self._progress: tuple[tuple[int, int], float] | None = None
        """The ingester's last checkpoint seen by `error` and since when (stall detection)."""
        self._child: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._ingester = Ingester(
            store_url, self.journal.directory, stale_after=stale_after, store=self.store
        )
        if ingest_in == "process":
            self._child = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from modelrouter.ledger.ingest import main; main()",
                    "--store",
                    store_url,
                    "--journal",
                    str(self.journal.directory),
                    "--stale-after",
                    str(stale_after.total_seconds()),
                    "--parent",
                    str(os.getpid()),
                ],
                stdin=subprocess.DEVNULL,
            )
        elif ingest_in == "thread":
            self._thread = threading.Thread(
                target=self._ingester.run,
                args=(self._stop, self.journal.wake),
                name="modelrouter-ledger",
                daemon=True,
            )
            self._thread.start()
        else:
            raise ValueError(f"ingest_in is thread or process, not {ingest_in!r}")

    # --- the request path --------------------------------------------------------------

    def record_request(self, row: dict[str, Any]) -> None:
        """Make a `requests` row durable (see `request_row`). Raises `LedgerUnavailable`."""
        self.record([("requests", row)])

    def record_attempt(self, row: dict[str, Any]) -> None:
        """Make an `attempts` row durable (see `attempt_row`). Raises `LedgerUnavailable`."""
        self.record([("attempts", row)])

    def record(self, rows: Sequence[tuple[str, dict[str, Any]]], *, wait: bool = False) -> None:
        """Make several `(table, row)` pairs durable in one journal write, in order.

        Raises `LedgerUnavailable` when the journal cannot be written, unless `wait`: then the
        rows are kept and written before any others once it can (for rows of a request whose
        start is already recorded: they complete a record, they never start a billable call).
        """
        for table, row in rows:
            if table == "requests":
                row["instance_id"] = self.instance_id
        with self._waiting_lock:
            batch = [*self._waiting, *rows] if self._waiting else rows
            try:
                self.journal.append_rows(batch)
            except LedgerUnavailable:
                if not wait:
                    raise
                self._keep(rows)
                return
            self._waiting.clear()

    def _keep(self, rows: Sequence[tuple[str, dict[str, Any]]]) -> None:
        room = MAX_WAITING_ROWS - len(self._waiting)
        self._waiting.extend(rows[: max(room, 0)])
        if len(rows) > room:
            if not self._dropped:
                log.error(
                    "the ledger journal has been unwritable for %d rows; dropping more "
                    "(their requests will be marked interrupted)",
                    MAX_WAITING_ROWS,
                )
            self._dropped += len(rows) - max(room, 0)

    def retry(self) -> None:
        """After a journal failure: write the waiting rows, or probe, so health sees a recovery."""
        if self.journal.error is None and not self._waiting:
            return
        with self._waiting_lock:
            try:
                if self._waiting:
                    self.journal.append_rows(self._waiting)
                    self._waiting.clear()
                else:
                    self.journal.probe()
            except LedgerUnavailable:
                pass

    @property
    def journal_error(self) -> str | None:
        """Why the journal cannot be written, while that lasts (new billable requests are refused)."""
        return self.journal.error

    @property
    def waiting(self) -> int:
        """Rows kept in memory until the journal can be written."""
        return len(self._waiting)

    # --- what the ingester has done ------------------------------------------------------

    def _position(self) -> tuple[int, int]:
        if self._child is None:
            return self._ingester.reader.segment, self._ingester.reader.offset
        return JournalReader(self.journal.directory).position_saved()

    @property
    def depth(self) -> int:
        """Journal bytes not yet in the database (0 when caught up)."""
        segment, offset = self._position()
        total = 0
        for path in sorted(self.journal.directory.glob("*.jsonl")):
            number = int(path.stem)
            try:
                size = path.stat().st_size
            except FileNotFoundError:  # the ingester just removed a consumed segment
                continue
            if number > segment:
                total += size
            elif number == segment:
                total += max(0, size - offset)
        return total

    @property
    def error(self) -> str | None:
        """The last ingestion failure while it lasts (the database is down): health reports it."""
        if self._child is None:
            return self._ingester.error
        if self._child.poll() is not None:
            return f"the ledger ingester process exited with {self._child.returncode}"
        error = read_status(self.journal.directory).get("error")
        return str(error) if error else self._stalled()

    def _stalled(self) -> str | None:
        """Rows have waited `STALL_S` while the ingester's checkpoint stood still: say so."""
        position, now, depth = self._position(), time.monotonic(), self.depth
        if self._progress is None or self._progress[0] != position or depth == 0:
            self._progress = (position, now)
            return None
        waited = now - self._progress[1]
        if waited < STALL_S:
            return None
        return (
            f"the ledger ingester has not moved for {waited:.0f} s with {depth} journal bytes waiting "
            "(is the database's disk full?)"
        )

    @property
    def caught_up(self) -> bool:
        """Whether dead gateways' journals and this one's are all in the database."""
        if self._child is None:
            done = self._ingester.orphans_done
        else:
            done = bool(read_status(self.journal.directory).get("orphans_done"))
        return done and self.depth == 0

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every journaled row is in the database; False if it did not happen in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.caught_up:
                return True
            self.journal.wake.set()
            time.sleep(0.005)
        return self.caught_up

    def reconcile(self, timeout: float = 10.0) -> int:
        """Mark stale `started` requests `interrupted` now (normally once a minute); how many.

        Thread mode only (tests and tools); a child process reconciles on its own schedule.
        """
        if self._thread is None:
            raise RuntimeError("reconcile() needs the in-process ingester")
        self.flush(timeout)
        store = open_store(self.store_url)
        try:
            ingester = Ingester(
                self.store_url, self.journal.directory, stale_after=self._ingester.stale_after, store=store
            )
            return ingester.reconcile(force=True)
        finally:
            store.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read-only query against the store (call `flush` first to see every recorded row)."""
        if self.store is None:
            self.store = open_store(self.store_url)  # for reads; a PostgreSQL outage here is the caller's
        return self.store.query(sql, params)

    def close(self, timeout: float = 10.0) -> bool:
        """Flush what is journaled, stop the ingester, close. True when nothing was left behind."""
        self.retry()
        if self._waiting or self._dropped:
            log.error(
                "%d ledger rows could not be written (the journal: %s); the reconciler marks their "
                "requests interrupted",
                len(self._waiting) + self._dropped,
                self.journal.error,
            )
        flushed = self.flush(timeout) and not self._waiting and not self._dropped
        self._stop.set()
        self.journal.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._ingester.reader.save()
            if self._ingester.store is not None and self._ingester.store is not self.store:
                self._ingester.store.close()
        if self._child is not None:
            self._child.terminate()
            try:
                self._child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()
        self.journal.close()
        if flushed:
            shutil.rmtree(self.journal.directory, ignore_errors=True)
        if self.store is not None:
            self.store.close()
        return flushed
