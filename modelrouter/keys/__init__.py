"""Virtual keys: shown once when created, stored only as a keyed hash, scoped and budgeted.

A key is `mr-` followed by 32 random URL-safe characters. The database keeps its HMAC-SHA256
under a secret that is `server.key_secret` when configured (keep it outside the database,
and the same on every instance), else one generated on first use and kept in the store's
`modelrouter_settings` table, so every instance sharing the store agrees. Keys live in the
ledger's store (SQLite by default, PostgreSQL when shared), beside the spend they are held to.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from modelrouter.errors import BadRequest
from modelrouter.ids import uuid7
from modelrouter.ledger.stores import PostgresStore, SQLiteStore, open_store

__all__ = ["PERIODS", "KeyRecord", "KeySpec", "KeyStore", "period_start"]

KEY_PREFIX = "mr-"
SHOWN_PREFIX = 10
"""How many leading characters of a key lists show (`mr-` and 7 more): enough to tell keys apart."""
PERIODS = ("day", "week", "month", "total")
_COLUMNS = (
    "key_id, name, prefix, policy, models, providers, budget_micro_usd, budget_period, rpm, tpm, "
    "created_at, expires_at, revoked_at"
)


def period_start(period: str | None, now: datetime) -> datetime:
    """Where the current budget period began (UTC calendar day, ISO week, month; `total`: ever)."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return datetime(1970, 1, 1, tzinfo=UTC)


def period_end(period: str | None, now: datetime) -> datetime | None:
    """When the current budget period ends (None for `total`)."""
    start = period_start(period, now)
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    if period == "month":
        return (start + timedelta(days=32)).replace(day=1)
    return None


@dataclass(frozen=True)
class KeySpec:
    """What a key may do: its policy, models, providers, budget and rates (None: no limit)."""

    name: str
    policy: str | dict[str, Any] | None = None
    models: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    budget_micro_usd: int | None = None
    budget_period: str | None = None
    rpm: int | None = None
    tpm: int | None = None
    expires_at: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise BadRequest("a key needs a name")
        if self.budget_period is not None and self.budget_period not in PERIODS:
            raise BadRequest(f"budget period must be one of {', '.join(PERIODS)}, not {self.budget_period!r}")
        for label, value in (("budget", self.budget_micro_usd), ("rpm", self.rpm), ("tpm", self.tpm)):
            if value is not None and value < 0:
                raise BadRequest(f"{label} cannot be negative")


@dataclass(frozen=True)
class KeyRecord(KeySpec):
    """A stored key (never the key itself)."""

    key_id: str = ""
    prefix: str = ""
    created_at: str = ""
    revoked_at: str | None = None

    def refusal(self, now: datetime | None = None) -> str | None:
        """Why this key cannot be used at `now`, or None.

        `now` defaults to the clock, read only for a key that can expire (a check per request).
        """
        if self.revoked_at:
            return f"key {self.prefix}… was revoked at {self.revoked_at}"
        if self.expires_at and datetime.fromisoformat(self.expires_at) <= (now or datetime.now(UTC)):
            return f"key {self.prefix}… expired at {self.expires_at}"
        return None

    def to_json(self) -> dict[str, Any]:
        """The key's public description (no hash, no secret)."""
        data = asdict(self)
        data["models"], data["providers"] = list(self.models), list(self.providers)
        data["budget_usd"] = None if self.budget_micro_usd is None else self.budget_micro_usd / 1_000_000
        return data


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return str(value)


def _json(value: Any) -> Any:
    if value is None or not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


