"""Property tests of the policy engine against an independent reading of the catalog facts.

`satisfies` below restates each hard constraint from the facts directly (not through the
engine's compiled checks), so the engine is checked against a second implementation.
"""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from modelrouter.catalog.catalog import Catalog, Entry
from modelrouter.engine import Engine
from modelrouter.errors import BadRequest
from modelrouter.routing.policy import Policy
from modelrouter.routing.readiness import Readiness
from modelrouter.routing.select import Needs, Router
from tests.conftest import make_engine

ENGINE = make_engine()
TODAY = ENGINE.catalog.today
LIVE_MODELS = sorted(
    m for m, model in ENGINE.catalog.models.items() if model.lifecycle.effective(TODAY) != "retired"
)
PROVIDERS = sorted(ENGINE.catalog.providers)


def subsets(values: list[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(values), max_size=3)


def maybe(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | strategy


policies = st.builds(
    Policy,
    residency=maybe(subsets(["EU", "US", "APAC", "JP", "CN", "europe-west1", "us-east5", "global"])),
    jurisdiction_allow=maybe(subsets(["US", "IE", "CN", "US-CA", "US-TX"])),
    jurisdiction_deny=subsets(["US", "CN", "IE", "US-TX"]),
    max_retention_days=maybe(st.sampled_from([0, 7, 30, 55, 365])),
    no_training=st.booleans(),
    private_endpoint=st.booleans(),
    compliance=subsets(["SOC2", "ISO27001", "HIPAA", "ISO42001"]),
    max_price_input=maybe(
        st.sampled_from([Decimal("0.2"), Decimal(2), Decimal(3), Decimal("3.3"), Decimal(10)])
    ),
    max_price_output=maybe(st.sampled_from([Decimal(1), Decimal(15), Decimal(30)])),
    capabilities=subsets(["tools", "vision", "json_schema", "reasoning"]),
    lifecycle=maybe(subsets(["active", "legacy", "deprecated"])),
    only=maybe(subsets([*PROVIDERS, "amazon-bedrock", "google-vertex"])),
    ignore=subsets(PROVIDERS),
    sort=st.sampled_from([None, "price"]),
)


def _matches(code: str, wanted: frozenset[str]) -> bool:
    return any(code == w or code.startswith(w + "-") for w in wanted)


def satisfies(entry: Entry, policy: Policy) -> bool:
    """Every hard constraint, restated from the facts."""
    facts = entry.terms
    names = {entry.provider.id, *entry.provider.openrouter_slugs}
    laws = entry.jurisdiction.possible(None) if entry.jurisdiction else None
    price_in = entry.price.per_million("input") if entry.price else None
    price_out = entry.price.per_million("output") if entry.price else None
    conditions = [
        entry.lifecycle.effective(TODAY) != "retired",
        policy.lifecycle is None or entry.lifecycle.effective(TODAY) in policy.lifecycle,
        policy.only is None or bool(names & policy.only),
        not names & policy.ignore,
        policy.residency is None
        or (
            facts["residency"].value is not None
            and bool({facts["residency"].value, entry.offering.region} & policy.residency)
        ),
        policy.jurisdiction_allow is None
        or (laws is not None and all(_matches(c, policy.jurisdiction_allow) for c in laws)),
        not policy.jurisdiction_deny
        or (laws is not None and not any(_matches(c, policy.jurisdiction_deny) for c in laws)),
        policy.max_retention_days is None
        or (
            facts["retention_days"].value is not None
            and facts["retention_days"].value <= policy.max_retention_days
        ),
        not policy.no_training or facts["training"].value is False,
        not policy.private_endpoint or facts["private_endpoint"].value is True,
        not policy.compliance
        or (facts["compliance"].value is not None and policy.compliance <= set(facts["compliance"].value)),
        policy.max_price_input is None or (price_in is not None and price_in <= policy.max_price_input),
        policy.max_price_output is None or (price_out is not None and price_out <= policy.max_price_output),
        policy.capabilities <= entry.capabilities,
    ]
    return all(conditions)


def candidate_ids(engine: Engine, model: str, policy: Policy) -> list[str]:
    return [c.entry.id for c in engine.router.route(model, policy).candidates]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies, model=st.sampled_from(LIVE_MODELS))
def test_candidates_are_exactly_the_offerings_that_satisfy_every_constraint(
    policy: Policy, model: str
) -> None:
    decision = ENGINE.router.route(model, policy)
    for candidate in decision.candidates:
        assert satisfies(candidate.entry, policy), candidate.entry.id
    for rejection in decision.rejected:
        assert rejection.reasons
        assert not satisfies(rejection.entry, policy), (rejection.entry.id, rejection.reasons)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(first=policies, second=policies, model=st.sampled_from(LIVE_MODELS))
def test_tightening_never_adds_a_candidate(first: Policy, second: Policy, model: str) -> None:
    both = set(candidate_ids(ENGINE, model, first.tighten(second)))
    assert both <= set(candidate_ids(ENGINE, model, first))
    assert both <= set(candidate_ids(ENGINE, model, second))


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(first=policies, second=policies, model=st.sampled_from(LIVE_MODELS))
@example(
    Policy(residency=frozenset({"EU"})), Policy(residency=frozenset({"europe-west1"})), "claude-sonnet-4.5"
)
@example(
    Policy(residency=frozenset({"EU", "us-east5"})),
    Policy(residency=frozenset({"US", "europe-west1"})),
    "claude-sonnet-4.5",
)
@example(
    Policy(jurisdiction_allow=frozenset({"US"})), Policy(jurisdiction_allow=frozenset({"US-CA"})), "gpt-5.2"
)
@example(Policy(only=frozenset({"bedrock"})), Policy(only=frozenset({"amazon-bedrock"})), "claude-sonnet-4.5")
def test_tightening_keeps_exactly_what_both_accept(first: Policy, second: Policy, model: str) -> None:
    """The composition is the conjunction: an offering both layers accept survives.

    EU then europe-west1, US law then US-CA law, `bedrock` then OpenRouter's `amazon-bedrock`.
    """
    both = set(candidate_ids(ENGINE, model, first.tighten(second)))
    assert both == set(candidate_ids(ENGINE, model, first)) & set(candidate_ids(ENGINE, model, second))


@settings(max_examples=100)
@given(policy=policies, model=st.sampled_from(LIVE_MODELS), seed=st.integers(0, 2**32))
def test_order_is_deterministic_whatever_order_the_catalog_lists_things(
    policy: Policy, model: str, seed: int
) -> None:
    catalog = ENGINE.catalog
    providers = list(catalog.providers.values())
    random.Random(seed).shuffle(providers)
    shuffled = [
        p.model_copy(update={"offerings": tuple(random.Random(seed).sample(p.offerings, len(p.offerings)))})
        for p in providers
    ]
    other = Catalog(catalog.models.values(), shuffled, now=catalog.now)
    router = Router(other, Readiness(ENGINE.config, other.providers, {}))
    expected = candidate_ids(ENGINE, model, policy)
    assert [c.entry.id for c in router.route(model, policy).candidates] == expected
    assert candidate_ids(ENGINE, model, policy) == expected


@settings(max_examples=100)
@given(policy=policies, model=st.sampled_from(LIVE_MODELS), tokens=st.integers(0, 2_500_000))
def test_context_fit_only_ever_removes_candidates(policy: Policy, model: str, tokens: int) -> None:
    fitted = ENGINE.router.route(model, policy, Needs(input_tokens=tokens))
    assert {c.entry.id for c in fitted.candidates} <= set(candidate_ids(ENGINE, model, policy))
    for candidate in fitted.candidates:
        window = candidate.entry.context_window
        assert window is None or tokens <= window


@given(policies, policies)
def test_policies_hash_as_they_compare_and_the_cached_hash_never_goes_stale(a: Policy, b: Policy) -> None:
    """The hash is worked out once per policy; equal fields (whatever the names) hash alike."""
    renamed = dataclasses.replace(a, name="renamed")
    assert renamed == a and hash(renamed) == hash(a)
    tightened = a.tighten(b)
    assert hash(tightened) == hash(dataclasses.replace(tightened)) == hash(tightened)
    if a == b:
        assert hash(a) == hash(b)
    assert hash(a) == hash(tuple(getattr(a, f.name) for f in dataclasses.fields(a) if f.compare))


_NAMED = make_engine(
    "policies:\n  eu-private: {residency: [EU], training: false}\n  cheap: {max_price: {input: 3.2}}\n"
    "  zdr: {max_retention_days: 0}\ndefault_policy: cheap\n"
)


@given(st.lists(st.sampled_from([None, "eu-private", "cheap", "zdr"]), max_size=4))
def test_layers_of_names_give_what_tightening_them_one_by_one_gives(names: list[str | None]) -> None:
    """Layers of names are looked up as they come: the answer, name included, is the step-by-step one."""
    expected = _NAMED.default_policy
    for name in names:
        if name is not None:
            expected = expected.tighten(_NAMED.policies[name])
    for _ in range(2):  # computed, then found
        found = _NAMED.effective_policy(*names)
        assert found == expected and found.name == expected.name


def test_an_unknown_policy_name_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(BadRequest, match="unknown policy 'nope'"):
            _NAMED.effective_policy("cheap", "nope")
