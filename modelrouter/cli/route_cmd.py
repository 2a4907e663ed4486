"""`route` explains a routing decision without sending anything; `check` says what is configured."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click

from modelrouter.cli.output import CONFIG_OPTION, FORMAT_OPTION, console, emit_json, money, table
from modelrouter.engine import Engine
from modelrouter.errors import BadRequest
from modelrouter.routing.policy import SORTS, Policy
from modelrouter.routing.select import Decision, Needs

__all__ = ["check", "parse_requirements", "route"]

LIST_KEYS = frozenset(
    {
        "residency",
        "compliance",
        "capabilities",
        "lifecycle",
        "jurisdiction.allow",
        "jurisdiction.deny",
        "providers.only",
        "providers.ignore",
        "providers.order",
    }
)


def parse_requirements(pairs: Iterable[str]) -> dict[str, Any]:
    """`KEY=VALUE` pairs as a policy mapping: dotted keys nest, list keys split on commas and add up.

    >>> parse_requirements(["jurisdiction.deny=CN", "residency=EU", "max_retention_days=0"])
    {'jurisdiction': {'deny': ['CN']}, 'residency': ['EU'], 'max_retention_days': '0'}
    """
    policy: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BadRequest(f"--require takes KEY=VALUE (e.g. residency=EU), got {pair!r}")
        *parents, leaf = key.split(".")
        node = policy
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise BadRequest(f"--require {key}: {part} is not a nested key")
            node = child
        if key in LIST_KEYS:
            node.setdefault(leaf, []).extend(v.strip() for v in value.split(",") if v.strip())
        else:
            node[leaf] = value.strip()
    return policy


@click.command()
@click.argument("model")
@click.option("--policy", "policy_name", help="A policy named in the config's `policies`.")
@click.option(
    "--require", "requirements", multiple=True, metavar="KEY=VALUE", help="A policy key (repeatable)."
)
@click.option(
    "--sort", type=click.Choice(SORTS), help="Order the candidates by price, latency or throughput."
)
@click.option(
    "--input-tokens", type=click.IntRange(min=0), help="Prompt size, to check context fit and tiers."
)
@click.option("--max-tokens", type=click.IntRange(min=1), help="Output budget, counted in the context fit.")
@FORMAT_OPTION
@CONFIG_OPTION
def route(
    model: str,
    policy_name: str | None,
    requirements: tuple[str, ...],
    sort: str | None,
    input_tokens: int | None,
    max_tokens: int | None,
    output_format: str,
    config_file: str | None,
) -> None:
    """Explain how a request for MODEL would be routed; nothing is sent.

    Shows the candidates in the order the gateway would try them (and whether each is ready:
    credentials, enabled region) and every rejected offering with its reasons. --require takes
    the policy keys of SPEC section 4; dotted keys reach nested values and list values may be
    comma-separated.

    \b
    Example usage:
      modelrouter route claude-sonnet-4.5 --require residency=EU
      modelrouter route gpt-5.2 --require jurisdiction.deny=CN --require max_retention_days=0
      modelrouter route claude-sonnet-4.5@bedrock --input-tokens 250000 --format json
    """
    engine = Engine.load(config_file)
    inline = parse_requirements(requirements)
    if sort:
        inline["sort"] = sort
    request_policy = Policy.parse(inline, name="--require") if inline else None
    decision = engine.route(model, policy_name, request_policy, needs=Needs(input_tokens, max_tokens))
    if output_format == "json":
        emit_json(decision.to_json())
        return
    _print_decision(decision)


def _print_decision(decision: Decision) -> None:
    out = console()
    heading = decision.model.id
    if decision.substituted_from:
        heading = f"{decision.substituted_from} -> {decision.model.id} (retired, answered by its replacement)"
    policy = decision.policy.describe()
    out.print(f"[bold]{heading}[/bold]  policy: {policy or 'none'}  order: {decision.sort}")
    lines = [
        (
            str(i),
            c.entry.id,
            c.entry.offering.provider_model,
            money(c.entry.price.per_million("input")) if c.entry.price else "-",
            money(c.entry.price.per_million("output")) if c.entry.price else "-",
            "yes" if c.ready else "no: " + "; ".join(c.not_ready),
        )
        for i, c in enumerate(decision.candidates, 1)
    ]
    out.print(
        table(
            "Candidates, in the order they would be tried",
            ("#", "offering", "provider model", "input", "output", "ready"),
            lines,
        )
    )
    rejected = [(r.entry.id, "; ".join(r.reasons)) for r in decision.rejected]
    if rejected:
        out.print(table("Rejected", ("offering", "reasons"), rejected))
    for note in decision.notes:
        out.print(f"note: {note}")


@click.command()
@FORMAT_OPTION
@CONFIG_OPTION
def check(output_format: str, config_file: str | None) -> None:
    """Which providers have credentials and which policies can be met with them.

    \b
    Example usage:
      modelrouter check
      modelrouter check --config modelrouter.yaml --format json
    """
    engine = Engine.load(config_file)
    report = check_report(engine)
    if output_format == "json":
        emit_json(report)
        return
    out = console()
    out.print(f"config: {report['config'] or 'none (embedded defaults)'}")
    lines = [(p["id"], "yes" if p["credentials"] else "no", p["hint"] or "") for p in report["providers"]]
    out.print(table("Providers", ("provider", "credentials", "how to add them"), lines))
    plines = [
        (p["name"], "yes" if p["met"] else "no", ", ".join(p["ready_models"]) or "-")
        for p in report["policies"]
    ]
    out.print(table("Policies", ("policy", "can be met", "models it can serve now"), plines))


def check_report(engine: Engine) -> dict[str, Any]:
    """The `check` findings as data."""
    providers = [
        {"id": p, "credentials": engine.readiness.has_credentials(p), "hint": engine.readiness.missing.get(p)}
        for p in engine.catalog.providers
    ]
    named = {"(default)": engine.default_policy, **engine.policies}
    policies = []
    for name, policy in named.items():
        ready = []
        for model in engine.catalog.models.values():
            try:
                decision = engine.router.route(model.id, policy)
            except BadRequest:
                continue
            if decision.attempt_order and decision.model.id == model.id:
                ready.append(model.id)
        policies.append(
            {"name": name, "policy": policy.describe(), "met": bool(ready), "ready_models": ready}
        )
    return {"config": engine.config.source, "providers": providers, "policies": policies}