class KeyStore:
    """Create, find, list and revoke keys in the ledger's store."""

    def __init__(self, store_url: str, *, secret: str | None = None) -> None:
        self.db: SQLiteStore | PostgresStore = open_store(store_url)
        self._p = self.db.placeholder
        self._secret = (secret or self._stored_secret()).encode()
        self.secret = self._secret.decode()
        """The key-hashing secret (the gateway keeps it out of its logs and answers)."""

    def close(self) -> None:
        """Release the database connection."""
        self.db.close()

    def _sql(self, text: str) -> str:
        return text.replace("?", self._p)

    def _stored_secret(self) -> str:
        """The shared hashing secret, generated by whichever instance needs it first."""
        generated = secrets.token_urlsafe(32)
        self.db.execute(
            self._sql(
                "INSERT INTO modelrouter_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"
            ),
            ("key_hash_secret", generated),
        )
        rows = self.db.query(
            self._sql("SELECT value FROM modelrouter_settings WHERE name = ?"), ("key_hash_secret",)
        )
        return str(rows[0][0])

    def hash(self, key: str) -> str:
        """The keyed hash stored for `key`."""
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()

    def _encode(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(self.db, PostgresStore):
            from psycopg.types.json import Jsonb

            return Jsonb(value)
        return orjson.dumps(value).decode()

    def create(self, spec: KeySpec, now: datetime | None = None) -> tuple[str, KeyRecord]:
        """Store a new key; returns the key (show it once, it cannot be recovered) and its record."""
        now = now or datetime.now(UTC)
        key = KEY_PREFIX + secrets.token_urlsafe(24)
        record = KeyRecord(
            **asdict(spec) | {"models": tuple(spec.models), "providers": tuple(spec.providers)},
            key_id=uuid7(),
            prefix=key[:SHOWN_PREFIX],
            created_at=_iso(now) or "",
        )
        self.db.execute(
            self._sql(f"INSERT INTO api_keys ({_COLUMNS}, key_hash) VALUES ({', '.join(['?'] * 14)})"),
            (
                record.key_id,
                record.name,
                record.prefix,
                self._encode(record.policy),
                self._encode(list(record.models)) if record.models else None,
                self._encode(list(record.providers)) if record.providers else None,
                record.budget_micro_usd,
                record.budget_period,
                record.rpm,
                record.tpm,
                record.created_at,
                record.expires_at,
                None,
                self.hash(key),
            ),
        )
        return key, record

    def _record(self, row: Sequence[Any]) -> KeyRecord:
        (
            key_id,
            name,
            prefix,
            policy,
            models,
            providers,
            budget,
            period,
            rpm,
            tpm,
            created,
            expires,
            revoked,
        ) = row
        return KeyRecord(
            name=name,
            policy=_json(policy),
            models=tuple(_json(models) or ()),
            providers=tuple(_json(providers) or ()),
            budget_micro_usd=budget,
            budget_period=period,
            rpm=rpm,
            tpm=tpm,
            expires_at=_iso(expires),
            key_id=key_id,
            prefix=prefix,
            created_at=_iso(created) or "",
            revoked_at=_iso(revoked),
        )

    def lookup(self, key: str) -> KeyRecord | None:
        """The record of a presented key (revoked and expired ones included), or None."""
        rows = self.db.query(
            self._sql(f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = ?"), (self.hash(key),)
        )
        return self._record(rows[0]) if rows else None

    def all(self) -> list[KeyRecord]:
        """Every key, oldest first."""
        return [
            self._record(r)
            for r in self.db.query(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, key_id")
        ]

    def count_usable(self, now: datetime | None = None) -> int:
        """How many keys are neither revoked nor expired."""
        now = now or datetime.now(UTC)
        return sum(1 for record in self.all() if record.refusal(now) is None)

    def find(self, ref: str) -> KeyRecord:
        """A key by id, name or shown prefix; `BadRequest` when none or several match."""
        found = [r for r in self.all() if ref in (r.key_id, r.name, r.prefix)]
        if len(found) != 1:
            what = "no key" if not found else f"{len(found)} keys"
            raise BadRequest(f"{what} with id, name or prefix {ref!r}; `modelrouter keys list` shows them")
        return found[0]

    def revoke(self, ref: str, now: datetime | None = None) -> KeyRecord:
        """Revoke a key (idempotent); every instance refuses it once its cache expires."""
        record = self.find(ref)
        if record.revoked_at is None:
            when = _iso(now or datetime.now(UTC))
            self.db.execute(
                self._sql("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?"), (when, record.key_id)
            )
        return self.find(record.key_id)

    def spent_micro_usd(self, key_id: str, since: datetime) -> int:
        """What the ledger has recorded for this key since `since`, in micro-USD."""
        rows = self.db.query(
            self._sql(
                "SELECT COALESCE(SUM(cost_micro_usd), 0) FROM requests WHERE key_id = ? AND created_at >= ?"
            ),
            (key_id, _iso(since)),
        )
        return int(rows[0][0] or 0)
