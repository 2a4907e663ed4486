"""`modelrouter keys` and `modelrouter usage`: virtual keys and spend, straight from the store."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from modelrouter.cli.output import CONFIG_OPTION, FORMAT_OPTION, console, emit_json, table
from modelrouter.config import Config, load_config, resolve
from modelrouter.keys import PERIODS, KeyStore, period_start
from modelrouter.keys.fields import describe, key_spec, parse_when
from modelrouter.ledger.usage import GROUPS, usage_report

__all__ = ["keys", "open_keys", "usage"]


def open_keys(config: Config) -> KeyStore:
    """The key store of the configured ledger store."""
    return KeyStore(config.store, secret=resolve(config.server.key_secret))


@click.group()
def keys() -> None:
    """Virtual keys: create (shown once), list, revoke."""


@keys.command("create")
@CONFIG_OPTION
@click.option("--name", required=True, help="A name to recognise the key by.")
@click.option("--policy", help="A policy name from the config, or an inline JSON policy.")
@click.option(
    "--models", multiple=True, help="Models the key may use (repeat or comma-separate; default all)."
)
@click.option("--providers", multiple=True, help="Providers the key may reach (default all).")
@click.option("--budget-usd", help="Spend allowed per budget period, in USD.")
@click.option("--budget-period", type=click.Choice(PERIODS), default="month", show_default=True)
@click.option("--rpm", type=click.IntRange(min=1), help="Requests per minute.")
@click.option("--tpm", type=click.IntRange(min=1), help="Tokens (input and output) per minute.")
@click.option("--expires", help="When the key stops working: an ISO date/time or a span like 90d.")
@FORMAT_OPTION
def create(
    config_file: str | None,
    name: str,
    policy: str | None,
    models: tuple[str, ...],
    providers: tuple[str, ...],
    budget_usd: str | None,
    budget_period: str,
    rpm: int | None,
    tpm: int | None,
    expires: str | None,
    output_format: str,
) -> None:
    """Create a key and print it once: only its keyed hash is stored.

    \b
    Example usage:
      modelrouter keys create --name ci --models gpt-5.2 --budget-usd 20 --rpm 60
      modelrouter keys create --name eu-team --policy eu-private --expires 90d
    """
    config = load_config(config_file)
    fields = {
        "name": name,
        "policy": policy,
        "models": models,
        "providers": providers,
        "rpm": rpm,
        "tpm": tpm,
    }
    fields |= {"budget_usd": budget_usd, "budget_period": budget_period, "expires": expires}
    spec = key_spec(config, fields)
    store = open_keys(config)
    try:
        key, record = store.create(spec)
    finally:
        store.close()
    if output_format == "json":
        emit_json({"key": key, **record.to_json()})
        return
    click.echo(key)
    click.echo(f"key {record.prefix}… ({record.name}) created; this is the only time it is shown", err=True)


@keys.command("list")
@CONFIG_OPTION
@FORMAT_OPTION
def list_keys(config_file: str | None, output_format: str) -> None:
    """Every key: prefix, scope, spend in its budget period, budget and status.

    \b
    Example usage:
      modelrouter keys list
      modelrouter keys list --format json
    """
    config = load_config(config_file)
    store = open_keys(config)
    now = datetime.now(UTC)
    try:
        rows = [
            describe(r, store.spent_micro_usd(r.key_id, period_start(r.budget_period, now)), now)
            for r in store.all()
        ]
    finally:
        store.close()
    if output_format == "json":
        emit_json(rows)
        return
    columns = [
        "prefix",
        "name",
        "status",
        "policy",
        "models",
        "providers",
        "spent",
        "budget",
        "rpm",
        "tpm",
        "expires",
    ]
    cells = [
        [
            r["prefix"] + "…",
            r["name"],
            r["status"],
            r["policy"],
            ", ".join(r["models"]) or "all",
            ", ".join(r["providers"]) or "all",
            f"${r['spent_usd']:.4f}",
            f"${r['budget_usd']:g}/{r['budget_period']}" if r["budget_usd"] is not None else None,
            r["rpm"],
            r["tpm"],
            r["expires_at"],
        ]
        for r in rows
    ]
    console().print(table("Virtual keys", columns, cells))


@keys.command("revoke")
@CONFIG_OPTION
@click.argument("ref")
def revoke(config_file: str | None, ref: str) -> None:
    """Revoke the key with this id, name or prefix; every gateway refuses it within seconds.

    \b
    Example usage:
      modelrouter keys revoke mr-AbC1234
    """
    store = open_keys(load_config(config_file))
    try:
        record = store.revoke(ref)
    finally:
        store.close()
    click.echo(f"key {record.prefix}… ({record.name}) revoked at {record.revoked_at}")


@click.command()
@CONFIG_OPTION
@click.option("--since", help="From this ISO date/time (UTC unless it says otherwise).")
@click.option("--until", help="Up to (not including) this ISO date/time.")
@click.option("--group-by", type=click.Choice(GROUPS), help="One line per key, model, provider or day.")
@click.option("--records", is_flag=True, help="Also list every request record (JSON only).")
@FORMAT_OPTION
def usage(
    config_file: str | None,
    since: str | None,
    until: str | None,
    group_by: str | None,
    records: bool,
    output_format: str,
) -> None:
    """Requests, tokens and spend from the ledger; totals equal the records to the micro-dollar.

    \b
    Example usage:
      modelrouter usage --since 2026-11-01 --group-by model
      modelrouter usage --group-by key --format json
    """
    config = load_config(config_file)
    store = open_keys(config)
    try:
        names = {r.key_id: r.name for r in store.all()}
        report = usage_report(
            store.db,
            since=parse_when(since),
            until=parse_when(until),
            group_by=group_by,
            key_names=names,
            records=records,
        )
    finally:
        store.close()
    if output_format == "json" or records:
        emit_json(report)
        return
    totals = report["totals"]
    rows = (
        [
            [
                g.get("key_name") or g[group_by] if group_by == "key" else g[group_by],
                g["requests"],
                g["input_tokens"],
                g["output_tokens"],
                f"${g['cost_usd']:.6f}",
            ]
            for g in report["groups"]
        ]
        if group_by
        else []
    )
    rows.append(
        [
            "total",
            totals["requests"],
            totals["input_tokens"],
            totals["output_tokens"],
            f"${totals['cost_usd']:.6f}",
        ]
    )
    console().print(
        table("Usage", [group_by or "", "requests", "input tokens", "output tokens", "cost"], rows)
    )
