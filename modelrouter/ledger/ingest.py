"""Moving journal rows into the database: in a thread of the gateway, or in a process of its own.

`Ingester` reads one journal directory from its checkpoint and applies what it finds in
batches (one transaction, one row per key, version-guarded upserts), first ingesting the
journals of gateway processes that died (and marking their unfinished requests
`interrupted`), and every minute marking requests left `started` past every deadline.

In a gateway, ingestion runs as a child process (`python -m modelrouter.ledger.ingest`), so
JSON parsing and database writes never take the gateway's interpreter lock from the request
path. The child reports through files in the journal directory: the checkpoint (after every
batch) and `ingester.json` (its error and whether dead journals are done). When the gateway
dies, the child ingests the rest of its journal, marks its unfinished requests interrupted,
removes the journal and exits.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from modelrouter.ledger.journal import JournalReader, orphaned_journals
from modelrouter.ledger.stores import PostgresStore, SQLiteStore, open_store

__all__ = ["GROUP_COMMIT_S", "RECONCILE_EVERY_S", "STATUS", "Ingester", "read_status"]

log = logging.getLogger(__name__)

RECONCILE_EVERY_S = 60.0
GROUP_COMMIT_S = 0.005
"""How long to wait after rows arrive, so that a few more join the same transaction."""
CHILD_POLL_S = 0.02
"""How often a child ingester looks for new rows while they keep coming (bigger batches, less work)."""
CHILD_CHECKPOINT_S = 0.05
"""How often a child ingester publishes its checkpoint while busy (the gateway reads it to flush)."""
IDLE_POLL_S = 0.05
CAUGHT_UP_ROWS = 1_000
"""A batch smaller than this read the journal to its end: the next pass waits for more rows.
Reading again at once would commit each few rows that arrived meanwhile in a transaction of
their own (under load, most of the ingester's CPU went to such small transactions)."""
STATUS = "ingester.json"


def _latest(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key, its highest version: what the version-guarded upserts would leave anyway."""
    best: dict[tuple[Any, Any], dict[str, Any]] = {}
    for row in rows:
        key = (row["request_id"], row.get("attempt_no"))
        kept = best.get(key)
        if kept is None or row["version"] >= kept["version"]:
            best[key] = row
    return list(best.values())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def read_status(directory: Path) -> dict[str, Any]:
    """What a child ingester last reported ({} before its first report)."""
    try:
        data = orjson.loads((directory / STATUS).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


class Ingester:
    """Ingests one journal directory (and dead siblings' journals) into the store."""

    def __init__(
        self,
        store_url: str,
        directory: Path,
        *,
        stale_after: timedelta,
        store: SQLiteStore | PostgresStore | None = None,
        checkpoint_every_batch: bool = False,
    ) -> None:
        self.store_url = store_url
        self.directory = directory
        self.store = store
        self.reader = JournalReader(directory)
        self.stale_after = stale_after
        self.checkpoint_every_batch = checkpoint_every_batch
        self.error: str | None = None
        self.orphans_done = False
        self._last_reconcile = time.monotonic()
        self._published = 0.0
        self._saved: tuple[int, int] | None = None

    # --- one pass ----------------------------------------------------------------------------

    def ingest_all(self) -> bool:
        """Everything journaled so far into the database; whether there was anything."""
        if self.store is None:
            self.store = open_store(self.store_url)
        if not self.orphans_done:
            self._recover_orphans()
            self.reconcile(force=True)
            self.orphans_done = True
        found = False
        while (batch := self._ingest_once(self.reader)) is not None:
            found = True
            if 0 < batch < CAUGHT_UP_ROWS:
                break  # caught up: what arrives next waits for the next pass, to share its transaction
        if self.checkpoint_every_batch and not found and self._saved != self._position():
            self._publish()  # idle: publish exactly where we are, so a flush sees it at once
        self.reconcile()
        return found

    def _position(self) -> tuple[int, int]:
        return self.reader.segment, self.reader.offset

    def _publish(self) -> None:
        self.reader.save()
        self._published, self._saved = time.monotonic(), self._position()

    def _ingest_once(self, reader: JournalReader) -> int | None:
        """Apply the next batch; how many records it held.

        0: only the position moved (past blank lines, or into the next segment); None: nothing
        was left to read.
        """
        records, position = reader.read()
        if not records:
            if position != (reader.segment, reader.offset):
                reader.commit(position)
                return 0
            return None
        requests = _latest(row for table, row in records if table == "requests")
        attempts = _latest(row for table, row in records if table == "attempts")
        assert self.store is not None
        self.store.apply(requests, attempts)
        reader.commit(position)
        if self.checkpoint_every_batch and time.monotonic() - self._published >= CHILD_CHECKPOINT_S:
            self._publish()
        return len(records)

    def reconcile(self, force: bool = False) -> int:
        """Mark requests still `started` past every deadline `interrupted` (at most once a minute)."""
        now = time.monotonic()
        if not force and now - self._last_reconcile < RECONCILE_EVERY_S:
            return 0
        self._last_reconcile = now
        current = datetime.now(UTC)
        cutoff = (current - self.stale_after).isoformat(timespec="microseconds")
        assert self.store is not None
        return self.store.reconcile(cutoff, current.isoformat(timespec="microseconds"))

    def _recover_orphans(self) -> None:
        """Ingest the journals of gateway processes that died, mark their requests, remove them."""
        for directory, lock_fd in orphaned_journals(self.directory.parent, skip=self.directory):
            try:
                self.finish_journal(directory)
            finally:
                os.close(lock_fd)

    def finish_journal(self, directory: Path) -> None:
        """Ingest a dead process's journal to its end, interrupt its unfinished requests, remove it."""
        reader = self.reader if directory == self.directory else JournalReader(directory)
        while self._ingest_once(reader) is not None:
            pass
        assert self.store is not None
        self.store.interrupt_instance(directory.name, _now())
        shutil.rmtree(directory, ignore_errors=True)

    def failed(self, exc: Exception) -> None:
        """Remember a failure (the database is down); the next pass starts on a fresh connection."""
        self.error = f"{type(exc).__name__}: {exc}"
        if isinstance(self.store, PostgresStore):
            with contextlib.suppress(Exception):
                self.store.close()
            self.store = None

    # --- the loop ------------------------------------------------------------------------------

    def run(self, stop: threading.Event, wake: threading.Event | None = None) -> None:
        """Ingest until `stop`; `wake` (set on every append) replaces polling when in-process."""
        backoff = 0.05
        while not stop.is_set():
            try:
                found = self.ingest_all()
                self.error, backoff = None, 0.05
            except Exception as exc:  # the database is down or refused: keep the journal, retry later
                self.failed(exc)
                log.warning("ledger ingestion failed, retrying in %.1fs: %s", backoff, self.error)
                self.report()
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            self.report()
            if wake is not None:
                if wake.wait(IDLE_POLL_S) and not stop.is_set():
                    stop.wait(GROUP_COMMIT_S)
                wake.clear()
            else:
                stop.wait(CHILD_POLL_S if found else IDLE_POLL_S)

    def report(self) -> None:
        """Write `ingester.json` for the gateway when its content changed (child process only)."""
        if not self.checkpoint_every_batch:
            return
        status = orjson.dumps({"error": self.error, "orphans_done": self.orphans_done, "pid": os.getpid()})
        if status != getattr(self, "_reported", b""):
            temporary = self.directory / (STATUS + ".tmp")
            with contextlib.suppress(OSError):
                temporary.write_bytes(status)
                os.replace(temporary, self.directory / STATUS)
                self._reported = status


def main(argv: list[str] | None = None) -> None:
    """The child process: ingest the parent's journal until told to stop or the parent dies."""
    parser = argparse.ArgumentParser(prog="python -m modelrouter.ledger.ingest")
    parser.add_argument("--store", required=True)
    parser.add_argument("--journal", required=True, type=Path)
    parser.add_argument("--stale-after", required=True, type=float)
    parser.add_argument("--parent", required=True, type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="modelrouter ledger ingester: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the gateway decides when ingestion ends
    ingester = Ingester(
        args.store, args.journal, stale_after=timedelta(seconds=args.stale_after), checkpoint_every_batch=True
    )

    def watch_parent() -> None:
        while not stop.wait(0.2):
            if os.getppid() != args.parent:
                stop.set()

    threading.Thread(target=watch_parent, daemon=True).start()
    ingester.run(stop)
    if os.getppid() != args.parent:  # the gateway died: finish its journal for it
        for attempt in range(50):
            try:
                ingester.ingest_all()
                ingester.finish_journal(args.journal)
                break
            except Exception as exc:  # the database may be down: keep trying for a while
                ingester.failed(exc)
                time.sleep(min(0.1 * 2**attempt, 5.0))
    else:
        with contextlib.suppress(Exception):
            ingester.ingest_all()
        ingester.reader.save()
        ingester.report()
    if ingester.store is not None:
        ingester.store.close()


if __name__ == "__main__":
    main()
