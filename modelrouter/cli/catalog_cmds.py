"""`models`, `providers` and `prices`: the capabilities matrix, the terms matrix, the price guide."""

from __future__ import annotations

from typing import Any

import click

from modelrouter.catalog.catalog import Catalog, Entry
from modelrouter.catalog.records import TERM_NAMES, Fact, Model, Provider
from modelrouter.cli.output import CONFIG_OPTION, FORMAT_OPTION, console, emit_json, money, table
from modelrouter.engine import Engine

__all__ = ["models", "prices", "providers"]

PRICE_KINDS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")


def model_json(model: Model, catalog: Catalog) -> dict[str, Any]:
    """One row of `models --format json` (SPEC section 2)."""
    lifecycle = model.lifecycle
    return {
        "id": model.id,
        "name": model.name,
        "maker": model.maker,
        "aliases": list(model.aliases),
        "strengths": list(model.strengths),
        "context_window": model.context_window,
        "max_output": model.max_output,
        "modalities": list(model.modalities),
        "tools": model.tools,
        "reasoning": model.reasoning,
        "json_schema": model.json_schema,
        "lifecycle": {
            "status": lifecycle.effective(catalog.today),
            "declared": lifecycle.status,
            "retires_on": lifecycle.retires_on,
            "retired_on": lifecycle.retired_on,
            "replacement": lifecycle.replacement,
            "note": lifecycle.note,
            "source": lifecycle.source,
            "as_of": lifecycle.as_of,
            "confidence": lifecycle.confidence,
        },
        "providers": sorted({e.provider.id for e in catalog.by_model[model.id]}),
        "source": model.source,
        "as_of": model.as_of,
        "origin": model.origin,
    }


@click.command()
@FORMAT_OPTION
@CONFIG_OPTION
def models(output_format: str, config_file: str | None) -> None:
    """The capabilities matrix: every model, what it can do, and who sells it.

    \b
    Example usage:
      modelrouter models
      modelrouter models --format json | jq '.[] | select(.tools)'
    """
    catalog = Engine.load(config_file).catalog
    rows = [model_json(m, catalog) for m in catalog.models.values()]
    if output_format == "json":
        emit_json(rows)
        return

    def flag(value: bool | None) -> str:
        return {True: "yes", False: "no", None: "?"}[value]

    lines = [
        (
            r["id"],
            r["maker"],
            ", ".join(r["strengths"]),
            f"{r['context_window']:,}" if r["context_window"] else None,
            f"{r['max_output']:,}" if r["max_output"] else None,
            ", ".join(r["modalities"]),
            flag(r["tools"]),
            flag(r["reasoning"]),
            _lifecycle_cell(r["lifecycle"]),
            ", ".join(r["providers"]),
        )
        for r in rows
    ]
    columns = (
        "model",
        "maker",
        "strengths",
        "context",
        "max out",
        "input",
        "tools",
        "reasoning",
        "lifecycle",
    )
    console().print(
        table("Models", (*columns, "sold by"), lines, caption="? = not established from a source")
    )


def _lifecycle_cell(lifecycle: dict[str, Any]) -> str:
    status = str(lifecycle["status"])
    if lifecycle["retires_on"] and status != "retired":
        status += f" (retires {lifecycle['retires_on']})"
    if lifecycle["replacement"]:
        status += f" -> {lifecycle['replacement']}"
    return status


def fact_json(fact: Fact) -> dict[str, Any]:
    """A term as SPEC section 2 shows it: value, source, as-of date, confidence."""
    return {
        "value": fact.value,
        "source": fact.source,
        "as_of": fact.as_of,
        "confidence": fact.confidence,
        "note": fact.note,
        "origin": fact.origin,
    }


def provider_json(provider: Provider, engine: Engine) -> dict[str, Any]:
    """One row of `providers --format json` (SPEC section 2)."""
    return {
        "id": provider.id,
        "name": provider.name,
        "kind": provider.kind,
        "protocol": provider.protocol,
        "company": fact_json(provider.company),
        "terms": {name: fact_json(provider.term(name)) for name in TERM_NAMES},
        "regions": {
            name: {"geo": region.geo, "source": region.source, "note": region.note}
            for name, region in provider.regions.items()
        },
        "offerings": len(provider.offerings),
        "credentials": engine.readiness.has_credentials(provider.id),
        "origin": provider.origin,
        "source": provider.source,
        "as_of": provider.as_of,
    }


