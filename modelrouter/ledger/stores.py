"""Where ledger rows end up: SQLite (the default, WAL) or PostgreSQL (several gateways).

Both apply a batch of rows in one transaction with whole-row upserts guarded by `version`,
so applying the same batch twice changes nothing. Migrations are numbered, append-only SQL
files per dialect, recorded in `modelrouter_migrations`.
"""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson

from modelrouter.errors import ConfigError
from modelrouter.ledger.rows import ATTEMPT_COLUMNS, ATTEMPT_DEFAULTS, REQUEST_COLUMNS, REQUEST_DEFAULTS

__all__ = ["PostgresStore", "SQLiteStore", "Store", "migrations", "open_store"]


class Store(Protocol):
    """A database that holds the ledger."""

    def apply(self, requests: Sequence[dict[str, Any]], attempts: Sequence[dict[str, Any]]) -> None:
        """Upsert rows in one transaction (idempotent, versions only move forward)."""

    def reconcile(self, cutoff: str, now: str) -> int:
        """Mark requests still `started` before `cutoff` as `interrupted`; return how many."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query (reports)."""

    def interrupt_instance(self, instance_id: str, now: str) -> int:
        """Mark the requests a dead gateway process left `started` as `interrupted`; how many."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one writing statement in its own transaction; the number of rows it touched."""

    def close(self) -> None:
        """Release the connection."""


def migrations(dialect: str) -> list[tuple[int, str, str]]:
    """The numbered migrations of a dialect, in order: (number, name, SQL)."""
    folder = resources.files("modelrouter.ledger") / "migrations" / dialect
    out = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            number, _, _ = item.name.partition("_")
            out.append((int(number), item.name, item.read_text(encoding="utf-8")))
    return sorted(out)


def _upsert(
    table: str,
    columns: Sequence[str],
    key: tuple[str, ...],
    placeholder: str,
    inserted: Sequence[str] | None = None,
) -> str:
    """The whole-row upsert, applied only when its version is higher than the stored one.

    `inserted` binds only those columns; the others take their defaults, in the insert and
    (through `excluded`) in the update.
    """
    bound = columns if inserted is None else inserted
    names = ", ".join(bound)
    values = ", ".join(placeholder for _ in bound)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({names}) VALUES ({values}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} WHERE {table}.version < excluded.version"
    )


_INTERRUPT = (
    "UPDATE requests SET state = 'interrupted', updated_at = {p}, version = version + 1, "
    "error = 'the gateway process stopped before this request finished' "
    "WHERE instance_id = {p} AND state = 'started'"
)
_RECONCILE = (
    "UPDATE requests SET state = 'interrupted', updated_at = {p}, version = version + 1, "
    "error = 'the gateway stopped before this request finished' "
    "WHERE state = 'started' AND created_at < {p}"
)


class SQLiteStore:
    """The default store: one file, WAL mode, safe for several processes on one machine."""

    dialect = "sqlite"
    placeholder = "?"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._shapes: dict[tuple[str, tuple[str, ...]], _Shape] = {}
        self._reads: sqlite3.Connection | None = None
        self.migrate()

    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; return their names."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "CREATE TABLE IF NOT EXISTS modelrouter_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT DEFAULT CURRENT_TIMESTAMP)"
            )
            done = {row[0] for row in db.execute("SELECT version FROM modelrouter_migrations")}
            applied = []
            for number, name, sql in migrations(self.dialect):
                if number not in done:
                    for statement in _statements(sql):
                        db.execute(statement)
                    db.execute(
                        "INSERT INTO modelrouter_migrations (version, name) VALUES (?, ?)", (number, name)
                    )
                    applied.append(name)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return applied

    def apply(self, requests: Sequence[dict[str, Any]], attempts: Sequence[dict[str, Any]]) -> None:
        """Upsert a batch in one transaction."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            shapes = self._shapes
            for sql, values in _by_shape(shapes, "requests", REQUEST_COLUMNS, _REQUEST_KEY, requests):
                db.executemany(sql, values)
            for sql, values in _by_shape(shapes, "attempts", ATTEMPT_COLUMNS, _ATTEMPT_KEY, attempts):
                db.executemany(sql, values)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite may have rolled back already (a full disk: SQLITE_FULL)
                db.execute("ROLLBACK")
            raise

    def reconcile(self, cutoff: str, now: str) -> int:
        """Requests left `started` by a dead gateway become `interrupted`."""
        cursor = self._db.execute(_RECONCILE.format(p="?"), (now, cutoff))
        return cursor.rowcount

    def interrupt_instance(self, instance_id: str, now: str) -> int:
        """A dead process's unfinished requests become `interrupted`."""
        return self._db.execute(_INTERRUPT.format(p="?"), (now, instance_id)).rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query on a connection of its own (the writer's stays the ingester's)."""
        if self._reads is None:
            self._reads = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, timeout=30, check_same_thread=False
            )
        return list(self._reads.execute(sql, params))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One writing statement, autocommitted on the writer connection."""
        return self._db.execute(sql, params).rowcount

    def close(self) -> None:
        """Close the connections."""
        self._db.close()
        if self._reads is not None:
            self._reads.close()


