"""Usage reports from the ledger: totals and groups by key, model, provider or day.

Sums are computed by the database over integer micro-USD, so a report's total equals the sum
of its records to the micro-dollar; `cost_usd` is the same figure in dollars for reading.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from modelrouter.errors import BadRequest
from modelrouter.ledger.rows import REQUEST_COLUMNS
from modelrouter.ledger.stores import PostgresStore, SQLiteStore

__all__ = ["GROUPS", "usage_report"]

GROUPS = ("key", "model", "provider", "day")
_SUMS = ", ".join(
    ["COUNT(*)", *(f"COALESCE(SUM({c}), 0)" for c in ("input_tokens", "output_tokens", "cost_micro_usd"))]
)


def _group_expression(group_by: str, db: SQLiteStore | PostgresStore) -> str:
    if group_by == "day":
        return (
            "substr(created_at, 1, 10)"
            if db.dialect == "sqlite"
            else "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        )
    return {"key": "key_id", "model": "COALESCE(model, requested_model)", "provider": "provider"}[group_by]


def _totals(row: tuple[Any, ...]) -> dict[str, Any]:
    requests, input_tokens, output_tokens, micro = (int(v or 0) for v in row)
    return {
        "requests": requests,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_micro_usd": micro,
        "cost_usd": float(Decimal(micro) / 1_000_000),
    }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="microseconds") if value else None


def usage_report(
    db: SQLiteStore | PostgresStore,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    group_by: str | None = None,
    key_names: dict[str, str] | None = None,
    records: bool = False,
) -> dict[str, Any]:
    """Totals (and groups, and records when asked) of the requests created in [since, until)."""
    if group_by is not None and group_by not in GROUPS:
        raise BadRequest(f"group by one of {', '.join(GROUPS)}, not {group_by!r}")
    p = db.placeholder
    where, params = ["1 = 1"], []
    if since is not None:
        where.append(f"created_at >= {p}")
        params.append(_iso(since))
    if until is not None:
        where.append(f"created_at < {p}")
        params.append(_iso(until))
    condition = " AND ".join(where)
    report: dict[str, Any] = {
        "since": _iso(since),
        "until": _iso(until),
        "totals": _totals(db.query(f"SELECT {_SUMS} FROM requests WHERE {condition}", params)[0]),
        "groups": [],
    }
    if group_by is not None:
        expression = _group_expression(group_by, db)
        rows = db.query(
            f"SELECT {expression} AS grp, {_SUMS} FROM requests WHERE {condition} GROUP BY grp ORDER BY grp",
            params,
        )
        for row in rows:
            group: dict[str, Any] = {group_by: row[0], **_totals(row[1:])}
            if group_by == "key" and key_names is not None:
                group["key_name"] = key_names.get(str(row[0])) if row[0] is not None else None
            report["groups"].append(group)
    if records:
        columns = ", ".join(REQUEST_COLUMNS)
        rows = db.query(
            f"SELECT {columns} FROM requests WHERE {condition} ORDER BY created_at, request_id", params
        )
        report["records"] = [
            {
                c: (v.isoformat() if isinstance(v, datetime) else v)
                for c, v in zip(REQUEST_COLUMNS, row, strict=True)
            }
            for row in rows
        ]
    return report