@click.command()
@FORMAT_OPTION
@CONFIG_OPTION
def providers(output_format: str, config_file: str | None) -> None:
    """The terms matrix: jurisdiction, retention, training, zero retention, residency, private networking.

    Every fact carries its source and as-of date (JSON); "?" marks what no source established,
    and the router treats that as not qualifying.

    \b
    Example usage:
      modelrouter providers
      modelrouter providers --format json | jq '.[] | {id, retention: .terms.retention_days}'
    """
    engine = Engine.load(config_file)
    rows = [provider_json(p, engine) for p in engine.catalog.providers.values()]
    if output_format == "json":
        emit_json(rows)
        return
    lines = [
        (r["id"], r["kind"], *(_term_cell(r["terms"][t]) for t in TERM_NAMES), r["offerings"]) for r in rows
    ]
    columns = ("provider", "kind", "jurisdiction", "retention (days)", "trains on API data", "zero retention")
    caption = "? = unknown (never qualifies for a policy); * = stated by the operator; sources: --format json"
    console().print(
        table(
            "Provider terms",
            (*columns, "residency", "private endpoint", "compliance", "offerings"),
            lines,
            caption=caption,
        )
    )


def _term_cell(term: dict[str, Any]) -> str:
    value = term["value"]
    mark = "*" if term["origin"] == "operator" else ""
    if value is None:
        return "?" + mark
    if isinstance(value, dict):
        by_value: dict[str, list[str]] = {}
        for customer, law in value.get("by_customer", {}).items():
            by_value.setdefault(law, []).append(customer)
        others = "; ".join(f"{law} for {', '.join(where)}" for law, where in by_value.items())
        return f"{value['default']}" + (f" ({others})" if others else "") + mark
    if isinstance(value, bool):
        return ("yes" if value else "no") + mark
    if isinstance(value, list):
        return (", ".join(value) or "none") + mark
    return f"{value}{mark}"


def price_json(entry: Entry) -> dict[str, Any]:
    """One row of `prices --format json` (SPEC section 2): USD per million tokens."""
    price = entry.price
    return {
        "model": entry.model.id,
        "provider": entry.provider.id,
        "offering": entry.id,
        "provider_model": entry.offering.provider_model,
        "region": entry.offering.region,
        "price": {kind: price.per_million(kind) if price else None for kind in PRICE_KINDS},
        "tiered": price.tiered if price else False,
        "source": price.source if price else None,
        "as_of": price.as_of if price else None,
        "origin": price.origin if price else None,
        "confidence": price.confidence if price else None,
        "note": price.note if price else None,
    }


@click.command()
@click.argument("model", required=False)
@FORMAT_OPTION
@CONFIG_OPTION
def prices(model: str | None, output_format: str, config_file: str | None) -> None:
    """The pricing guide: every offering's price per million tokens, cheapest input first.

    MODEL (a model id, alias or MODEL@PROVIDER pin) limits the guide to that model.

    \b
    Example usage:
      modelrouter prices
      modelrouter prices claude-sonnet-4.5 --format json
    """
    catalog = Engine.load(config_file).catalog
    entries = catalog.entries
    if model is not None:
        target = catalog.resolve(model)
        entries = [e for e in catalog.by_model[target.model.id] if target.admits(e)]
    ordered = sorted(entries, key=_price_order)
    if output_format == "json":
        emit_json([price_json(e) for e in ordered])
        return
    lines = [
        (
            e.model.id,
            e.provider.id,
            e.offering.region,
            *(money(e.price.per_million(k)) if e.price else "-" for k in PRICE_KINDS[:4]),
            ("tiers, " if e.price and e.price.tiered else "") + (e.price.origin if e.price else "unknown"),
        )
        for e in ordered
    ]
    columns = ("model", "provider", "region", "input", "output", "cache read", "cache write", "price from")
    console().print(
        table("Prices (USD per million tokens)", columns, lines, caption="tiers = higher rates above 200k")
    )


def _price_order(entry: Entry) -> tuple[Any, ...]:
    rate = entry.price.per_million("input") if entry.price else None
    out = entry.price.per_million("output") if entry.price else None
    return (rate is None, rate or 0, out or 0, entry.id)
