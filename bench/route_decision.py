"""How long one routing decision takes with a large catalog (issue: under 50 µs warm).

Builds a synthetic catalog of 5,000 offerings (500 models x 10 offerings over the nine
bundled providers and their regions, with their real terms), then times `Router.route` for
a realistic policy (EU residency, no CN law, zero retention after an operator override,
tools needed, a context fit) in three situations:

* warm: the same (policy, model) again, the gateway's steady state;
* warm, rotating: 500 models x 4 policies, every combination already seen once;
* cold: first decision for a (policy, model) pair, i.e. compiling checks and judging offerings.

Run: .venv/bin/python bench/route_decision.py
"""

from __future__ import annotations

import itertools
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from modelrouter.catalog import Catalog, bundled_providers
from modelrouter.catalog.records import Fact, Model, Offering, PriceOverride
from modelrouter.config import Config
from modelrouter.routing.policy import Policy
from modelrouter.routing.readiness import Readiness
from modelrouter.routing.select import Decision, Needs, Router

MODELS = 500
PER_MODEL = 10
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def synthetic_catalog() -> Catalog:
    providers = bundled_providers()
    slots = [(p, region) for p in providers for region in p.regions]
    models = [
        Model(
            id=f"model-{i}", name=f"Model {i}", maker="bench", context_window=200_000 + 1000 * i, tools=True
        )
        for i in range(MODELS)
    ]
    offerings: dict[str, list[Offering]] = {p.id: [] for p in providers}
    for i, model in enumerate(models):
        for j in range(PER_MODEL):
            provider, region = slots[(i * 7 + j * 3) % len(slots)]
            variant = f"v{j}"
            price = PriceOverride(
                input=Decimal(1 + (i * j) % 9),
                output=Decimal(5 + (i + j) % 20),
                source="bench",
                as_of=NOW.date(),
            )
            offerings[provider.id].append(
                Offering(
                    model=model.id,
                    provider=provider.id,
                    provider_model=f"{model.id}-{j}",
                    region=region,
                    variant=variant,
                    price=price,
                )
            )
    zero = Fact(value=0, source="bench", as_of=NOW.date(), origin="operator")
    built = [
        p.model_copy(
            update={"offerings": tuple(offerings[p.id]), "terms": {**p.terms, "retention_days": zero}}
        )
        for p in providers
    ]
    return Catalog(models, built, now=NOW)


def per_call_us(
    route: Callable[[str, Policy, Needs], Decision],
    calls: list[tuple[str, Policy]],
    needs: Needs,
    repeat: int = 5,
) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for model, policy in calls:
            route(model, policy, needs)
        samples.append((time.perf_counter() - start) / len(calls) * 1e6)
    return samples


def main() -> None:
    started = time.perf_counter()
    catalog = synthetic_catalog()
    build_s = time.perf_counter() - started
    router = Router(catalog, Readiness(Config(), catalog.providers, {}))
    needs = Needs(input_tokens=12_000, max_tokens=4096, capabilities=frozenset({"tools"}))
    policies = [
        Policy.parse({"residency": ["EU"], "jurisdiction": {"deny": ["CN"]}, "max_retention_days": 0}),
        Policy.parse({"max_price": {"input": 4}, "training": False}),
        Policy.parse({"providers": {"only": ["bedrock", "vertex", "azure"]}, "sort": "price"}),
        Policy(),
    ]
    model_ids = [m.id for m in catalog.models.values()]
    decision = router.route(model_ids[0], policies[0], needs)

    cold_calls = list(itertools.product(model_ids, policies))
    start = time.perf_counter()
    for model, policy in cold_calls:
        router.route(model, policy, needs)
    cold_us = (time.perf_counter() - start) / len(cold_calls) * 1e6

    warm = per_call_us(router.route, [(model_ids[123], policies[0])] * 20_000, needs)
    rotating = per_call_us(router.route, cold_calls * 5, needs)

    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        f"catalog: {len(catalog.entries):,} offerings, {len(catalog.models)} models; built in {build_s:.2f} s"
    )
    print(f"example decision: {len(decision.candidates)} candidates, {len(decision.rejected)} rejected")
    print(f"warm, same policy and model:     {statistics.median(warm):6.1f} µs per decision (median of 5)")
    print(
        f"warm, 500 models x 4 policies:   {statistics.median(rotating):6.1f} µs per decision (median of 5)"
    )
    print(f"cold, first sight of each pair:  {cold_us:6.1f} µs per decision")


if __name__ == "__main__":
    main()