_JSON_TYPES = frozenset({dict, list})
_REQUEST_KEY = ("request_id",)
_ATTEMPT_KEY = ("request_id", "attempt_no")
_BOOLEAN_COLUMNS = frozenset({"stream"})
_JSON_COLUMNS = frozenset({"policy"})


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity: one per shape
class _Shape:
    """How rows with one set of keys are upserted: the statement and how to read their values."""

    sql: str
    values: Callable[[dict[str, Any]], tuple[Any, ...]]
    booleans: tuple[int, ...]
    """Positions of boolean columns, bound as 0 and 1."""
    json: tuple[int, ...]
    """Positions of JSON columns (the policy), bound as JSON text."""


def _shape(table: str, columns: tuple[str, ...], key: tuple[str, ...], keys: tuple[str, ...]) -> _Shape:
    """The upsert of rows holding `keys`: only those columns are bound, the others take their defaults.

    Rows are sparse, so binding every column meant binding None for most, and Python 3.11's
    sqlite3 runs each None (and each bool) through its adapter lookup, which raises and clears
    an error every time: 7 per request, about a tenth of the ingester's instructions. The
    update still sets every column (an omitted one from `excluded`, i.e. its default), so a
    row replaces the whole stored row as before. Keys that are not columns are ignored.
    """
    present = [name for name in columns if name in keys]
    if not present:
        raise ValueError(f"a {table} row with no ledger column: {sorted(keys)}")
    sql = _upsert(table, columns, key, "?", present)
    values = operator.itemgetter(*present)
    booleans = tuple(i for i, name in enumerate(present) if name in _BOOLEAN_COLUMNS)
    json = tuple(i for i, name in enumerate(present) if name in _JSON_COLUMNS)
    return _Shape(sql, values if len(present) > 1 else lambda row: (values(row),), booleans, json)


def _by_shape(
    cache: dict[tuple[str, tuple[str, ...]], _Shape],
    table: str,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    rows: Iterable[dict[str, Any]],
) -> Iterator[tuple[str, list[Sequence[Any]]]]:
    """The rows grouped by the columns they hold, each group with its statement and values.

    A row's values are read in one C-level call; only the boolean and JSON columns are
    converted (and, should a dict or list turn up in any other column, it is encoded too).
    """
    groups: dict[_Shape, list[Sequence[Any]]] = {}
    for row in rows:
        keys = tuple(row)
        shape = cache.get((table, keys))
        if shape is None:
            if len(cache) >= 1024:
                cache.clear()
            shape = cache[(table, keys)] = _shape(table, columns, key, keys)
        values: Sequence[Any] = shape.values(row)
        if shape.booleans or shape.json:
            values = _converted(list(values), shape)
        if not _JSON_TYPES.isdisjoint(map(type, values)):  # not written so today
            values = [orjson.dumps(v).decode() if type(v) in _JSON_TYPES else v for v in values]
        groups.setdefault(shape, []).append(values)
    for shape, values_list in groups.items():
        yield shape.sql, values_list


def _converted(values: list[Any], shape: _Shape) -> list[Any]:
    for i in shape.booleans:
        if values[i] is not None:
            values[i] = int(values[i])
    for i in shape.json:
        if type(values[i]) in _JSON_TYPES:
            values[i] = orjson.dumps(values[i]).decode()
    return values


class PostgresStore:
    """The shared store for several gateway instances (psycopg 3)."""

    dialect = "postgres"
    placeholder = "%s"

    def __init__(self, url: str, *, connect_timeout: float = 5) -> None:
        import psycopg

        self.url = url
        self._psycopg = psycopg
        self._db = psycopg.connect(url, autocommit=True, connect_timeout=int(max(1, connect_timeout)))
        self._requests = _upsert("requests", REQUEST_COLUMNS, ("request_id",), "%s")
        self._attempts = _upsert("attempts", ATTEMPT_COLUMNS, ("request_id", "attempt_no"), "%s")
        self._connect_timeout = int(max(1, connect_timeout))
        self._reads: Any = None
        self.migrate()

    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied (serialised by an advisory lock)."""
        applied = []
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(7411)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS modelrouter_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ DEFAULT now())"
            )
            done = {row[0] for row in self._db.execute("SELECT version FROM modelrouter_migrations")}
            for number, name, sql in migrations(self.dialect):
                if number not in done:
                    for statement in _statements(sql):
                        self._db.execute(statement.encode())
                    self._db.execute(
                        "INSERT INTO modelrouter_migrations (version, name) VALUES (%s, %s)", (number, name)
                    )
                    applied.append(name)
        return applied

    def apply(self, requests: Sequence[dict[str, Any]], attempts: Sequence[dict[str, Any]]) -> None:
        """Upsert a batch in one transaction."""
        with self._db.transaction(), self._db.cursor() as cursor:
            if requests:
                cursor.executemany(self._requests, [_pg_values(r, REQUEST_DEFAULTS) for r in requests])
            if attempts:
                cursor.executemany(self._attempts, [_pg_values(a, ATTEMPT_DEFAULTS) for a in attempts])

    def reconcile(self, cutoff: str, now: str) -> int:
        """Requests left `started` by a dead gateway become `interrupted`."""
        cursor = self._db.execute(_RECONCILE.format(p="%s").encode(), (now, cutoff))
        return cursor.rowcount

    def interrupt_instance(self, instance_id: str, now: str) -> int:
        """A dead process's unfinished requests become `interrupted`."""
        return int(self._db.execute(_INTERRUPT.format(p="%s").encode(), (now, instance_id)).rowcount)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query (written with %s placeholders) on a connection of its own."""
        if self._reads is None or self._reads.closed:
            self._reads = self._psycopg.connect(
                self.url, autocommit=True, connect_timeout=self._connect_timeout
            )
        return list(self._reads.execute(sql.encode(), params).fetchall())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One writing statement (%s placeholders), autocommitted."""
        return int(self._db.execute(sql.encode(), params).rowcount)

    def close(self) -> None:
        """Close the connections."""
        self._db.close()
        if self._reads is not None:
            self._reads.close()


def _pg_safe(value: Any) -> Any:
    """A value PostgreSQL accepts: text and jsonb refuse NUL, so NUL becomes U+FFFD.

    A caller's NUL (in a model name, say) must not make a row that can never be written and
    would hold up every row after it.
    """
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_pg_safe(k): _pg_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pg_safe(v) for v in value]
    return value


def _pg_values(row: dict[str, Any], defaults: tuple[tuple[str, Any], ...]) -> tuple[Any, ...]:
    from psycopg.types.json import Jsonb

    values = []
    for column, default in defaults:
        value = _pg_safe(row.get(column, default))
        values.append(Jsonb(value) if column == "policy" and value is not None else value)
    return tuple(values)


def _statements(sql: str) -> Iterable[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def open_store(url: str) -> SQLiteStore | PostgresStore:
    """A store for the config's `store:` URL (sqlite:///path or postgresql://…)."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        # SQLAlchemy's convention: sqlite:///relative.db and sqlite:////absolute/path.db
        return SQLiteStore(Path(url[len("sqlite:///") :]))
    if scheme in ("postgresql", "postgres"):
        return PostgresStore(url)
    raise ConfigError(f"store must be sqlite:///PATH or postgresql://…, got {url!r}")
